"""Brother's own driver output: our decoder reproduces its renders, our encoder its layout and commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from appliance.printer.decode import DecodedJob, decode_job, to_head_image, to_label_image
from appliance.printer.media import media_for
from appliance.printer.models import get_model
from appliance.printer.raster import encode_job

from .util import capture_media_id, capture_model, capture_paths

CAPTURES = capture_paths()
# Commands Brother's drivers send that are undocumented and that we do not send.
UNDOCUMENTED = {"undocumented-U", "undocumented-k"}


def _decode(prn: Path) -> DecodedJob:
    return decode_job(prn.read_bytes(), get_model(capture_model(prn)))


def test_all_captures_present() -> None:
    assert len(CAPTURES) == 7


@pytest.mark.parametrize("prn", CAPTURES, ids=lambda p: p.stem)
def test_decoding_a_capture_reproduces_its_render(prn: Path) -> None:
    job = _decode(prn)
    assert len(job.pages) == 1
    assert job.warnings == []
    ours = to_head_image(job.pages[0])
    render = Image.open(prn.with_suffix(".png")).convert("1")
    assert ours.size == render.size
    assert ours.tobytes() == render.tobytes()


@pytest.mark.parametrize("prn", CAPTURES, ids=lambda p: p.stem)
def test_encoding_a_captures_label_places_ink_where_brothers_driver_does(prn: Path) -> None:
    """Label image from the capture → our encoder → the same head raster, pixel for pixel."""
    model = get_model(capture_model(prn))
    media = media_for(model, capture_media_id(prn))
    page = _decode(prn).pages[0]
    label = to_label_image(page, media)
    ours = decode_job(encode_job(model, media, [label], high_res=page.high_res), model)
    assert to_head_image(ours.pages[0]).tobytes() == to_head_image(page).tobytes()


def _command_names(job: DecodedJob) -> list[str]:
    return [name for name in job.command_names() if name not in UNDOCUMENTED]


@pytest.mark.parametrize(
    ("stem", "cut"),
    [
        ("PT-P700_12mm", "full"),
        ("PT-P900W_12mm-Standard", "half"),
        ("PT-P900W_12mm-Resolution", "half"),
        ("QL-820NWB_Label-29x90mm-Quality", "full"),
        ("QL-820NWB_Tape-29x90mm-Speed", "full"),
    ],
)
def test_command_stream_matches_brothers_driver(stem: str, cut: str) -> None:
    prn = next(p for p in CAPTURES if p.stem == stem)
    model = get_model(capture_model(prn))
    media = media_for(model, capture_media_id(prn))
    theirs = _decode(prn)
    page = theirs.pages[0]
    label = to_label_image(page, media)
    ours = decode_job(encode_job(model, media, [label], cut=cut, high_res=page.high_res), model)

    assert _command_names(ours) == _command_names(theirs)
    args = {name: value for name, value in ours.commands}
    their_args = {name: value for name, value in theirs.commands}
    # Same settings where the features match: cut mode, margin, compression.
    for name in ("various-mode", "margin", "compression", "cut-every", "notification-mode"):
        assert args.get(name) == their_args.get(name), name
    # Advanced mode: Brother's QL high-res capture sets an undocumented 0x02 bit; compare the known bits.
    assert args["advanced-mode"][0] & 0x4D == their_args["advanced-mode"][0] & 0x4D
    # Print info: identical except the "quality" flag (0x40), which we leave to the printer, and the
    # PT-P900W high-res capture's kind 0x09 (undocumented), which it flags as valid.
    ours_info, their_info = args["print-info"], their_args["print-info"]
    assert ours_info[2:] == their_info[2:]
    if not their_info[0] & 0x02 or model.family == "ql720":
        assert ours_info[:2] == bytes((their_info[0] & ~0x40 & 0xFF, their_info[1]))


def _glyphs(label: Image.Image) -> list[Image.Image]:
    """Split the text inside the label's frame into glyph images (runs of inked columns)."""
    width, height = label.size
    inner = label.crop((4, 4, width - 4, height - 4))
    pixels = inner.load()
    inked = [any(pixels[x, y] == 0 for y in range(inner.height)) for x in range(inner.width)]
    glyphs, start = [], None
    for x, ink in enumerate([*inked, False]):
        if ink and start is None:
            start = x
        elif not ink and start is not None:
            glyph = inner.crop((start, 0, x, inner.height))
            glyphs.append(glyph.crop(Image.eval(glyph.convert("L"), lambda v: 255 - v).getbbox()))
            start = None
    return glyphs


def _ink_rows(glyph: Image.Image, y: int) -> int:
    return sum(1 for x in range(glyph.width) if glyph.getpixel((x, y)) == 0)


def _ink_cols(glyph: Image.Image, x: int) -> int:
    return sum(1 for y in range(glyph.height) if glyph.getpixel((x, y)) == 0)


@pytest.mark.parametrize("stem", ["PT-P900W_12mm-Standard", "QL-820NWB_Label-29x90mm-Quality"])
def test_label_image_reads_the_right_way_round(stem: str) -> None:
    """Pin 0 is the label's top edge and raster line 0 its left edge: the text reads normally.

    "PT-P900W": P has its stem on the left and T its bar on top. "QL-820NWB": L has its stem on
    the left and its bar at the bottom. A mirrored or upside-down mapping breaks these.
    """
    prn = next(p for p in CAPTURES if p.stem == stem)
    model = get_model(capture_model(prn))
    label = to_label_image(_decode(prn).pages[0], media_for(model, capture_media_id(prn)))
    glyphs = _glyphs(label)
    first, second = glyphs[0], glyphs[1]
    if stem.startswith("PT"):
        assert _ink_cols(first, 0) > 0.9 * first.height  # P: stem on the left …
        assert _ink_cols(first, first.width - 1) < 0.6 * first.height  # … bowl on the right
        assert _ink_rows(second, 0) > 0.9 * second.width  # T: bar on top
        assert _ink_rows(second, second.height - 1) < 0.4 * second.width
    else:
        assert _ink_cols(second, 0) > 0.9 * second.height  # L: stem on the left
        assert _ink_rows(second, second.height - 1) > 0.9 * second.width  # bar at the bottom
        assert _ink_rows(second, 0) < 0.4 * second.width
