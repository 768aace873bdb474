"""The USB transport reads the printer's status blocks while it prints: the virtual PT-P750W on a pty.

Each test drives the real UsbTransport/UsbSession against the simulator's USB device (the same print
engine as its TCP port) and checks both sides: what the transport heard, and what the printer printed.
"""

from __future__ import annotations

import asyncio
import errno
import os
import time
from pathlib import Path

import pytest

from appliance.printer.media import media_for
from appliance.printer.models import get_model
from appliance.printer.raster import encode_job
from appliance.printer.status import parse_status
from appliance.printer.transport import TransportError, UsbTransport, open_transport
from tests.printer.util import make_label
from tests.simulator.helpers import job
from tests.usb.conftest import count, events_until, kinds

THREE = job("usb", copies=3)
def noisy_job(copies: int) -> bytes:
    """Labels of noise: PackBits cannot shrink them, so the job is big."""
    model = get_model("PT-P750W")
    media = media_for(model, "12mm")
    return encode_job(model, media, [make_label(*media.size_px(30), seed=35)], copies=copies)


def present(path: Path) -> bool:
    return os.path.lexists(path)


LABEL_MM = 30 + 2 * 14 * 25.4 / 180  # the label plus its two default margins of 14 dots


async def test_status_request_and_reply_outside_and_inside_a_session(usb_printers) -> None:
    sim = await usb_printers(tape="24mm")
    transport = open_transport(sim.uri)
    assert isinstance(transport, UsbTransport)
    block = await transport.request_status()
    assert block is not None
    status = parse_status(block)
    assert (status.status_type, status.media_width_mm, status.model, status.phase) == ("reply", 24, "PT-P750W", "idle")
    session = await transport.session()
    try:
        reply = await session.request_status()
        assert reply is not None and reply.media_width_mm == 24 and reply.status_type == "reply"
        # while the session holds the device, the transport asks through it (usblp opens once)
        assert parse_status(await transport.request_status() or b"").status_type == "reply"
        assert session.events.empty()  # replies answer the request; they are not events
    finally:
        await transport.close()


async def test_a_three_copy_job_confirms_each_label_in_order(usb_printers) -> None:
    sim = await usb_printers()
    transport = open_transport(sim.uri)
    session = await transport.session()
    try:
        await session.send(THREE, timeout=5)
        events = await events_until(session, lambda ev: kinds(ev)[-1:] == ["phase:idle"])
    finally:
        await transport.close()
    assert kinds(events) == ["phase:printing", "printed", "printed", "printed", "phase:idle"]
    assert session.printed == 3 and len(sim.printer.printed) == 3


async def test_tape_out_after_the_first_label_then_the_rest_without_a_resend(usb_printers) -> None:
    sim = await usb_printers(tape_remaining_mm=LABEL_MM * 1.5)
    transport = open_transport(sim.uri)
    session = await transport.session()
    try:
        await session.send(THREE, timeout=5)
        first = await events_until(session, lambda ev: count(ev, "error") == 1)
        assert kinds(first) == ["phase:printing", "printed", "phase:idle", "error:media-empty"]
        assert first[-1].status is not None and first[-1].status.state == "stopped"
        assert len(sim.printer.printed) == 1
        # the person puts in a new cassette (a long one): the printer finishes the job it kept
        sim.printer.update(tape="12mm", tape_remaining_mm=None)
        rest = await events_until(session, lambda ev: kinds(ev)[-1:] == ["phase:idle"])
    finally:
        await transport.close()
    assert kinds(rest) == ["phase:printing", "printed", "printed", "phase:idle"]
    assert session.printed == 3
    assert len(sim.printer.printed) == 3 and sim.printer.jobs_received == 1  # three labels, one job, no resend


async def test_cover_opened_mid_job_stops_it_and_closing_it_finishes_it(usb_printers) -> None:
    sim = await usb_printers(speed=120.0)  # about 0.4 s a label: room to open the cover in the second
    transport = open_transport(sim.uri)
    session = await transport.session()
    try:
        await session.send(THREE, timeout=5)
        await events_until(session, lambda ev: count(ev, "printed") == 1)
        sim.printer.update(cover_open=True)
        stopped = await events_until(session, lambda ev: kinds(ev)[-1:] == ["phase:idle"])
        assert kinds(stopped) == ["notification:cover-open", "error:cover-open", "phase:idle"]
        status = await session.request_status()  # mid-job only ESC i S goes out: nothing is cleared
        assert status is not None and status.reasons[0] == "cover-open"
        sim.printer.update(cover_open=False)
        rest = await events_until(session, lambda ev: kinds(ev)[-1:] == ["phase:idle"])
    finally:
        await transport.close()
    assert kinds(rest) == ["notification:cover-closed", "phase:printing", "printed", "printed", "phase:idle"]
    assert session.printed == 3 and len(sim.printer.printed) == 3 and sim.printer.jobs_received == 1


async def test_wrong_tape_is_an_error_block_and_prints_nothing(usb_printers) -> None:
    sim = await usb_printers(tape="24mm")
    transport = open_transport(sim.uri)
    session = await transport.session()
    try:
        await session.send(job("for 12 mm"), timeout=5)
        events = await events_until(session, lambda ev: count(ev, "error") == 1)
    finally:
        await transport.close()
    assert kinds(events) == ["error:media-mismatch"]
    assert sim.printer.printed == []


