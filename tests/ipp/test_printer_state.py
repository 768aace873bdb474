"""Get-Printer-Attributes follows the printer's live status: cover open, no tape, paused."""

from __future__ import annotations

from appliance.ipp import codec, codes
from tests.fast_fixtures import settle

from .client import attrs

STATE = [("requested-attributes", codec.KEYWORD, ["printer-state", "printer-state-reasons", "media-ready",
                                                   "printer-state-message", "printer-is-accepting-jobs"])]


async def state(ipp) -> dict:
    return attrs(await ipp.op(codes.GET_PRINTER_ATTRIBUTES, operation=STATE))


async def test_printer_state_and_reasons_follow_the_printer(ipp, fast, rpc) -> None:
    printer = fast.simulator.printer
    found = await state(ipp)
    assert (found["printer-state"], found["printer-state-reasons"]) == ([codes.PRINTER_IDLE], ["none"])
    assert set(found) == {"printer-state", "printer-state-reasons", "media-ready", "printer-state-message",
                          "printer-is-accepting-jobs"}
    printer.update(cover_open=True)
    await settle(fast)
    found = await state(ipp)
    assert found["printer-state"] == [codes.PRINTER_STOPPED]
    assert "cover-open-error" in found["printer-state-reasons"]
    assert found["printer-state-message"] == ["Cover open — close it to continue"]
    printer.update(cover_open=False, tape=None)
    await settle(fast)
    found = await state(ipp)
    assert "media-needed-error" in found["printer-state-reasons"]
    assert found["media-ready"] == [None]  # nothing loaded: no-value
    printer.update(tape="12mm")
    await settle(fast)
    await rpc.call("printer.pause", {})
    found = await state(ipp)
    assert (found["printer-state"], found["printer-state-reasons"]) == ([codes.PRINTER_STOPPED], ["paused"])
    assert found["media-ready"] == ["om_12mm-tape_12x100mm"]
