"""Encode → decode gives back the exact label, for every model and medium."""

from __future__ import annotations

import pytest

from appliance.printer.decode import decode_job, to_label_image
from appliance.printer.media import Media, media_table
from appliance.printer.models import MODELS, Model
from appliance.printer.raster import encode_job

from .util import make_label

CASES = [(model, media) for model in MODELS.values() for media in media_table(model).values()]


def _lengths(media: Media, high_res: bool) -> list[int]:
    low, high = media.length_limits_dots(high_res)
    if low == high:
        return [low, low]
    return [low, min(high, low + 97), min(high, 2 * low + 301)]


@pytest.mark.parametrize("high_res", [False, True], ids=["standard", "high-res"])
@pytest.mark.parametrize(("model", "media"), CASES, ids=[f"{m.name}-{t.id}" for m, t in CASES])
def test_roundtrip_is_pixel_exact(model: Model, media: Media, high_res: bool) -> None:
    if high_res and not model.high_res:
        pytest.skip(f"{model.name} has no high-res mode")
    labels = [make_label(width, media.printable_pins, seed) for seed, width in enumerate(_lengths(media, high_res))]
    data = encode_job(model, media, labels, copies=2, high_res=high_res)
    job = decode_job(data, model)

    assert job.warnings == []
    assert len(job.pages) == 2 * len(labels)
    for position, page in enumerate(job.pages):
        label = labels[position % len(labels)]
        assert to_label_image(page, media).tobytes() == label.tobytes()
        assert page.bytes_per_line == model.bytes_per_line
        assert page.high_res == high_res
        assert page.compression == (2 if model.supports_compression else None)
        info = page.info
        assert info is not None
        assert (info.raster_lines, info.width_mm, info.length_mm) == (
            label.width,
            media.width_code,
            media.length_mm or 0,
        )
        last = position == len(job.pages) - 1
        expected_index = 2 if last and model.marks_last_page else (0 if position == 0 else 1)
        assert info.page == expected_index
        assert page.ended_by == ("print-feed" if last else "print")
        # Ink only inside the printable pins: the margins of every line are blank.
        for line in page.lines:
            bits = int.from_bytes(line, "big")
            printable = ((1 << media.printable_pins) - 1) << (
                model.head_pins - media.left_margin_pins - media.printable_pins
            )
            assert bits & ~printable == 0


@pytest.mark.parametrize("name", ["PT-P700", "PT-P900W", "QL-810W"])
def test_uncompressed_roundtrip(name: str) -> None:
    model = MODELS[name]
    media = next(iter(media_table(model).values()))
    labels = [make_label(media.length_limits_dots()[0] + 40, media.printable_pins, 7)]
    job = decode_job(encode_job(model, media, labels, compress=False), model)
    assert job.pages[0].compression == 0
    assert job.pages[0].uncompressed_lines == labels[0].width
    assert to_label_image(job.pages[0], media).tobytes() == labels[0].tobytes()


def test_blank_lines_become_z_and_repeat_lines_are_compressed() -> None:
    model, media = MODELS["PT-P750W"], media_table(MODELS["PT-P750W"])["12mm"]
    from PIL import Image

    blank = Image.new("1", (200, media.printable_pins), 1)
    data = encode_job(model, media, [blank])
    job = decode_job(data, model)
    assert [name for name, _ in job.commands].count("zero-raster") == 200
    assert all(line == bytes(16) for line in job.pages[0].lines)
    assert len(data) < 100 + 60 + 200 + 5


def test_cut_modes_set_the_documented_bits() -> None:
    model = MODELS["PT-P750W"]
    media = media_table(model)["12mm"]
    label = make_label(100, media.printable_pins, 1)
    expect = {"full": (0x40, 0x08), "half": (0x40, 0x0C), "chain": (0x40, 0x00), "none": (0x00, 0x08)}
    for cut, (various, advanced) in expect.items():
        page = decode_job(encode_job(model, media, [label], cut=cut, cut_every=3), model).pages[0]
        assert (page.various_mode, page.advanced_mode) == (various, advanced), cut
        assert page.cut_every == (None if cut == "none" else 3)
    page = decode_job(encode_job(model, media, [label], high_res=True, margin_dots=20), model).pages[0]
    assert page.advanced_mode == 0x48
    assert page.margin_dots == 40


def test_die_cut_job_has_no_margin_and_announces_its_length() -> None:
    model = MODELS["QL-820NWB"]
    media = media_table(model)["62x100"]
    label = make_label(media.printable_length_dots or 0, media.printable_pins, 3)
    job = decode_job(encode_job(model, media, [label]), model)
    page = job.pages[0]
    assert page.margin_dots == 0
    assert page.info is not None
    assert (page.info.flags, page.info.media_type, page.info.width_mm, page.info.length_mm) == (0x8E, 0x0B, 62, 100)