async def test_unplugged_mid_job_fails_reads_and_writes_and_comes_back(usb_printers) -> None:
    sim = await usb_printers(speed=120.0)
    assert sim.usb is not None
    path = sim.usb.path
    transport = open_transport(sim.uri)
    session = await transport.session()
    await session.send(THREE, timeout=5)
    await events_until(session, lambda ev: count(ev, "printed") == 1)
    sim.usb.apply({"unplugged": True})
    lost = await events_until(session, lambda ev: count(ev, "offline") == 1)
    assert kinds(lost)[-1] == "offline:printer-offline" and "No such device" in str(lost[-1].error)
    assert not present(path)  # the node is gone, as udev removes it
    with pytest.raises(TransportError) as write_failed:
        await session.send(b"\x00" * 64, timeout=1)
    assert write_failed.value.reason == "printer-offline"
    await transport.close()
    with pytest.raises(TransportError) as cannot_open:
        await transport.session()
    assert (cannot_open.value.reason, cannot_open.value.reached) == ("printer-offline", False)
    # the printer itself goes on with what it got; what it says meanwhile is lost
    await sim.wait_idle(timeout=5)
    sim.usb.apply({"unplugged": False})
    session = await transport.session()
    try:
        status = await session.request_status()
        assert status is not None and status.state == "idle" and status.reasons == []
        assert session.events.empty()  # no block from before the plug-in
    finally:
        await transport.close()
    assert len(sim.printer.printed) == 3 and sim.printer.jobs_received == 1


async def test_a_printer_that_answers_nothing_keeps_the_old_behaviour(usb_printers) -> None:
    sim = await usb_printers(speed=None)
    assert sim.usb is not None
    sim.usb.apply({"answers_status": False})
    transport = UsbTransport(str(sim.usb.path), status_timeout=0.3)
    started = time.monotonic()
    assert await transport.request_status() is None
    assert time.monotonic() - started < 2
    session = await transport.session()
    try:
        await session.send(THREE, timeout=5)
        await sim.printer.wait_for(lambda p: len(p.printed) == 3, timeout=5)
        assert await session.next_event(0.3) is None
        assert (session.heard, session.printed) == (False, 0)
    finally:
        await transport.close()
    assert len(sim.printer.printed) == 3


async def test_blocks_left_from_before_are_not_read_as_this_jobs(usb_printers) -> None:
    sim = await usb_printers(speed=None)
    transport = open_transport(sim.uri)
    await transport.send(THREE)  # written and closed: the printer's blocks come after, and wait in the line
    await sim.printer.wait_for(lambda p: len(p.printed) == 3, timeout=5)
    second = await transport.session()
    try:
        assert await second.request_status() is not None  # the first request settles what is old
        assert [e.kind for e in second.before] == ["phase", "printed", "printed", "printed", "phase"]
        assert second.events.empty() and second.printed == 0
        await second.send(job("next"), timeout=5)
        events = await events_until(second, lambda ev: kinds(ev)[-1:] == ["phase:idle"])
    finally:
        await transport.close()
    assert kinds(events) == ["phase:printing", "printed", "phase:idle"]


async def test_the_old_send_still_works_and_status_skips_unasked_blocks(usb_printers) -> None:
    """The worker today: send() then request_status(); the label's blocks sit before the reply."""
    sim = await usb_printers(speed=None)
    transport = open_transport(sim.uri)
    await transport.send(job("plain"))
    await sim.printer.wait_for(lambda p: len(p.printed) == 1, timeout=5)
    block = await transport.request_status()
    assert block is not None and parse_status(block).status_type == "reply"
    assert len(sim.printer.printed) == 1


async def test_a_session_that_died_mid_job_is_followed_by_one_that_reads_the_rest(usb_printers) -> None:
    """The appliance killed mid-job: the printer goes on; a new session asks first, then hears the rest."""
    sim = await usb_printers(speed=100.0)  # about 0.45 s a label
    transport = open_transport(sim.uri)
    first = await transport.session()
    await first.send(THREE, timeout=5)
    await events_until(first, lambda ev: count(ev, "printed") == 1)
    await transport.close()  # as a SIGKILL closes it
    second = await transport.session()
    try:
        status = await second.request_status()
        assert status is not None and status.phase == "printing" and status.reasons == []
        rest = await events_until(second, lambda ev: kinds(ev)[-1:] == ["phase:idle"])
    finally:
        await transport.close()
    assert count(rest, "printed") + count(second.before, "printed") == 2  # labels 2 and 3, each heard once
    assert len(sim.printer.printed) == 3 and sim.printer.jobs_received == 1


async def test_a_status_probe_of_another_transport_asks_through_the_open_session(
    usb_printers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The status monitor has its own transport; usblp lets one open in (faked here: EBUSY), so its
    probe goes through the job's session, after the job's last byte, and takes none of its events."""
    sim = await usb_printers(speed=None)
    assert sim.usb is not None
    node = sim.usb.pty_name  # where the link points
    real_open = os.open
    holders: list[str] = []

    def usblp_open(name, flags, *args, **kwargs):  # type: ignore[no-untyped-def]
        if os.path.realpath(name) == node:
            if holders:
                raise OSError(errno.EBUSY, os.strerror(errno.EBUSY), name)
            holders.append("x")
        return real_open(name, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", usblp_open)
    big = noisy_job(copies=40)  # more than the line holds: the write waits for the printer to read
    job_transport, monitor_transport = open_transport(sim.uri), open_transport(sim.uri)
    session = await job_transport.session()
    try:
        sending = asyncio.create_task(session.send(big, timeout=10))
        await asyncio.sleep(0)
        assert not sending.done()
        block = await monitor_transport.request_status()  # while the job is being written
        assert sending.done()  # the request waited for the job's last byte
        assert block is not None and parse_status(block).status_type == "reply"
        events = await events_until(session, lambda ev: kinds(ev)[-1:] == ["phase:idle"])
    finally:
        await job_transport.close()
    assert kinds(events) == ["phase:printing", *["printed"] * 40, "phase:idle"]
    assert sim.printer.jobs_received == 1 and len(sim.printer.printed) == 40 and sim.printer.last_error is None
