"""USB discovery: /dev/usb/lp* printers named by their IEEE 1284 device id.

The id comes from sysfs (`/sys/class/usbmisc/lpN/device/ieee1284_id`, read by
appliance/printer/usb_devices.py, which the queue resolves `usb://Brother/MODEL?serial=` URIs
with), else from the printer itself with the LPIOC_GET_DEVICE_ID ioctl (its first two bytes are
the length, big-endian). `root` lets tests lay out a pretend /dev and /sys in a temp directory;
the resolver's hooks (APPLIANCE_USB_SYSFS, APPLIANCE_USB_DEV) move the real ones.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from ..printer.usb_devices import DEV_DEFAULT, DEV_ENV, device_id_fields, list_nodes
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


def _nodes(root: Path) -> list[tuple[str, Path, str | None]]:
    """(name, device path, 1284 id) of every lp node: the ids from sysfs as the queue's resolver reads them
    (printer/usb_devices.py: one walker, one set of test hooks), else asked of the device (ioctl)."""
    real = root == Path("/")  # the system's own roots, or where APPLIANCE_USB_SYSFS/APPLIANCE_USB_DEV point
    sysfs, dev = (None, None) if real else (root / "sys/class/usbmisc", root / "dev")
    nodes = {node.name: (node.name, node.path, node.device_id) for node in list_nodes(sysfs, dev)}
    dev_root = Path(os.environ.get(DEV_ENV) or DEV_DEFAULT) if real else root / "dev"
    for device in (dev_root / "usb").glob("lp*"):
        if device.name not in nodes:
            nodes[device.name] = (device.name, device, id_from_ioctl(device))
    return [nodes[name] for name in sorted(nodes)]


def scan(root: Path = Path("/")) -> list[Candidate]:
    """Every /dev/usb/lp* whose 1284 id names a Brother PT/QL printer. `root` other than / lays out a
    pretend /dev and /sys (tests)."""
    found: list[Candidate] = []
    for name, path, text in _nodes(root):
        if not text:
            continue
        fields = device_id_fields(text)
        if "brother" not in fields.get("MFG", "").lower():
            continue
        model = brother_model(fields.get("MDL"), None)
        if model is None:
            continue
        serial = fields.get("SN") or None
        by_path = f"usb://{path}" if root == Path("/") else f"usb:///dev/usb/{name}"
        uri = usb_uri(model.name, serial) if serial else by_path
        found.append(Candidate(model=model.name, uri=uri, found_by={"usb"}, serial=serial, family=model.family,
                               other_uris=[by_path] if uri != by_path else []))
    return found
