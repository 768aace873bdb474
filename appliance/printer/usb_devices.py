"""Stable names for USB printers: ``usb://Brother/PT-P700?serial=XXXX`` → the ``/dev/usb/lpN`` behind it.

The kernel numbers ``lp`` nodes in plug order, so ``/dev/usb/lp0`` is another printer once a second one
is plugged in first. Each node's IEEE 1284 device id (``MFG:Brother;MDL:PT-P700;SN:…;``) is in sysfs at
``/sys/class/usbmisc/lpN/device/ieee1284_id``, its device name in ``lpN/uevent`` (``DEVNAME=usb/lp0``).
Resolution reads them again on every open, so a re-plugged printer is found under its new number.

Tests and the virtual printer point the two roots elsewhere with ``APPLIANCE_USB_SYSFS`` (for
``/sys/class/usbmisc``) and ``APPLIANCE_USB_DEV`` (for ``/dev``): nothing is ever written to /sys.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["DEV_ENV", "SYSFS_ENV", "UsbNode", "UsbSelector", "UsbUriError", "device_id_fields", "list_nodes",
           "parse_usb_uri", "resolve"]  # fmt: skip

SYSFS_ENV = "APPLIANCE_USB_SYSFS"
DEV_ENV = "APPLIANCE_USB_DEV"
SYSFS_DEFAULT = "/sys/class/usbmisc"
DEV_DEFAULT = "/dev"


class UsbUriError(ValueError):
    """A usb:// URI that names neither a device path nor a printer."""


class ResolveError(LookupError):
    """No node, or more than one, matches a selector. ``ambiguous``: a person must add ?serial=."""

    def __init__(self, message: str, *, ambiguous: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.ambiguous = ambiguous


def device_id_fields(text: str) -> dict[str, str]:
    """``MFG:Brother;MDL:PT-P700;SN:X;`` → {"MFG": "Brother", ...}; the long key names (MANUFACTURER,
    MODEL, SERIALNUMBER) some printers use are folded into the short ones."""
    long_names = {"MANUFACTURER": "MFG", "MODEL": "MDL", "SERIALNUMBER": "SN", "SERN": "SN", "COMMAND SET": "CMD"}
    fields: dict[str, str] = {}
    for part in text.strip().strip("\x00").split(";"):
        key, sep, value = part.partition(":")
        key = key.strip().upper()
        if sep and key:
            fields[long_names.get(key, key)] = value.strip()
    return fields


@dataclass(frozen=True, slots=True)
class UsbSelector:
    """Which printer a ``usb://MAKER/MODEL[?serial=SN]`` URI means."""

    maker: str
    model: str
    serial: str | None = None

    def matches(self, fields: dict[str, str]) -> bool:
        if fields.get("MFG", "").casefold() != self.maker.casefold():
            return False
        if fields.get("MDL", "").casefold() != self.model.casefold():
            return False
        return self.serial is None or fields.get("SN", "") == self.serial

    def __str__(self) -> str:
        return f"usb://{self.maker}/{self.model}" + (f"?serial={self.serial}" if self.serial else "")


def parse_usb_uri(uri: str) -> str | UsbSelector:
    """``usb:///dev/usb/lp0`` → the path; ``usb://Brother/PT-P700?serial=X`` → a selector."""
    parts = urlsplit(uri)
    if parts.scheme.lower() != "usb":
        raise UsbUriError(f"{uri!r}: not a usb:// URI")
    if not parts.netloc:
        if not parts.path.startswith("/") or parts.query:
            raise UsbUriError(f"{uri!r}: write an absolute path after three slashes, like usb:///dev/usb/lp0")
        return parts.path
    model = unquote(parts.path.strip("/"))
    if not model or "/" in model:
        raise UsbUriError(f"{uri!r}: write a device path after three slashes, like usb:///dev/usb/lp0, or name "
                          "the printer as usb://MAKER/MODEL?serial=SERIAL, like usb://Brother/PT-P700?serial=E7Z123456")
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - {"serial"})
    if unknown:
        raise UsbUriError(f"{uri!r}: unknown parameter {unknown[0]!r}; only ?serial= is understood")
    serials = query.get("serial", [])
    if len(serials) > 1 or (serials and not serials[0].strip()):
        raise UsbUriError(f"{uri!r}: give one non-empty serial, like ?serial=E7Z123456")
    return UsbSelector(unquote(parts.netloc), model, serials[0].strip() if serials else None)


@dataclass(frozen=True, slots=True)
class UsbNode:
    """One ``lp`` node the kernel (or its stand-in) lists."""

    name: str
    path: Path
    device_id: str

    @property
    def fields(self) -> dict[str, str]:
        return device_id_fields(self.device_id)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="latin-1")
    except OSError:
        return None


def list_nodes(sysfs: str | Path | None = None, dev: str | Path | None = None) -> list[UsbNode]:
    """Every ``lp`` node with a readable 1284 id, by name (lp0, lp1, …)."""
    sys_root = Path(sysfs or os.environ.get(SYSFS_ENV) or SYSFS_DEFAULT)
    dev_root = Path(dev or os.environ.get(DEV_ENV) or DEV_DEFAULT)
    try:
        entries = sorted(os.listdir(sys_root))
    except OSError:
        return []
    nodes: list[UsbNode] = []
    for name in entries:
        if not name.startswith("lp"):
            continue
        device_id = _read(sys_root / name / "device" / "ieee1284_id")
        if device_id is None:
            continue
        devname = f"usb/{name}"
        for line in (_read(sys_root / name / "uevent") or "").splitlines():
            key, _, value = line.partition("=")
            if key == "DEVNAME" and value.strip():
                devname = value.strip()
        nodes.append(UsbNode(name, dev_root / devname.lstrip("/"), device_id.strip()))
    return nodes


def resolve(selector: UsbSelector, sysfs: str | Path | None = None, dev: str | Path | None = None) -> UsbNode:
    """The one node whose 1284 id matches; :class:`ResolveError` when none or several do."""
    nodes = list_nodes(sysfs, dev)
    found = [node for node in nodes if selector.matches(node.fields)]
    if len(found) == 1:
        return found[0]
    if not found:
        seen = ", ".join(f"{n.name}: {n.fields.get('MDL', '?')} SN {n.fields.get('SN', '?')}" for n in nodes)
        return_hint = f" (plugged in: {seen})" if seen else " (no USB printer is plugged in)"
        raise ResolveError(f"{selector}: no such printer plugged in{return_hint}")
    serials = ", ".join(n.fields.get("SN", "?") for n in found)
    raise ResolveError(f"{selector}: {len(found)} such printers are plugged in (serials {serials}); add "
                       "?serial=… to name one", ambiguous=True)  # fmt: skip
