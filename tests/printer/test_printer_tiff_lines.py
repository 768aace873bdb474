"""libtiff's PackBits (the path without the C encoder) and ours in Python (the last fallback) give the printer
the same raster. The C encoder is left out of these tests (see test_printer_native_lines.py)."""

from __future__ import annotations

import struct

import pytest
from PIL import Image

from appliance.labels import Canvas, TemplateRegistry, pt_canvas, ql_canvas, render
from appliance.printer import raster, tiff_lines
from appliance.printer.decode import DecodedJob, decode_job, to_label_image
from appliance.printer.media import Media, media_for
from appliance.printer.models import MODELS, Model
from appliance.printer.raster import _packed_body, _raster_body, encode_job, head_lines

from .util import make_label

# One model and medium per head family, with the margin that is not a whole byte on QL (12 pins).
FAMILIES = [("PT-P750W", "12mm"), ("PT-P900W", "36mm"), ("QL-820NWB", "62mm"), ("QL-820NWB", "29x90")]
needs_libtiff = pytest.mark.skipif(not tiff_lines.available(), reason="this Pillow has no libtiff")


def _model_media(name: str, media_id: str) -> tuple[Model, Media]:
    model = MODELS[name]
    return model, media_for(model, media_id)


def _pages(media: Media) -> list[Image.Image]:
    low, high = media.length_limits_dots()
    widths = [low] if low == high else [low, min(high, low + 333)]
    pages = [make_label(width, media.printable_pins, seed) for seed, width in enumerate(widths)]
    pages.append(Image.new("1", (low, media.printable_pins), 255))  # blank: every line is Z
    return pages


@pytest.fixture(autouse=True)
def _without_the_c_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on a machine that installed the package without a C compiler."""
    monkeypatch.setattr(raster, "_native_lines", None)


def _python_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Pillow built without libtiff cannot exist here, so its one difference is patched in."""
    monkeypatch.setattr(tiff_lines, "available", lambda: False)


def _both_paths(
    model: Model, media: Media, pages: list[Image.Image], monkeypatch: pytest.MonkeyPatch
) -> tuple[bytes, bytes]:
    fast = encode_job(model, media, pages)
    with monkeypatch.context() as patch:
        _python_path(patch)
        python = encode_job(model, media, pages)
    # the fast job really holds libtiff's bodies, the other one the Python encoder's
    assert all(_packed_body(model, media, page) in fast for page in pages)
    assert all(_raster_body(model, head_lines(model, media, page), True) in python for page in pages)
    return fast, python


def _zero_lines(job: DecodedJob) -> int:
    return [name for name, _ in job.commands].count("zero-raster")


def _assert_same_raster(model: Model, fast: bytes, python: bytes) -> None:
    ours, theirs = decode_job(fast, model), decode_job(python, model)
    assert ours.warnings == theirs.warnings == []
    assert [page.lines for page in ours.pages] == [page.lines for page in theirs.pages]
    assert _zero_lines(ours) == _zero_lines(theirs)  # blank lines are Z on both paths
    assert len(fast) <= len(python) * 1.05  # and libtiff compresses as well as we do


