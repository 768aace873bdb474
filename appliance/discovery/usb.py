"""USB discovery: /dev/usb/lp* printers named by their IEEE 1284 device id.

The id comes from sysfs (`/sys/class/usbmisc/lpN/device/ieee1284_id`), else from the printer
itself with the LPIOC_GET_DEVICE_ID ioctl (its first two bytes are the length, big-endian).
`root` lets tests lay out a pretend /dev and /sys in a temp directory.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from ..printer.snmp import parse_device_id
from .candidate import Candidate, brother_model, usb_uri

_IOC_READ = 2


def lpioc_get_device_id(length: int) -> int:
    """_IOC(_IOC_READ, 'P', 1, length), as linux/usb/lp.h defines LPIOC_GET_DEVICE_ID."""
    return (_IOC_READ << 30) | (length << 16) | (ord("P") << 8) | 1


def id_from_ioctl(device: Path) -> str | None:
    buffer = bytearray(1024)
    try:
        fd = os.open(device, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        fcntl.ioctl(fd, lpioc_get_device_id(len(buffer)), buffer)
    except OSError:
        return None
    finally:
        os.close(fd)
    length = int.from_bytes(buffer[:2], "big")
    return bytes(buffer[2:max(2, min(length, len(buffer)))]).decode("latin-1", errors="replace") or None


def device_id_of(device: Path, root: Path) -> str | None:
    sysfs = root / "sys/class/usbmisc" / device.name / "device/ieee1284_id"
    with contextlib.suppress(OSError):
        text = sysfs.read_text(errors="replace").strip()
        if text:
            return text
    return id_from_ioctl(device)


def scan(root: Path = Path("/")) -> list[Candidate]:
    """Every /dev/usb/lp* whose 1284 id names a Brother PT/QL printer."""
    found: list[Candidate] = []
    for device in sorted((root / "dev/usb").glob("lp*")):
        text = device_id_of(device, root)
        if not text:
            continue
        fields = parse_device_id(text)
        if "brother" not in (fields.get("MFG") or fields.get("MANUFACTURER") or "").lower():
            continue
        model = brother_model(fields.get("MDL"), fields.get("MODEL"))
        if model is None:
            continue
        serial = fields.get("SN") or fields.get("SERN") or None
        by_path = f"usb:///dev/usb/{device.name}"
        uri = usb_uri(model.name, serial) if serial else by_path
        found.append(Candidate(model=model.name, uri=uri, found_by={"usb"}, serial=serial, family=model.family,
                               other_uris=[by_path] if uri != by_path else []))
    return found
