"""The virtual printer's USB port: a pseudo-terminal in raw mode standing in for ``/dev/usb/lpN``.

The pty's far end is linked at PATH, so the appliance opens it as it would the kernel's usblp node:
raster goes in (cut into jobs as on TCP, printed by the same engine); status blocks come out as a
real printer sends them on USB (PROTOCOL.md, "Status on USB"): the reply to ``ESC i S``, and unasked
"printing completed" per page, "error occurred", notifications (cover opened/closed, cooling) and
phase changes (receiving ↔ printing). A job that switches automatic notifications off
(``ESC i ! 01``) gets replies only.

Knobs beyond the printer's (through the control endpoint's ``sim.set``):
  ``unplugged``: PATH (and the sysfs entry) disappear; an open device reads EOF and fails writes
  with EIO, as a pulled cable does; the printer itself goes on printing what it has, and what it
  says meanwhile is lost. Plugging back makes a new pty at PATH.
  ``answers_status``: false makes a printer that never says anything on USB.
With `sysfs`, a usbmisc-like entry (``lpN/device/ieee1284_id``, ``lpN/uevent``) names the printer
by its IEEE 1284 id, for ``APPLIANCE_USB_SYSFS`` to point at: /sys itself is never written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import tty
from pathlib import Path
from typing import Any

from appliance.printer.decode import DecodedJob
from appliance.simulator.engine import PrintEngine
from appliance.simulator.jobs import at_boundary, take
from appliance.simulator.state import ST_ERROR, ST_NOTIFICATION, ST_PHASE_CHANGE, ST_REPLY, Phase, VirtualPrinter

log = logging.getLogger(__name__)

KNOBS = ("unplugged", "answers_status")
_TYPE, _PHASE, _NOTIFICATION = 18, 19, 22
_COVER_OPENED = 0x01


def device_id(printer: VirtualPrinter) -> str:
    """The IEEE 1284 device id a Brother printer reports over USB (the kernel shows it in sysfs)."""
    return f"MFG:Brother;CMD:PT-CBP;MDL:{printer.model.name};CLS:PRINTER;SN:{printer.serial};"


class UsbDevice:
    """`printer` behind a pty linked at `path`; `sysfs`: a directory standing in for /sys/class/usbmisc."""

    def __init__(self, printer: VirtualPrinter, engine: PrintEngine, path: Path, *, sysfs: Path | None = None) -> None:
        self.printer = printer
        self.engine = engine
        self.path = Path(path)
        self.sysfs = sysfs
        self.answers_status = True
        self.notify_on = True  # ESC i ! 00 (the default) or 01 from the last job
        self.dropped_blocks = 0  # blocks nobody could take (pty full, or unplugged)
        self.pty_name: str | None = None
        self._master: int | None = None
        self._slave: int | None = None  # held so the master never reads EIO between the host's opens
        self._buffer = bytearray()
        self._phase_sent = 0x00  # the phase the host last heard of
        self._lock = asyncio.Lock()
        self._remove_listener = printer.add_block_listener(self._pushed)

    # --- plugging ------------------------------------------------------------------------------------

    @property
    def plugged(self) -> bool:
        return self._master is not None

    async def start(self) -> None:
        self.plug()

    async def stop(self) -> None:
        self._remove_listener()
        self.unplug()

    def plug(self, path: Path | None = None) -> None:
        """Connect the cable: a new pty at `path` (default: where it was)."""
        if self._master is not None:
            return
        if path is not None:
            self.path = Path(path)
        if self.path.is_symlink():
            self.path.unlink()
        elif self.path.exists():
            raise FileExistsError(f"{self.path} exists and is not a link this simulator made: remove it or pick "
                                  "another --usb PATH")  # fmt: skip
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        self.pty_name = os.ttyname(slave)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(self.pty_name, self.path)
        self._master, self._slave = master, slave
        self._buffer.clear()
        self._phase_sent = 0x01 if self.printer.phase == Phase.PRINTING else 0x00
        asyncio.get_running_loop().add_reader(master, self._readable)
        self._write_sysfs()

    def unplug(self) -> None:
        """Pull the cable: the node goes first (as udev removes it), then the line drops."""
        if self._master is None:
            return
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self._remove_sysfs()
        asyncio.get_running_loop().remove_reader(self._master)
        for fd in (self._master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = None
        if any(self._buffer):
            self._report(f"USB unplugged with a job half received ({len(self._buffer)} bytes); nothing of it printed")
        self._buffer.clear()

    def _sysfs_entry(self) -> Path | None:
        return None if self.sysfs is None else self.sysfs / self.path.name

    def _write_sysfs(self) -> None:
        entry = self._sysfs_entry()
        if entry is None:
            return
        (entry / "device").mkdir(parents=True, exist_ok=True)
        (entry / "device" / "ieee1284_id").write_text(device_id(self.printer) + "\n")
        (entry / "uevent").write_text(f"MAJOR=180\nMINOR=0\nDEVNAME=usb/{self.path.name}\n")

    def _remove_sysfs(self) -> None:
        entry = self._sysfs_entry()
        if entry is not None:
            shutil.rmtree(entry, ignore_errors=True)

    # --- knobs ---------------------------------------------------------------------------------------

    def check(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Validate this port's knobs; ValueError("field: reason") if one is bad."""
        for name, value in changes.items():
            if not isinstance(value, bool):
                raise ValueError(f"{name}: must be true or false")
        return changes

    def apply(self, changes: dict[str, Any]) -> None:
        if "answers_status" in changes:
            self.answers_status = changes["answers_status"]
        if "unplugged" in changes:
            if changes["unplugged"]:
                self.unplug()
            else:
                self.plug()

    def to_json(self) -> dict[str, Any]:
        return {"usb": {"path": str(self.path), "pty": self.pty_name, "unplugged": not self.plugged,
                        "answers_status": self.answers_status, "notifications": self.notify_on,
                        "device_id": device_id(self.printer), "dropped_blocks": self.dropped_blocks}}  # fmt: skip

    # --- bytes in --------------------------------------------------------------------------------------

    def _readable(self) -> None:
        if self._master is None:
            return
        try:
            chunk = os.read(self._master, 65536)
        except BlockingIOError:
            return
        except OSError:
            return
        if not chunk:
            return
        self._buffer += chunk
        if at_boundary(self._buffer):
            asyncio.get_running_loop().create_task(self._take())

    async def _take(self) -> None:
        async with self._lock:
            await take(self._buffer, self.printer.model, final=False, submit=self._submit,
                       status_asked=self._status_asked, report=self._report)  # fmt: skip

    async def _status_asked(self) -> None:
        if self.answers_status:
            self._send(self.printer.status_block(status_type=ST_REPLY))

    def _submit(self, job: DecodedJob) -> None:
        for name, args in job.commands:
            if name == "notification-mode" and args:
                self.notify_on = args[0] == 0x00
        for warning in job.warnings:
            log.info("virtual printer: %s", warning)
        self.engine.submit(job)

    def _report(self, message: str) -> None:
        log.warning("virtual printer: %s", message)
        self.printer.last_error = message
        self.printer.changed()

    # --- blocks out -----------------------------------------------------------------------------------

    def _pushed(self, block: bytes) -> None:
        """A block the printer pushes: sent as a real printer would on USB, or dropped."""
        if not (self.answers_status and self.notify_on):
            return
        kind = block[_TYPE]
        if kind == ST_PHASE_CHANGE:
            if block[_PHASE] == self._phase_sent:  # idle → receiving is no change on the wire
                return
            self._phase_sent = block[_PHASE]
        self._send(block)
        if kind == ST_NOTIFICATION and block[_NOTIFICATION] == _COVER_OPENED and self.printer.phase == Phase.PRINTING:
            self._send(self.printer.status_block(status_type=ST_ERROR))  # opened mid-label: an error, too

    def _send(self, block: bytes) -> None:
        if self._master is None:
            self.dropped_blocks += 1
            return
        try:
            os.write(self._master, block)
        except OSError:  # the host reads nothing and the line is full: a real printer drops it too
            self.dropped_blocks += 1
