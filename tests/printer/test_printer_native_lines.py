"""The C encoder (appliance/printer/_raster_lines.c) gives, byte for byte, what the Python encoder gives.

encode_job uses it whenever it was built; the captures' tests (test_printer_captures.py) then check
its raster against Brother's driver. Here it is held to the Python path on pages of every head, on
page lengths around its blocks of 64 lines, on PackBits' edge cases, and on what it refuses.
"""

from __future__ import annotations

import os
import random
import shutil
import sysconfig
from pathlib import Path

import pytest
from PIL import Image

from appliance.labels import Canvas, TemplateRegistry, pt_canvas, ql_canvas, render
from appliance.printer import raster
from appliance.printer.media import Media, media_for
from appliance.printer.models import MODELS, Model
from appliance.printer.packbits import compress as packbits
from appliance.printer.raster import _raster_body, encode_job, head_lines

from .util import make_label

FAMILIES = [("PT-P750W", "12mm"), ("PT-P900W", "36mm"), ("QL-820NWB", "62mm"), ("QL-820NWB", "29x90")]


def _can_build() -> bool:
    """The C compiler setuptools would call ($CC, else Python's own) and Python's headers."""
    compiler = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    include = sysconfig.get_paths().get("include")
    return (
        shutil.which(compiler.split()[0]) is not None and include is not None and (Path(include) / "Python.h").exists()
    )


def test_the_c_encoder_was_built_where_it_can_be() -> None:
    if raster._native_lines is None and not _can_build():
        pytest.skip("no C compiler or Python headers here: the encoder uses libtiff or Python")
    assert raster._native_lines is not None, "pip install -e . should have built appliance/printer/_raster_lines.c"


native = pytest.mark.skipif(raster._native_lines is None, reason="the C encoder was not built here")


def _model_media(name: str, media_id: str) -> tuple[Model, Media]:
    model = MODELS[name]
    return model, media_for(model, media_id)


def _python(model: Model, media: Media, page: Image.Image, compress: bool) -> bytes:
    return _raster_body(model, head_lines(model, media, page), compress)


def _c(model: Model, media: Media, page: Image.Image, compress: bool) -> bytes:
    body = raster._native_body(model, media, page, compress)
    assert body is not None
    return body


@native
@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.parametrize(("name", "media_id"), FAMILIES)
def test_pages_of_every_head_and_length_encode_as_in_python(name: str, media_id: str, compress: bool) -> None:
    model, media = _model_media(name, media_id)
    # lengths around the blocks of 8 and 64 lines, and a long one; the encoder itself takes any length
    for seed, width in enumerate((1, 7, 8, 9, 63, 64, 65, 130, 1500)):
        page = make_label(width, media.printable_pins, seed)
        assert _c(model, media, page, compress) == _python(model, media, page, compress), (width, compress)
    blank = Image.new("1", (100, media.printable_pins), 255)
    assert _c(model, media, blank, compress) == _python(model, media, blank, compress)
    if compress:
        assert _c(model, media, blank, True) == b"Z" * 100


@native
@pytest.mark.parametrize(
    ("canvas", "name", "media_id"),
    [(pt_canvas(12, 70), "PT-P750W", "12mm"), (ql_canvas(62, 696), "QL-820NWB", "62mm")],
)
def test_every_builtin_template_encodes_as_in_python(canvas: Canvas, name: str, media_id: str) -> None:
    model, media = _model_media(name, media_id)
    fields = {"text": "Kabel 7", "line2": "Regal 3", "name": "Laptop 3", "asset_id": "IT-000042",
              "cable_diameter_mm": 6}  # fmt: skip
    for template in TemplateRegistry().builtins.values():
        page = render(template, {k: v for k, v in fields.items() if k in template.fields}, canvas).image
        assert _c(model, media, page, True) == _python(model, media, page, True), template.name


def _page_of_lines(lines: list[bytes], head_pins: int) -> Image.Image:
    """The page whose raster line x is lines[x] on a head of `head_pins` pins with no margin."""
    ink = Image.frombytes("1", (head_pins, len(lines)), b"".join(lines))  # row x = line x, set bit = ink
    return ink.transpose(Image.Transpose.TRANSPOSE).point(lambda v: 255 - v)


