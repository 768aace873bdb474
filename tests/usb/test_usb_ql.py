"""A QL-820NWB on virtual USB with die-cut 29×90 labels: confirmed label by label like a PT.

QL drivers switch the printer's unasked status blocks off (``ESC i ! 01``); a job meant to be
confirmed over USB is encoded with ``notifications=True`` (``ESC i ! 00``), and the virtual printer
honours either, as the real one does.
"""

from __future__ import annotations

from appliance.printer.decode import decode_job
from appliance.printer.media import media_for
from appliance.printer.models import get_model
from appliance.printer.raster import encode_job
from appliance.printer.transport import open_transport
from tests.simulator.helpers import label_image
from tests.usb.conftest import count, events_until, kinds


def ql_job(copies: int, *, notifications: bool) -> bytes:
    model = get_model("QL-820NWB")
    media = media_for(model, "29x90")
    length_mm = media.length_limits_dots(False)[0] * 25.4 / media.feed_dpi(False)  # die-cut: exactly the label
    image = label_image(media, "ql", length_mm)
    return encode_job(model, media, [image], copies=copies, notifications=notifications)


def test_the_encoder_asks_for_notifications_only_when_told() -> None:
    model = get_model("QL-820NWB")
    modes = [args for data in (ql_job(1, notifications=True), ql_job(1, notifications=False))
             for name, args in decode_job(data, model).commands if name == "notification-mode"]  # fmt: skip
    assert modes == [b"\x00", b"\x01"]


async def test_die_cut_labels_run_out_after_the_first_then_the_rest_come_once(usb_printers) -> None:
    sim = await usb_printers("QL-820NWB", "29x90", tape_remaining_mm=150)  # one 90 mm label and a bit
    transport = open_transport(sim.uri)
    session = await transport.session()
    try:
        reply = await session.request_status()
        assert reply is not None and (reply.model, reply.media_type, reply.media_length_mm) == ("QL-820NWB",
                                                                                               "die-cut", 90)
        await session.send(ql_job(3, notifications=True), timeout=5)
        first = await events_until(session, lambda ev: count(ev, "error") == 1)
        assert kinds(first) == ["phase:printing", "printed", "phase:idle", "error:media-empty"]
        assert first[-1].status is not None and first[-1].status.family == "ql"
        sim.printer.update(tape="29x90", tape_remaining_mm=None)  # a new DK roll
        rest = await events_until(session, lambda ev: kinds(ev)[-1:] == ["phase:idle"])
    finally:
        await transport.close()
    assert kinds(rest) == ["phase:printing", "printed", "printed", "phase:idle"]
    assert session.printed == 3
    assert len(sim.printer.printed) == 3 and sim.printer.jobs_received == 1
    assert {label.length_mm for label in sim.printer.printed} == {90.0}


async def test_cover_opened_mid_label_on_a_ql(usb_printers) -> None:
    sim = await usb_printers("QL-820NWB", "29x90", speed=150.0)  # 0.6 s a label
    transport = open_transport(sim.uri)
    session = await transport.session()
    try:
        await session.send(ql_job(2, notifications=True), timeout=5)
        await events_until(session, lambda ev: count(ev, "printed") == 1)
        sim.printer.update(cover_open=True)
        stopped = await events_until(session, lambda ev: kinds(ev)[-1:] == ["phase:idle"])
        sim.printer.update(cover_open=False)
        rest = await events_until(session, lambda ev: kinds(ev)[-1:] == ["phase:idle"])
    finally:
        await transport.close()
    assert kinds(stopped) == ["notification:cover-open", "error:cover-open", "phase:idle"]
    assert kinds(rest) == ["notification:cover-closed", "phase:printing", "printed", "phase:idle"]
    assert len(sim.printer.printed) == 2


async def test_with_notifications_off_a_ql_answers_only_when_asked(usb_printers) -> None:
    sim = await usb_printers("QL-820NWB", "29x90", speed=None)
    transport = open_transport(sim.uri)
    session = await transport.session()
    try:
        await session.send(ql_job(2, notifications=False), timeout=5)
        await sim.printer.wait_for(lambda p: len(p.printed) == 2, timeout=5)
        status = await session.request_status()
        assert status is not None and status.status_type == "reply" and status.state == "idle"
        assert session.events.empty() and session.printed == 0
    finally:
        await transport.close()
