"""UsbJobProgress: a job's events folded into what the printer said — by hand, then from a virtual printer."""

from __future__ import annotations

from appliance.printer.status import build_status_block, parse_status
from appliance.printer.transport import open_transport
from appliance.printer.usb_progress import UsbJobProgress
from appliance.printer.usb_session import EVENT_KINDS, UsbEvent
from tests.simulator.helpers import job
from tests.usb.conftest import count, events_until, kinds


def event(status_type: str, at: float = 0.0, **fields: object) -> UsbEvent:
    block = build_status_block(media_width_mm=12, media_type="laminated", status_type=status_type, **fields)
    return UsbEvent(EVENT_KINDS[status_type], parse_status(block), at=at, raw=block)


def fold(progress: UsbJobProgress, events: list[UsbEvent]) -> UsbJobProgress:
    for each in events:
        progress = progress.advance(each)
    return progress


def test_each_kind_of_block_moves_the_job_as_the_printer_said() -> None:
    start = UsbJobProgress(labels=2)
    assert start.outcome == "sent"
    printing = start.advance(event("phase-change", phase="printing"))
    assert printing.outcome == "printing"
    one = printing.advance(event("printing-completed", phase="printing"))
    assert (one.confirmed, one.missing, one.outcome) == (1, 1, "printing")
    out = fold(one, [event("phase-change", at=5.0), event("error", errors=("end-of-media",))])
    assert (out.outcome, out.fault, out.idle_at) == ("stopped", ("media-empty",), 5.0)
    resumed = fold(out, [event("phase-change", phase="printing"), event("printing-completed", phase="printing")])
    assert (resumed.outcome, resumed.confirmed, resumed.fault) == ("completed", 2, ())


def test_back_to_receiving_without_a_fault_is_short_and_cooling_is_not() -> None:
    one = fold(UsbJobProgress(labels=3), [event("phase-change", phase="printing"),
                                          event("printing-completed", phase="printing"), event("phase-change", at=7.0)])
    assert (one.outcome, one.idle_at, one.missing) == ("idle-short", 7.0, 2)
    cooling = one.advance(event("notification", notification="cooling-started"))
    assert cooling.outcome == "printing"
    assert cooling.advance(event("notification", notification="cooling-finished")).outcome == "idle-short"


def test_cover_open_is_a_fault_until_it_prints_again_and_offline_wins_over_it() -> None:
    opened = UsbJobProgress(labels=1).advance(event("notification", notification="cover-open"))
    assert (opened.outcome, opened.fault) == ("stopped", ("cover-open",))
    lost = opened.advance(UsbEvent("offline"))
    assert (lost.outcome, lost.offline_reason) == ("offline", "printer-offline")
    assert opened.advance(event("phase-change", phase="printing")).outcome == "printing"


async def test_folded_from_a_virtual_printer_whose_tape_runs_out_then_is_unplugged(usb_printers) -> None:
    sim = await usb_printers(tape_remaining_mm=40, speed=150.0)
    assert sim.usb is not None
    transport = open_transport(sim.uri)
    session = await transport.session()
    try:
        await session.request_status()
        await session.send(job("fold", copies=3), timeout=5)
        progress = fold(UsbJobProgress(labels=3), await events_until(session, lambda ev: count(ev, "error") == 1))
        assert (progress.outcome, progress.confirmed, progress.fault) == ("stopped", 1, ("media-empty",))
        sim.printer.update(tape="12mm", tape_remaining_mm=None)
        second = await events_until(session, lambda ev: count(ev, "printed") == 1)
        progress = fold(progress, second)
        assert (progress.outcome, progress.confirmed) == ("printing", 2)
        sim.usb.apply({"unplugged": True})
        rest = await events_until(session, lambda ev: count(ev, "offline") == 1)
        progress = fold(progress, rest)
    finally:
        await transport.close()
    assert kinds(rest)[-1] == "offline:printer-offline"
    assert (progress.outcome, progress.confirmed, progress.missing) == ("offline", 2, 1)
