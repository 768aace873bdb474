"""The virtual printer's state: what is loaded, what is wrong, what it is doing.

Plain state plus the rules real printers follow when they report it (see PROTOCOL.md):
cover open zeroes the media fields, no cassette sets no error bit, tape running out is
an error that keeps the job. `update()` is the one way knobs change from outside; every
change wakes the observers (`wait_for`, listeners) so the engine can resume a kept job.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from appliance.printer.media import Media, MediaError, media_for
from appliance.printer.models import Model, get_model
from appliance.printer.status import MEDIA_TYPES, NOTIFICATIONS, STATUS_TYPES, build_status_block

DEFAULT_SPEED_MM_S = 30.0  # a PT-P750W prints about 30 mm/s

# Status types (byte 18) and phases (byte 19) as real printers send them.
ST_REPLY, ST_COMPLETED, ST_ERROR, ST_TURNED_OFF, ST_NOTIFICATION, ST_PHASE_CHANGE = 0, 1, 2, 4, 5, 6
PHASE_RECEIVING, PHASE_PRINTING = 0, 1

# Error names (bits of status bytes 8 and 9).
NO_MEDIA = "no-media"
END_OF_MEDIA = "end-of-media"
WRONG_MEDIA = "wrong-media"
COVER_OPEN = "cover-open"
ERROR_ORDER = (NO_MEDIA, END_OF_MEDIA, WRONG_MEDIA, COVER_OPEN)


class Phase(StrEnum):
    IDLE = "idle"
    RECEIVING = "receiving"
    PRINTING = "printing"


@dataclass(frozen=True, slots=True)
class PrintedLabel:
    number: int
    """1-based, across everything this printer printed."""
    job: int
    page: int
    """0-based page within the job."""
    width_mm: float
    length_mm: float
    blank: bool
    """Printed, but nothing on it (e.g. an uncompressed job on a PT-P750W)."""
    at: datetime
    file: Path | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "job": self.job,
            "page": self.page,
            "width_mm": self.width_mm,
            "length_mm": round(self.length_mm, 2),
            "blank": self.blank,
            "at": self.at.isoformat().replace("+00:00", "Z"),
            "file": str(self.file) if self.file else None,
        }


@dataclass(slots=True)
class KeptJob:
    """A job interrupted by the printer (tape out, cover open): finished when the cause is gone."""

    job: int
    pages: list[Any]
    next_page: int
    reason: str


def _media(model: Model, tape: str | Media | None) -> Media | None:
    if tape is None or isinstance(tape, Media):
        return tape
    return media_for(model, tape)


def _optional_number(name: str, value: Any, *, integer: bool = False) -> float | int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name}: must be a number or null")
    if value < 0:
        raise ValueError(f"{name}: must not be negative")
    if integer and int(value) != value:
        raise ValueError(f"{name}: must be a whole number")
    return int(value) if integer else float(value)


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name}: must be true or false")
    return value


class VirtualPrinter:
    """A Brother printer's observable behaviour, minus the paper."""

    def __init__(
        self,
        model: str | Model = "PT-P750W",
        tape: str | Media | None = "12mm",
        *,
        speed_mm_s: float | None = DEFAULT_SPEED_MM_S,
        tape_remaining_mm: float | None = None,
        serial: str = "E7Z000001",
        sys_name: str | None = None,
        answers_status_request: bool | None = None,
    ) -> None:
        self.model: Model = get_model(model) if isinstance(model, str) else model
        self.tape: Media | None = _media(self.model, tape)
        self.serial = serial
        self.sys_name = sys_name or f"BRW{serial}"
        self.answers_status_request = (
            self.model.answers_status_request_tcp if answers_status_request is None else answers_status_request
        )
        # knobs
        self.cover_open = False
        self.tape_capacity_mm: float | None = tape_remaining_mm
        self.tape_remaining_mm: float | None = tape_remaining_mm
        self.offline = False
        self.drop_after_bytes: int | None = None
        self.speed_mm_s: float | None = speed_mm_s or None
        self.snmp_silent = False
        self.snmp_delay_ms = 0.0
        self.cooling = False  # the head cools between labels: idle, "cooling started" in every status block
        self.resume_after_s = 0.0  # how long it stands idle after a fault clears before going on with a kept job
        self.snmp_omit: set[str] = set()  # OIDs the agent pretends not to have
        self.mode = 0  # echo of ESC i M from the last job
        # what it is doing
        self.phase = Phase.IDLE
        self.errors: set[str] = set()
        self.status_type = ST_REPLY
        self.last_error: str | None = None
        self.printed: list[PrintedLabel] = []
        self.page_counter = 0
        self.jobs_received = 0
        self.jobs_refused = 0
        self.kept: KeptJob | None = None
        self.notifications: deque[bytes] = deque(maxlen=200)
        self.started_at = datetime.now(UTC)
        self._listeners: list[Callable[[VirtualPrinter], None]] = []
        self._block_listeners: list[Callable[[bytes], None]] = []
        self._changed: asyncio.Event | None = None

    # --- observing -----------------------------------------------------------------

    def add_listener(self, callback: Callable[[VirtualPrinter], None]) -> Callable[[], None]:
        """Call `callback(printer)` after every change; returns a function that removes it."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback) if callback in self._listeners else None

    def add_block_listener(self, callback: Callable[[bytes], None]) -> Callable[[], None]:
        """Call `callback(block)` with every status block the printer pushes (the USB device sends them)."""
        self._block_listeners.append(callback)
        return lambda: self._block_listeners.remove(callback) if callback in self._block_listeners else None

    def changed(self) -> None:
        """Tell observers that something changed."""
        if self._changed is not None:
            self._changed.set()
            self._changed = None
        for callback in list(self._listeners):
            callback(self)

    async def wait_for(self, predicate: Callable[[VirtualPrinter], bool], timeout: float | None = None) -> None:
        """Wait until `predicate(printer)` holds (checked after every change)."""
        async with asyncio.timeout(timeout):
            while not predicate(self):
                if self._changed is None:
                    self._changed = asyncio.Event()
                await self._changed.wait()

    # --- the knobs -----------------------------------------------------------------

    def update(self, **changes: Any) -> dict[str, Any]:
        """Validate and apply knob changes all at once; ValueError("field: reason") if any is bad.

        Knobs: cover_open, cooling (idle between labels until cleared, "cooling started" in its status),
        tape ("12mm"; None or "none" for no cassette), tape_remaining_mm, offline, drop_after_bytes,
        speed (mm/s; 0, None or "instant" for instant), snmp_silent, snmp_delay_ms, resume_after_s (seconds
        it stands idle, reporting nothing, before it goes on with a job it kept once the fault is cleared).
        """
        new: dict[str, Any] = {}
        for name, value in changes.items():
            if name in ("cover_open", "offline", "snmp_silent", "cooling"):
                new[name] = _flag(name, value)
            elif name == "tape":
                if isinstance(value, str) and value.strip().lower() == "none":
                    value = None  # as `appliance simulate --tape none` says it
                if value is not None and not isinstance(value, str):
                    raise ValueError("tape: must be a width like '12mm', or null for no cassette")
                try:
                    new[name] = _media(self.model, value)
                except MediaError as exc:
                    raise ValueError(f"tape: {exc}") from None
            elif name == "tape_remaining_mm":
                new[name] = _optional_number(name, value)
            elif name == "drop_after_bytes":
                new[name] = _optional_number(name, value, integer=True)
            elif name == "speed":
                new[name] = None if value in (None, "instant") else _optional_number(name, value) or None
            elif name in ("snmp_delay_ms", "resume_after_s"):
                new[name] = _optional_number(name, value) or 0.0
            else:
                raise ValueError(f"{name}: unknown setting")
        self._apply(new)
        return new

    def _apply(self, new: dict[str, Any]) -> None:
        was_open = self.cover_open
        was_cooling = self.cooling
        for name in ("cover_open", "offline", "snmp_silent", "drop_after_bytes", "snmp_delay_ms", "resume_after_s",
                     "cooling"):
            if name in new:
                setattr(self, name, new[name])
        if "speed" in new:
            self.speed_mm_s = new["speed"]
        if "tape" in new:  # a cassette went in or came out: full again, old tape errors gone
            self.tape = new["tape"]
            self.tape_remaining_mm = self.tape_capacity_mm
            self.errors -= {NO_MEDIA, END_OF_MEDIA, WRONG_MEDIA}
        if "tape_remaining_mm" in new:
            self.tape_remaining_mm = self.tape_capacity_mm = new["tape_remaining_mm"]
            if self.tape_remaining_mm is None or self.tape_remaining_mm > 0:
                self.errors.discard(END_OF_MEDIA)
        if self.cover_open != was_open:
            self.notify(ST_NOTIFICATION, notification=0x01 if self.cover_open else 0x02)
        if self.cooling != was_cooling:
            self.notify(ST_NOTIFICATION, notification=0x03 if self.cooling else 0x04)
        self.refresh_status_type()
        self.changed()

    # --- derived state -------------------------------------------------------------

    def active_errors(self) -> set[str]:
        errors = set(self.errors)
        if self.cover_open:
            errors.add(COVER_OPEN)
        return errors

    def blocking_reason(self) -> str | None:
        """Why the printer cannot print right now (a kept job waits for this to be None)."""
        if self.cover_open:
            return "cover-open"
        if self.tape is None:
            return "no-media"
        if END_OF_MEDIA in self.errors or self.tape_remaining_mm == 0:
            return "media-empty"
        return None

    def refresh_status_type(self) -> None:
        self.status_type = ST_ERROR if self.active_errors() else ST_REPLY

    def set_error(self, name: str, message: str | None = None) -> None:
        if name != COVER_OPEN:  # the cover's state is the knob, not a stored error
            self.errors.add(name)
        if message:
            self.last_error = message
        self.status_type = ST_ERROR
        self.notify(ST_ERROR)
        self.changed()

    def set_phase(self, phase: Phase) -> None:
        if phase == self.phase:
            return
        self.phase = phase
        self.notify(ST_PHASE_CHANGE)
        self.changed()

    def notify(self, status_type: int, notification: int = 0) -> None:
        """Record a status block as the printer would push it (the USB host would see these)."""
        block = self.status_block(status_type=status_type, notification=notification)
        self.notifications.append(block)
        for callback in list(self._block_listeners):
            callback(block)

    # --- the 32-byte status block --------------------------------------------------

    def status_fields(self, status_type: int | None = None, notification: int = 0) -> dict[str, Any]:
        """Keyword arguments for `build_status_block`, as this printer would report itself now."""
        errors = self.active_errors()
        tape = self.tape if not self.cover_open else None  # an open cover zeroes the media fields
        code = tape.media_type_code if tape else 0
        return {
            "series": self.model.status_series,
            "model_code": self.model.status_model_code,
            "media_width_mm": tape.width_code if tape else 0,
            "media_type": MEDIA_TYPES.get(code, f"unknown-0x{code:02x}"),
            "media_length_mm": (tape.length_mm or 0) if tape else 0,
            "errors": tuple(name for name in ERROR_ORDER if name in errors),
            "status_type": STATUS_TYPES[self.status_type if status_type is None else status_type],
            "phase": "printing" if self.phase == Phase.PRINTING else "idle",
            "notification": NOTIFICATIONS[notification or (0x03 if self.cooling else 0x00)],
            "tape_color": "white" if tape else None,
            "text_color": "black" if tape else None,
            "mode": self.mode,
        }

    def status_block(self, status_type: int | None = None, notification: int = 0) -> bytes:
        return build_status_block(**self.status_fields(status_type, notification))

    # --- the record ----------------------------------------------------------------

    def record_print(self, label: PrintedLabel) -> None:
        self.printed.append(label)
        self.page_counter += 1
        self.changed()

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model.name,
            "tape": self.tape.id if self.tape else None,
            "cover_open": self.cover_open,
            "tape_remaining_mm": (None if self.tape_remaining_mm is None else round(self.tape_remaining_mm, 2)),
            "offline": self.offline,
            "drop_after_bytes": self.drop_after_bytes,
            "speed": self.speed_mm_s,
            "snmp_silent": self.snmp_silent,
            "snmp_delay_ms": self.snmp_delay_ms,
            "cooling": self.cooling,
            "resume_after_s": self.resume_after_s,
            "phase": self.phase.value,
            "errors": sorted(self.active_errors()),
            "status_type": self.status_type,
            "status_block": self.status_block().hex(" "),
            "last_error": self.last_error,
            "jobs_received": self.jobs_received,
            "jobs_refused": self.jobs_refused,
            "printed_count": len(self.printed),
            "page_counter": self.page_counter,
            "kept_job": (
                None
                if self.kept is None
                else {
                    "job": self.kept.job,
                    "pages_left": len(self.kept.pages) - self.kept.next_page,
                    "reason": self.kept.reason,
                }
            ),
            "printed": [label.to_json() for label in self.printed],
        }


__all__ = [
    "COVER_OPEN",
    "END_OF_MEDIA",
    "NO_MEDIA",
    "WRONG_MEDIA",
    "KeptJob",
    "Phase",
    "PrintedLabel",
    "VirtualPrinter",
]
