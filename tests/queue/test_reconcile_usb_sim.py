"""A USB printer that confirms its labels, driven at random against the worker's USB decisions.

The model printer prints a job label by label on a virtual clock and says so on its cable as the real
one does ("printing completed" per label, an error block when the tape runs out, phase changes),
except while it is unplugged: then what it says is lost, and it prints on. The appliance side is
the worker's USB loop reduced to its decisions (queue/usb_follow.py): the blocks folded into a
UsbJobProgress, `look_of` → `reconcile.follow`, and after a replug the printer's status →
`progress_after_status` + `reconcile.after_reopen`.

Invariants: a label is never counted that the printer did not print; `completed` only once every
label is out and confirmed; `interrupted` names exactly the labels confirmed, fewer than the copies;
nothing is ever sent again; a job never unplugged always completes.

CI runs a fixed, derandomised 300 examples (about a second); APPLIANCE_HYPOTHESIS_PROFILE=long runs
10,000 randomised ones.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appliance.printer.status import PrinterStatus, parse_status
from appliance.printer.usb_progress import UsbJobProgress
from appliance.printer.usb_session import UsbEvent
from appliance.queue import reconcile
from appliance.queue.usb_follow import look_of, progress_after_status
from appliance.simulator.state import VirtualPrinter

PROFILE = os.environ.get("APPLIANCE_HYPOTHESIS_PROFILE", "ci")
EXAMPLES = settings(max_examples=10_000 if PROFILE == "long" else 300, derandomize=PROFILE != "long",
                    deadline=None, suppress_health_check=[HealthCheck.too_slow])

_OK = parse_status(VirtualPrinter("PT-P750W", "12mm", speed_mm_s=None).status_block(status_type=0x01))
_EMPTY_PRINTER = VirtualPrinter("PT-P750W", "12mm", speed_mm_s=None)
_EMPTY_PRINTER.update(tape="none")
_ERROR = parse_status(_EMPTY_PRINTER.status_block(status_type=0x02))
PRINTED = _OK
PHASE_PRINTING = replace(_OK, status_type="phase-change", phase="printing")
PHASE_IDLE = replace(_OK, status_type="phase-change", phase="receiving")
LABEL_S = 1.0


@dataclass
class Printer:
    """The model printer: `left` labels of the one job it keeps; `said` what reached the appliance."""

    left: int
    printed: int = 0
    fault: bool = False
    plugged: bool = True
    printing: bool = False
    said: list[tuple[str, PrinterStatus | None]] | None = None

    def say(self, kind: str, status: PrinterStatus | None) -> None:
        if self.plugged and self.said is not None:
            self.said.append((kind, status))

    def tick(self) -> None:
        if self.fault or self.left == 0:
            return
        if not self.printing:
            self.printing = True
            self.say("phase", PHASE_PRINTING)
        self.left -= 1
        self.printed += 1
        self.say("printed", PRINTED)
        if self.left == 0:
            self.printing = False
            self.say("phase", PHASE_IDLE)

    def run_out(self) -> None:
        if self.left and not self.fault:
            self.fault, self.printing = True, False
            self.say("error", _ERROR)
            self.say("phase", PHASE_IDLE)

    def status(self) -> tuple[str, tuple[str, ...]]:
        if self.fault:
            return "stopped", ("media-empty",)
        return ("printing", ()) if self.printing else ("idle", ())


ACTIONS = st.lists(st.sampled_from(["tick", "tick", "tick", "run-out", "fix", "unplug", "plug"]), max_size=30)


@EXAMPLES
@given(copies=st.integers(1, 4), actions=ACTIONS)
def test_confirmations_never_count_a_label_not_printed_and_nothing_is_resent(copies: int,
                                                                             actions: list[str]) -> None:
    printer = Printer(left=copies, said=[])
    now = 0.0
    known = reconcile.start(copies=copies, in_flight=copies, pages_before=0, serial=None, counter=True,
                            label_s=LABEL_S, print_timeout_s=1e9, lost_after_idle_s=5.0, now=now, confirms=True)
    progress = UsbJobProgress(labels=copies)
    ended: tuple[str, int] | None = None
    ever_unplugged = False
    # then everything is fixed and plugged in, and time runs until the job ends
    for action in [*actions, "fix", "plug", *["tick"] * (copies + 40)]:
        if ended is not None:
            break
        now += LABEL_S
        if action == "tick":
            printer.tick()
        elif action == "run-out":
            printer.run_out()
        elif action == "fix":
            printer.fault = False
        elif action == "unplug" and printer.plugged:
            printer.plugged, ever_unplugged = False, True
            progress = progress.advance(UsbEvent("offline", at=now))
        elif action == "plug" and not printer.plugged:
            printer.plugged = True
            if progress.outcome == "offline":  # the worker reopens and asks the status
                state, reasons = printer.status()
                progress = progress_after_status(progress, state, reasons, now)
                verdict = reconcile.after_reopen(state=state, fault=bool(progress.fault),
                                                 confirmed=progress.confirmed, copies=copies)
                if verdict == "interrupted":
                    ended = ("interrupted", progress.confirmed)
                    break
        assert printer.said is not None
        for kind, status in printer.said:
            progress = progress.advance(UsbEvent(kind, status, at=now))
        printer.said.clear()
        assert progress.confirmed <= printer.printed  # never a label counted that did not come out
        decision, known = reconcile.follow(known, look_of(progress, 0, now), now)
        if isinstance(decision, reconcile.Completed):
            ended = ("completed", decision.labels)
        elif isinstance(decision, reconcile.Lost | reconcile.Replaced):
            ended = ("interrupted", progress.confirmed)
        assert not isinstance(decision, reconcile.TimedOut)
    assert ended is not None, (copies, actions, progress)
    outcome, labels = ended
    if outcome == "completed":
        assert labels == copies == printer.printed == progress.confirmed
    else:
        assert ever_unplugged and labels == progress.confirmed < copies and labels <= printer.printed
    # one send only: the printer never holds more than the job's copies
    assert printer.printed <= copies
