"""Virtual USB printers on real ptys, and the appliance's USB transport against them.

What stands in for what cannot exist here: a pty in raw mode for the kernel's /dev/usb/lpN, and a
directory of ``lpN/device/ieee1284_id`` + ``lpN/uevent`` files for /sys/class/usbmisc (the
simulator writes it; ``APPLIANCE_USB_SYSFS`` and ``APPLIANCE_USB_DEV`` point the resolver there).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from appliance.printer.usb_devices import DEV_ENV, SYSFS_ENV
from appliance.printer.usb_session import UsbEvent, UsbSession
from appliance.simulator import Simulator

# Fast enough for quick tests, slow enough that a fault can land in the middle of a job
# (a 12 mm label of 30 mm plus margins takes about 0.2 s).
SPEED_MM_S = 250.0


@pytest.fixture
def usb_roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """(dev, sysfs): the device tree and the usbmisc class directory the resolver reads."""
    dev, sysfs = tmp_path / "dev", tmp_path / "sys"
    (dev / "usb").mkdir(parents=True)
    sysfs.mkdir()
    monkeypatch.setenv(DEV_ENV, str(dev))
    monkeypatch.setenv(SYSFS_ENV, str(sysfs))
    return dev, sysfs


@pytest.fixture
async def usb_printers(usb_roots: tuple[Path, Path]) -> AsyncIterator[Callable[..., Any]]:
    """A factory: `await make(model, tape, node="lp0", serial=..., **knobs)` → a started Simulator that is
    a USB-only printer at dev/usb/<node>; all are stopped after the test."""
    dev, sysfs = usb_roots
    started: list[Simulator] = []

    async def make(model: str = "PT-P750W", tape: str | None = "12mm", *, node: str = "lp0",
                   serial: str = "E7Z000001", speed: float | None = SPEED_MM_S, **options: Any) -> Simulator:
        sim = Simulator(model, tape, listen=None, snmp=None, usb=dev / "usb" / node, sysfs=sysfs, speed=speed,
                        serial=serial, **options)
        await sim.start()
        started.append(sim)
        return sim

    try:
        yield make
    finally:
        for sim in started:
            with contextlib.suppress(Exception):
                await sim.stop()


async def events_until(session: UsbSession, done: Callable[[list[UsbEvent]], bool],
                       timeout: float = 5.0) -> list[UsbEvent]:
    """Events read until `done(events)` holds; fails the test when `timeout` passes between two events."""
    events: list[UsbEvent] = []
    while not done(events):
        event = await session.next_event(timeout)
        assert event is not None, f"no status block within {timeout} s; so far: {kinds(events)}"
        events.append(event)
    return events


def kinds(events: list[UsbEvent]) -> list[str]:
    """Events as short words: printed, error:media-empty, phase:printing, notification:cover-open, …"""
    words = []
    for event in events:
        status = event.status
        if event.kind == "error" and status is not None:
            words.append("error:" + ",".join(status.reasons))
        elif event.kind == "phase" and status is not None:
            words.append("phase:" + status.phase)
        elif event.kind == "notification" and status is not None:
            words.append(f"notification:{status.notification}")
        elif event.kind == "offline" and event.error is not None:
            words.append(f"offline:{event.error.reason}")
        else:
            words.append(event.kind)
    return words


def count(events: list[UsbEvent], kind: str) -> int:
    return sum(1 for event in events if event.kind == kind)