@native
def test_packbits_edge_cases_are_packed_as_in_python() -> None:
    rng = random.Random(7)
    bpl = 200  # longer than one literal (128 bytes) and one run (128 bytes) can say
    lines = [
        bytes(bpl - 1) + b"\x01",  # a run of 199: two runs
        b"\x01" * bpl,
        bytes(range(bpl)),  # no run at all: two literals
        b"\x05\x05" + bytes(range(10, 10 + bpl - 2)),  # a pair is no run
        b"\x05\x05\x05" + bytes(range(10, 10 + bpl - 3)),  # three are
        bytes(range(10, 10 + bpl - 3)) + b"\x07" * 3,  # a run of three that ends the line
        bytes(range(10, 10 + bpl - 2)) + b"\x07" * 2,  # a pair that ends it
        bytes(bpl),  # an empty line: "Z"
        bytes(range(127)) + b"\xaa" * 3 + bytes(range(70)),
        bytes(range(129)) + b"\xaa" * 71,
    ]
    lines += [bytes(rng.choice(b"\x00\x00\xff\x0f\xf0" + bytes([rng.randrange(256)])) for _ in range(bpl))
              for _ in range(300)]  # fmt: skip
    page = _page_of_lines(lines, bpl * 8)
    assert page.size == (len(lines), bpl * 8)
    pixels = page.tobytes("raw", "L")

    def expected(ql: bool) -> bytes:
        """Each line as PT "G n16" or QL "g 00 n" and its PackBits, or "Z" when it is empty."""
        out = []
        for line in lines:
            packed = packbits(line)
            header = b"g\x00" + bytes([len(packed)]) if ql else b"G" + len(packed).to_bytes(2, "little")
            out.append(header + packed if any(line) else b"Z")
        return b"".join(out)

    for ql in (False, True):
        assert raster._native_lines(pixels, page.width, page.height, bpl * 8, 0, True, ql) == expected(ql)


@native
def test_the_c_encoder_refuses_what_does_not_fit_the_head() -> None:
    encode = raster._native_lines
    with pytest.raises(ValueError, match="not width x height"):
        encode(b"\x00" * 10, 3, 3, 8, 0, True, True)
    with pytest.raises(ValueError, match="multiple of 8"):
        encode(b"\x00" * 12, 1, 12, 12, 0, True, True)
    with pytest.raises(ValueError, match="outside the head"):
        encode(b"\x00" * 8, 1, 8, 8, 1, True, True)
    with pytest.raises(ValueError, match="over the QL limit of 2016 pins"):  # a QL line's length is one byte
        encode(b"", 0, 0, 8 * 253, 0, True, True)
    with pytest.raises(ValueError, match="over the PT limit of 65536 pins"):
        encode(b"", 0, 0, 8 * 8193, 0, True, False)
    assert encode(b"", 0, 0, 8 * 8192, 0, True, False) == b""
    assert encode(b"", 0, 0, 8, 0, True, True) == b""
    for width, height, left in ((-1, 1, 0), (1, -1, 0), (1, 1, -1)):
        with pytest.raises(ValueError):
            encode(b"\x00", width, height, 8, left, True, True)


@native
def test_the_c_encoder_refuses_sizes_that_overflow() -> None:
    """Sizes whose products wrap around in C must be refused, not encoded from memory they do not own."""
    encode = raster._native_lines
    with pytest.raises(ValueError, match="not width x height"):  # (2**62 + 1) x 4 wraps to 4 = len
        encode(b"\x00" * 4, 2**62 + 1, 4, 8, 0, True, False)
    with pytest.raises(ValueError, match="not width x height"):  # (2**61 + 1) x 8 wraps to 8
        encode(b"\x00" * 8, 2**61 + 1, 8, 64, 0, True, False)
    with pytest.raises(ValueError, match="outside the head"):  # left + height wraps below the head
        encode(b"\x00" * 4, 1, 4, 8, 2**63 - 2, True, False)
    with pytest.raises(ValueError, match="too many raster lines"):  # no rows, but the output would not fit
        encode(b"", 2**61, 0, 32, 0, True, False)


@native
def test_encode_job_uses_the_c_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    model, media = _model_media("QL-820NWB", "62mm")
    page = make_label(media.length_limits_dots()[0], media.printable_pins, 3)
    calls: list[int] = []
    built = raster._native_lines

    def counted(*args: object) -> bytes:
        calls.append(1)
        return built(*args)

    monkeypatch.setattr(raster, "_native_lines", counted)
    job = encode_job(model, media, [page], copies=2)
    assert calls == [1]  # one body for both copies
    assert job.count(_python(model, media, page, True)) == 2
