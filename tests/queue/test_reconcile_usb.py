"""USB printers that confirm labels themselves: the reconciler's rules and the worker's reading of the blocks.

Pure, like tests/queue/test_reconcile_races.py: plain times, no printer. The end-to-end stories (tape
out, cover open, unplug, SIGKILL) run on the virtual USB printer in tests/usb/test_usb_queue.py.
"""

from __future__ import annotations

import pytest

from appliance.printer.status import parse_status
from appliance.printer.usb_progress import UsbJobProgress
from appliance.printer.usb_session import UsbEvent
from appliance.queue import reconcile
from appliance.queue.reconcile import Completed, Look, Lost, Resumed, Stopped, Wait
from appliance.queue.usb_follow import look_of, progress_after_status
from appliance.simulator.state import VirtualPrinter

T0 = 1000.0


def usb_sent(copies: int = 3, *, stopped_for: str | None = None, in_flight: int | None = None) -> reconcile.Following:
    return reconcile.start(copies=copies, in_flight=copies if in_flight is None else in_flight, pages_before=0,
                           serial=None, counter=True, label_s=2.0, print_timeout_s=60.0, lost_after_idle_s=30.0,
                           now=T0, stopped_for=stopped_for, confirms=True)


@pytest.mark.parametrize(("state", "fault", "confirmed", "copies", "verdict"), [
    ("idle", False, 3, 3, "completed"),       # every label confirmed (blocks read at the new open)
    ("idle", False, 1, 3, "interrupted"),     # back idle holding nothing: a person checks, nothing resent
    ("idle", False, 0, 3, "interrupted"),
    ("printing", False, 1, 3, "follow"),      # still at it: its blocks confirm the rest
    ("stopped", True, 1, 3, "follow"),        # out of tape, the job kept: finished once a person acts
    ("stopped", False, 1, 3, "interrupted"),  # stopped for nothing that keeps a job
])
def test_after_reopen(state: str, fault: bool, confirmed: int, copies: int, verdict: str) -> None:
    assert reconcile.after_reopen(state=state, fault=fault, confirmed=confirmed, copies=copies) == verdict


def test_confirmed_labels_count_like_a_counter_from_zero() -> None:
    known = usb_sent()
    decision, known = reconcile.follow(known, Look(state="printing", labels_confirmed=2, at=T0 + 1), T0 + 1)
    assert isinstance(decision, Wait)
    decision, _ = reconcile.follow(known, Look(state="printing", labels_confirmed=3, at=T0 + 2), T0 + 2)
    assert decision == Completed(labels=3)


def test_an_unplugged_usb_printer_is_offline_not_status_lost() -> None:
    offline = Look(state="offline", reasons=("printer-offline",), answered=False, labels_confirmed=1)
    decision, known = reconcile.follow(usb_sent(), offline, T0 + 1)
    assert decision == Stopped("printer-offline", was=None)
    # a networked printer's silent status still says status-lost (it may be printing)
    net = reconcile.start(copies=3, in_flight=3, pages_before=50, serial=None, counter=True, label_s=2.0,
                          print_timeout_s=60.0, lost_after_idle_s=30.0, now=T0)
    assert reconcile.follow(net, Look(state="offline", reasons=("printer-offline",), answered=False, page_count=50),
                            T0 + 1)[0] == Stopped("status-lost", was=None)
    # back and printing: resumed, and its next confirmations complete it
    decision, known = reconcile.follow(known, Look(state="printing", labels_confirmed=1, at=T0 + 5), T0 + 5)
    assert decision == Resumed()
    assert reconcile.follow(known, Look(state="printing", labels_confirmed=3, at=T0 + 6), T0 + 6)[0] == Completed(
        labels=3, resumed=False)


def test_idle_short_in_a_live_session_is_lost_only_after_the_print_time_and_the_idle_spell() -> None:
    known = usb_sent()
    idle = Look(state="idle", labels_confirmed=1, at=T0 + 2)
    decision, known = reconcile.follow(known, idle, T0 + 2)
    assert isinstance(decision, Wait)  # 3 labels may take 6 s + 5 s
    decision, known = reconcile.follow(known, idle, T0 + 20)
    assert isinstance(decision, Wait)  # idle 18 s of 30
    assert reconcile.follow(known, idle, T0 + 33)[0] == Lost(out_so_far=1)


def block(**knobs: object) -> bytes:
    printer = VirtualPrinter("PT-P750W", "12mm", speed_mm_s=None)
    if knobs:
        printer.update(**knobs)
    return printer.status_block(status_type=0x02 if knobs else 0x01)


def test_look_of_the_folded_blocks() -> None:
    progress = UsbJobProgress(labels=3)
    assert look_of(progress, 0, T0).state == "unknown"  # sent, nothing heard yet: no verdict from silence
    printed = progress.advance(UsbEvent("printed", parse_status(block()), at=T0))
    assert (look_of(printed, 1, T0).state, look_of(printed, 1, T0).labels_confirmed) == ("printing", 2)
    out = printed.advance(UsbEvent("error", parse_status(block(tape="none")), at=T0 + 1))
    look = look_of(out, 0, T0 + 1)
    assert look.state == "stopped" and look.reasons and look.labels_confirmed == 1
    gone = out.advance(UsbEvent("offline"))
    assert look_of(gone, 0, T0 + 2).reasons == ("printer-offline",)
    back = progress_after_status(gone, "stopped", ("media-empty",), T0 + 3)
    assert look_of(back, 0, T0 + 3).state == "stopped" and back.offline_reason is None
    assert look_of(progress_after_status(gone, "idle", (), T0 + 3), 0, T0 + 3).state == "idle"
