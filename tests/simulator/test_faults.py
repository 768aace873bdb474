"""Fault injection: tape running out mid-job, offline, dropped connections, print time and phases."""

from __future__ import annotations

import asyncio
import time

import pytest
from PIL import Image

from appliance.printer.decode import decode_job
from appliance.printer.media import media_for
from appliance.printer.models import get_model
from appliance.printer.status import parse_status
from appliance.printer.transport import TcpTransport, TransportError
from appliance.simulator import Simulator
from appliance.simulator.engine import label_length_mm
from appliance.simulator.output import printed_area

from .helpers import job, label_image, send


async def test_tape_out_mid_job_keeps_the_job_and_finishes_it_after_a_new_cassette(sim: Simulator) -> None:
    media = media_for(get_model("PT-P750W"), "12mm")
    data = job(["PAGE 1", "PAGE 2", "PAGE 3"])
    pages = decode_job(data).pages
    length = label_length_mm(pages[0], media)
    sim.printer.update(tape_remaining_mm=1.5 * length)  # runs out half-way through page 2

    await send(sim, data)
    await sim.wait_idle(5)
    printer = sim.printer
    assert len(printer.printed) == 1
    assert printer.kept is not None and printer.kept.next_page == 1
    status = parse_status(printer.status_block())
    assert status.errors == ("end-of-media",) and status.status_type == "error"
    assert "media-empty" in status.reasons

    # Opening the cover and putting a cassette in is not enough: the cover must close.
    printer.update(cover_open=True, tape="12mm", tape_remaining_mm=None)
    await asyncio.sleep(0.05)
    assert len(printer.printed) == 1
    printer.update(cover_open=False)
    await printer.wait_for(lambda p: len(p.printed) == 3 and p.kept is None, timeout=5)
    await sim.wait_idle(5)

    assert [(label.job, label.page) for label in printer.printed] == [(1, 0), (1, 1), (1, 2)]
    assert printer.jobs_received == 1 and printer.page_counter == 3
    assert parse_status(printer.status_block()).errors == ()
    files = sorted(sim.out_dir.glob("*.png"))
    assert len(files) == 3
    for number, (path, page) in enumerate(zip(files, pages, strict=True), start=1):
        png = Image.open(path)
        area = png.crop(printed_area(png, page, media)).convert("L").point(lambda v: 255 if v > 128 else 0)
        expected = label_image(media, f"PAGE {number}").convert("L")
        assert area.tobytes() == expected.tobytes(), path.name


async def test_opening_the_cover_mid_label_stops_it_until_the_cover_is_closed(sim: Simulator) -> None:
    from appliance.simulator.state import Phase

    printer = sim.printer
    data = job("COVER")
    seconds = label_length_mm(decode_job(data).pages[0], media_for(get_model("PT-P750W"), "12mm")) / 40
    printer.update(speed=40)
    await send(sim, data)
    await printer.wait_for(lambda p: p.phase == Phase.PRINTING, timeout=5)
    printer.update(cover_open=True)
    await asyncio.sleep(seconds + 0.3)  # longer than the whole label takes
    assert printer.printed == [] and printer.page_counter == 0  # it stopped where it was
    assert printer.kept is not None and "cover-open" in parse_status(printer.status_block()).reasons
    printer.update(cover_open=False)
    await printer.wait_for(lambda p: len(p.printed) == 1 and p.kept is None, timeout=5 + seconds)
    await sim.wait_idle(5)
    assert printer.page_counter == 1 and printer.jobs_received == 1  # finished once, without a resend


async def test_a_new_job_while_one_is_kept_is_refused(sim: Simulator) -> None:
    sim.printer.update(tape_remaining_mm=10)
    await send(sim, job("LONG ENOUGH TO RUN OUT"))
    await sim.wait_idle(5)
    assert sim.printer.kept is not None
    await send(sim, job("SECOND"))
    await sim.wait_idle(5)
    assert sim.printer.jobs_refused == 1
    sim.printer.update(tape="12mm", tape_remaining_mm=None)
    await sim.printer.wait_for(lambda p: p.kept is None, timeout=5)
    assert len(sim.printer.printed) == 1


async def test_offline_refuses_connections_and_online_accepts_again(sim: Simulator) -> None:
    sim.printer.update(offline=True)
    await asyncio.sleep(0.05)
    host, port = sim.tcp_address
    with pytest.raises(TransportError) as info:
        await TcpTransport(host, port, connect_timeout=1).send(job("OFFLINE"))
    assert info.value.reason == "printer-offline"
    sim.printer.update(offline=False)
    await sim.printer.wait_for(lambda _: True, timeout=1)
    await asyncio.sleep(0.05)
    await send(sim, job("ONLINE"))
    await sim.wait_idle(5)
    assert len(sim.printer.printed) == 1
    assert sim.tcp_address == (host, port)  # same port after coming back


async def test_drop_after_bytes_drops_the_next_connection_mid_job(sim: Simulator) -> None:
    data = job("DROPPED")
    sim.printer.update(drop_after_bytes=len(data) // 2)
    reader, writer = await asyncio.open_connection(*sim.tcp_address)
    writer.write(data)
    with pytest.raises(ConnectionError):
        await writer.drain()
        writer.write_eof()
        assert await reader.read() == b""  # closed by the printer instead of an error: still dropped
        raise ConnectionResetError
    writer.close()
    await sim.wait_idle(5)
    assert sim.printer.printed == []
    assert "dropped after" in (sim.printer.last_error or "")
    assert sim.printer.drop_after_bytes is None  # one connection only
    await send(sim, data)
    await sim.wait_idle(5)
    assert len(sim.printer.printed) == 1


async def test_printing_takes_time_and_moves_through_the_phases(tmp_path) -> None:
    async with Simulator(out_dir=None, speed=200.0, snmp=None) as sim:
        printer = sim.printer
        seen: list[tuple[str, int]] = []
        printer.add_listener(lambda p: seen.append((p.phase.value, p.status_block()[19])))
        data = job("SLOW")
        length = label_length_mm(decode_job(data).pages[0], media_for(printer.model, "12mm"))
        started = time.perf_counter()
        await send(sim, data)
        await printer.wait_for(lambda p: p.phase.value == "printing", timeout=2)
        assert parse_status(printer.status_block()).phase == "printing"
        await sim.wait_idle(5)
        elapsed = time.perf_counter() - started
        assert elapsed >= length / 200.0 * 0.9
        assert printer.phase.value == "idle"
        phases = [phase for phase, _ in seen]
        assert "receiving" in phases and "printing" in phases and phases[-1] == "idle"
        assert ("printing", 1) in seen
        # What a USB host would have been told: phase change to printing, page done, back to idle.
        kinds = [parse_status(block) for block in printer.notifications]
        summary = [(s.status_type, s.phase) for s in kinds]
        i = summary.index(("phase-change", "printing"))
        assert ("printing-completed", "printing") in summary[i:]
        assert summary[-1] == ("phase-change", "idle")


async def test_status_request_is_answered_only_by_models_that_do() -> None:
    async with Simulator(speed=None, snmp=None) as sim:
        host, port = sim.tcp_address
        asking = TcpTransport(host, port, status_timeout=0.3, answers_status=True)
        assert sim.printer.answers_status_request is False  # as in the model table
        assert await asking.request_status() is None
        sim.printer.answers_status_request = True
        block = await asking.request_status()
        assert block is not None and parse_status(block).media_width_mm == 12
        assert parse_status(block).status_type == "reply"