@needs_libtiff
@pytest.mark.parametrize(("name", "media_id"), FAMILIES)
def test_both_paths_give_the_same_raster(name: str, media_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    model, media = _model_media(name, media_id)
    _assert_same_raster(model, *_both_paths(model, media, _pages(media), monkeypatch))


@needs_libtiff
@pytest.mark.parametrize(
    ("canvas", "name", "media_id"),
    [(pt_canvas(12, 70), "PT-P750W", "12mm"), (ql_canvas(62, 696), "QL-820NWB", "62mm")],
)
def test_both_paths_agree_on_every_builtin_template(
    canvas: Canvas, name: str, media_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    model, media = _model_media(name, media_id)
    fields = {"text": "Kabel 7", "name": "Laptop 3", "asset_id": "IT-000042", "cable_diameter_mm": 6}
    pages = []
    for template in TemplateRegistry().builtins.values():
        wanted = {k: v for k, v in fields.items() if k in template.fields}
        pages.append(render(template, wanted, canvas).image)
    _assert_same_raster(model, *_both_paths(model, media, pages, monkeypatch))


@pytest.mark.parametrize(("name", "media_id"), FAMILIES)
def test_without_libtiff_the_python_path_encodes_the_job(
    name: str, media_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    model, media = _model_media(name, media_id)
    pages = _pages(media)
    _python_path(monkeypatch)
    assert tiff_lines.packed_lines(Image.new("1", (model.head_pins, 4), 0)) is None
    data = encode_job(model, media, pages)
    for page, label in zip(decode_job(data, model).pages, pages, strict=True):
        assert to_label_image(page, media).tobytes() == label.tobytes()
    # the fallback is exactly the Python encoder: each page's body is in the job byte for byte
    assert all(_raster_body(model, head_lines(model, media, page), True) in data for page in pages)


def _tiff(order: str, kind: int, offsets: list[int], sizes: list[int], payload: bytes) -> bytes:
    """A classic TIFF holding ``payload`` after the header and an IFD with the two strip tags."""
    code = {3: "H", 4: "I"}[kind]
    mark = b"II" if order == "<" else b"MM"
    ifd_at = 8 + len(payload)
    arrays_at = ifd_at + 2 + 2 * 12 + 4
    entries, extra = [], b""
    for tag, values in ((273, offsets), (279, sizes)):
        packed = struct.pack(order + code * len(values), *values)
        if len(packed) <= 4:
            value = packed.ljust(4, b"\x00")
        else:
            value = struct.pack(order + "I", arrays_at + len(extra))
            extra += packed
        entries.append(struct.pack(order + "HHI", tag, kind, len(values)) + value)
    head = mark + struct.pack(order + "HI", 42, ifd_at)
    return head + payload + struct.pack(order + "H", 2) + b"".join(entries) + b"\x00" * 4 + extra


@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize("kind", [3, 4])
@pytest.mark.parametrize("count", [1, 2, 5])
def test_strips_are_read_in_either_byte_order(order: str, kind: int, count: int) -> None:
    parts = [bytes([n]) * (n + 1) for n in range(count)]
    offsets, at = [], 8
    for part in parts:
        offsets.append(at)
        at += len(part)
    data = _tiff(order, kind, offsets, [len(p) for p in parts], b"".join(parts))
    assert tiff_lines.strips(data) == parts


@pytest.mark.parametrize("data", [b"", b"GIF89a\x00\x00", b"II*\x00\x08\x00\x00\x00\x00\x00\x00\x00"])
def test_strips_refuses_what_is_not_a_strip_tiff(data: bytes) -> None:
    with pytest.raises((tiff_lines.TiffLayoutError, struct.error)):
        tiff_lines.strips(data)


def test_strip_tag_past_the_end_is_refused() -> None:
    data = _tiff("<", 4, [8, 9, 10], [1, 1, 1], b"abc")
    with pytest.raises(tiff_lines.TiffLayoutError, match="past the end"):
        tiff_lines.strips(data[:-4])


def _with_compression(data: bytes, scheme: int) -> bytes:
    """`data` (from _tiff, little-endian) with a compression tag of `scheme` added to its IFD."""
    (ifd,) = struct.unpack_from("<I", data, 4)
    (count,) = struct.unpack_from("<H", data, ifd)
    entry = struct.pack("<HHIHH", 259, 3, 1, scheme, 0)
    entries = data[ifd + 2: ifd + 2 + 12 * count]
    moved = len(entry)  # the arrays after the IFD move by one entry
    fixed = b""
    for index in range(count):
        tag, kind, n, value = struct.unpack_from("<HHI4s", entries, 12 * index)
        if n * {3: 2, 4: 4}[kind] > 4:
            value = struct.pack("<I", struct.unpack("<I", value)[0] + moved)
        fixed += struct.pack("<HHI", tag, kind, n) + value
    rest = data[ifd + 2 + 12 * count:]
    return data[:ifd] + struct.pack("<H", count + 1) + entry + fixed + rest


def test_strips_compressed_otherwise_than_asked_are_refused() -> None:
    # a libtiff that ignored the PackBits asked for would hand back raw lines the printer reads as PackBits
    data = _tiff("<", 4, [8, 9, 10], [1, 1, 1], b"abc")
    assert tiff_lines.strips(_with_compression(data, 32773), compression=32773) == [b"a", b"b", b"c"]
    for wrong in (_with_compression(data, 1), data):
        with pytest.raises(tiff_lines.TiffLayoutError):
            tiff_lines.strips(wrong, compression=32773)
