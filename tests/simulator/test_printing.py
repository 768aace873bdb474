"""The virtual printer over real TCP: labels come out as PNGs, bad jobs are refused like a printer does."""

from __future__ import annotations

import random

import pytest
from PIL import Image, ImageChops

from appliance.printer.decode import decode_job
from appliance.printer.media import media_for
from appliance.printer.models import get_model
from appliance.printer.status import parse_status
from appliance.simulator import Simulator
from appliance.simulator.output import printed_area

from .helpers import job, label_image, send


def _ink(png: Image.Image) -> Image.Image:
    """The PNG's pixels as black (ink) and white (tape), mode L (ImageChops misreads mode 1)."""
    return png.convert("L").point(lambda v: 255 if v > 128 else 0)


def _same(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and ImageChops.difference(a.convert("L"), b.convert("L")).getbbox() is None


async def test_label_comes_out_as_a_png_matching_the_image(sim: Simulator) -> None:
    media = media_for(get_model("PT-P750W"), "12mm")
    data = job("HELLO 12")
    await send(sim, data)
    await sim.wait_idle(5)

    files = sorted(sim.out_dir.glob("*.png"))
    assert [f.name[:7] for f in files] == ["000001-"]
    png = Image.open(files[0])
    page = decode_job(data).pages[0]
    assert png.size == (len(page.lines) + 2 * page.margin_dots, round(12 * 180 / 25.4))
    area = _ink(png.crop(printed_area(png, page, media)))
    assert _same(area, label_image(media, "HELLO 12"))
    # The tape outside the printed area is plain tape.
    assert png.getpixel((1, 1)) == (255, 255, 255)
    assert sim.printer.to_json()["printed"][0]["file"] == str(files[0])


async def test_a_different_label_does_not_match(sim: Simulator) -> None:
    """The comparison above can fail: another text gives another picture."""
    media = media_for(get_model("PT-P750W"), "12mm")
    await send(sim, job("HELLO 12"))
    await sim.wait_idle(5)
    png = Image.open(next(sim.out_dir.glob("*.png")))
    page = decode_job(job("HELLO 12")).pages[0]
    area = _ink(png.crop(printed_area(png, page, media)))
    assert _same(area, label_image(media, "HELLO 12"))
    assert not _same(area, label_image(media, "HELLO 13"))


async def test_wrong_tape_is_refused_with_the_real_error(sim: Simulator) -> None:
    await send(sim, job("for 24 mm", tape="24mm"))
    await sim.wait_idle(5)
    assert sim.printer.printed == []
    assert not sim.out_dir.exists() or not list(sim.out_dir.iterdir())
    status = parse_status(sim.printer.status_block())
    assert status.errors == ("wrong-media",)
    assert status.status_type == "error" and status.media_width_mm == 12
    assert "media-mismatch" in status.reasons
    assert sim.printer.status_block()[9] & 0x01  # error 2, bit 0
    # The right tape prints afterwards, and the error is gone.
    await send(sim, job("for 12 mm"))
    await sim.wait_idle(5)
    assert len(sim.printer.printed) == 1
    assert parse_status(sim.printer.status_block()).errors == ()


async def test_pt_p750w_prints_uncompressed_raster_blank(sim: Simulator) -> None:
    # PT-P700 shares the 128-pin head but does not need compression: its encoder sends M 00.
    data = job("NO COMPRESSION", model="PT-P700", compress=False)
    assert b"M\x00" in data
    await send(sim, data)
    await sim.wait_idle(5)
    (label,) = sim.printer.printed
    assert label.blank
    png = Image.open(label.file)
    assert png.convert("L").getextrema() == (255, 255)  # tape only, no ink


async def test_pt_p700_prints_the_same_uncompressed_job(tmp_path) -> None:
    async with Simulator("PT-P700", "12mm", out_dir=tmp_path, speed=None, snmp=None) as sim:
        await send(sim, job("NO COMPRESSION", model="PT-P700", compress=False))
        await sim.wait_idle(5)
        (label,) = sim.printer.printed
        assert not label.blank
        assert Image.open(label.file).convert("L").getextrema()[0] == 0


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_garbage_and_truncated_streams_are_reported_and_survived(sim: Simulator, seed: int) -> None:
    rng = random.Random(seed)
    good = job("AFTER GARBAGE")
    await send(sim, bytes(rng.randrange(256) for _ in range(rng.randrange(10, 5000))))
    await send(sim, good[: len(good) // 2])  # cut mid-raster
    await send(sim, good[:-1])  # everything but the final 1A
    await sim.wait_idle(5)
    assert sim.printer.printed == []
    assert sim.printer.last_error and "malformed" in sim.printer.last_error
    await send(sim, good)
    await sim.wait_idle(5)
    assert len(sim.printer.printed) == 1


async def test_two_jobs_on_one_connection_both_print(sim: Simulator) -> None:
    await send(sim, job("ONE") + job("TWO"))
    await sim.wait_idle(5)
    assert [label.job for label in sim.printer.printed] == [1, 2]


async def test_cover_open_and_no_cassette_refuse_jobs(sim: Simulator) -> None:
    sim.printer.update(cover_open=True)
    await send(sim, job("X"))
    await sim.wait_idle(5)
    assert parse_status(sim.printer.status_block()).errors == ("cover-open",)
    sim.printer.update(cover_open=False, tape=None)
    await send(sim, job("X"))
    await sim.wait_idle(5)
    status = parse_status(sim.printer.status_block())
    assert status.errors == ("no-media",) and status.media_width_mm == 0
    assert sim.printer.printed == [] and sim.printer.jobs_refused == 2
    assert sim.printer.last_error == "job refused: no tape cassette"


async def test_page_counter_survives_a_restart_like_nvram(sim: Simulator) -> None:
    await send(sim, job("ONE"))
    await send(sim, job("TWO"))
    await sim.wait_idle(5)
    assert sim.printer.page_counter == 2
    async with Simulator(out_dir=sim.out_dir, speed=None) as again:  # switched off and on again
        assert again.printer.page_counter == 2
        await send(again, job("THREE"))
        await again.wait_idle(5)
        assert again.printer.page_counter == 3
    async with Simulator(out_dir=sim.out_dir.parent / "elsewhere", speed=None) as other:
        assert other.printer.page_counter == 0  # another printer


async def test_a_label_is_named_only_once_the_page_counter_counts_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "printed"
    (out / "page-counter").mkdir(parents=True)  # the counter cannot be written: the label never counts as out
    async with Simulator(out_dir=out, speed=None, snmp=None) as sim:
        await send(sim, job("lost"))
        await sim.wait_idle(5)
    assert list(out.glob("*.png")) == []  # no picture of a label the counter does not know


async def test_a_restarted_printer_settles_the_pictures_a_kill_left_aside(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "printed"
    async with Simulator(out_dir=out, speed=None, snmp=None) as sim:
        await send(sim, job("one"))
        await sim.wait_idle(5)
    (done,) = out.glob("*.png")
    counted = out / ("000002-" + done.name[7:] + ".tmp")  # killed after the counter moved, before the rename
    counted.write_bytes(done.read_bytes())
    (out / "page-counter").write_text("2\n")
    uncounted = out / ("000003-" + done.name[7:] + ".tmp")  # killed before the counter moved: never came out
    uncounted.write_bytes(done.read_bytes())
    async with Simulator(out_dir=out, speed=None, snmp=None) as again:
        assert again.printer.page_counter == 2
    assert sorted(f.name[:7] for f in out.iterdir() if f.name != "page-counter") == ["000001-", "000002-"]
    assert (out / counted.name[:-4]).read_bytes() == done.read_bytes()


async def test_a_restarted_printer_numbers_its_labels_on_from_its_page_counter(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "printed"
    for _ in range(2):  # the same output folder across a restart, as `appliance simulate --out` keeps it
        async with Simulator("PT-P750W", "12mm", out_dir=out, speed=None, snmp=None) as sim:
            await send(sim, job("again"))
            await sim.wait_idle(5)
    assert sorted(f.name[:7] for f in out.glob("*.png")) == ["000001-", "000002-"]  # not two 000001s


def _with_print_info(data: bytes, flags: int, kind: int, width: int = 12) -> bytes:
    """The job with its `ESC i z` n1 (valid flags), n2 (kind) and n3 (width) set as host libraries send them."""
    at = data.index(b"\x1biz") + 3
    assert data.count(b"\x1biz") == 1
    return data[:at] + bytes((flags, kind, width)) + data[at + 3:]


@pytest.mark.parametrize(("flags", "kind", "width", "prints"), [
    (0x84, 0x00, 12, True),    # width only (Brother's P700 driver): the kind is not looked at
    (0x86, 0x00, 12, True),    # kind flag with kind 00: "whatever is loaded"
    (0x86, 0x01, 12, True),    # the loaded kind, laminated
    (0x86, 0x03, 12, False),   # non-laminated asked for, laminated loaded
    (0x86, 0x00, 24, False),   # any kind, but 24 mm asked for on 12 mm tape
    (0x84, 0x00, 24, False),   # the wrong width alone
], ids=["84-no-kind", "86-kind-00", "86-loaded-kind", "86-other-kind", "86-kind-00-wrong-width", "84-wrong-width"])
async def test_print_information_is_judged_as_a_printer_judges_it(sim: Simulator, flags: int, kind: int, width: int,
                                                                  prints: bool) -> None:
    assert sim.printer.tape is not None and sim.printer.tape.media_type_code == 0x01  # 12 mm laminated
    data = _with_print_info(job("ANY TAPE"), flags, kind, width)
    await send(sim, data)
    await sim.wait_idle(5)
    status = parse_status(sim.printer.status_block())
    if prints:
        assert len(sim.printer.printed) == 1 and not sim.printer.printed[0].blank
        assert status.errors == ()
    else:
        assert sim.printer.printed == []
        assert status.errors == ("wrong-media",) and status.status_type == "error"
        assert sim.printer.status_block()[9] & 0x01  # error 2, bit 0: what a real printer answers
        assert sim.printer.last_error and "refused" in sim.printer.last_error
