"""What a USB printer has said about one job, folded from its status blocks: facts, no decisions.

The queue reads a job's :class:`UsbSession` events and folds them here; its reconciler decides on
:attr:`UsbJobProgress.outcome` (and the time it has waited), as it decides on the page counter for a
networked printer. Pure: no I/O, no clock (event times come with the events).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from appliance.printer.usb_session import UsbEvent

__all__ = ["Outcome", "UsbJobProgress"]

Outcome = Literal["sent", "printing", "completed", "stopped", "offline", "idle-short"]


@dataclass(frozen=True, slots=True)
class UsbJobProgress:
    labels: int
    """Labels the job asked for (copies × pages)."""
    confirmed: int = 0
    """"printing completed" blocks: labels out, one each."""
    printing: bool = False
    """The last phase the printer named: printing, or back to receiving."""
    fault: tuple[str, ...] = ()
    """Reasons of the error that stopped it (cover-open, media-empty, media-mismatch, …) until it prints again."""
    idle_at: float | None = None
    """When it last went back to receiving (monotonic), with labels missing or not."""
    offline_reason: str | None = None
    """The device went away (the cable pulled, the printer off): the transport's reason."""
    cooling: bool = False

    def advance(self, event: UsbEvent) -> UsbJobProgress:
        """This progress after `event`."""
        status = event.status
        if event.kind == "offline":
            return replace(self, offline_reason=event.error.reason if event.error else "printer-offline",
                           printing=False)  # fmt: skip
        if status is None:
            return self
        if event.kind == "printed":
            return replace(self, confirmed=self.confirmed + 1, printing=True, fault=())
        if event.kind == "error":
            stopping = tuple(r for r in status.reasons if r != "cooling") if status.state == "stopped" else ()
            return replace(self, fault=stopping or self.fault, printing=False)
        if event.kind == "phase":
            if status.phase == "printing":
                return replace(self, printing=True, fault=(), idle_at=None, cooling=False)
            return replace(self, printing=False, idle_at=event.at)
        if event.kind == "notification":
            if status.notification == "cover-open":
                return replace(self, fault=("cover-open", *(r for r in self.fault if r != "cover-open")))
            if status.notification == "cooling-started":
                return replace(self, cooling=True)
            if status.notification == "cooling-finished":
                return replace(self, cooling=False)
        if event.kind == "turned-off":
            return replace(self, printing=False, offline_reason="shutdown")
        return self

    @property
    def missing(self) -> int:
        return max(0, self.labels - self.confirmed)

    @property
    def outcome(self) -> Outcome:
        """completed: every label confirmed. offline: the device went away (what came out meanwhile
        cannot be known). stopped: the printer reported a fault; it keeps the job and finishes it once
        a person clears it (its later blocks confirm the rest: send nothing again). idle-short: back to
        receiving with labels missing and no fault: judge it as a short page count, after the print
        time. printing: under way. sent: nothing heard yet."""
        if self.confirmed >= self.labels:
            return "completed"
        if self.offline_reason is not None:
            return "offline"
        if self.fault:
            return "stopped"
        if self.printing or self.cooling:
            return "printing"
        if self.idle_at is not None:
            return "idle-short"
        return "sent"
