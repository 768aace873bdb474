"""libtiff's PackBits (the fast path) and ours in Python (the fallback) give the printer the same raster."""

from __future__ import annotations

import struct

import pytest
from PIL import Image

from appliance.labels import Canvas, TemplateRegistry, pt_canvas, ql_canvas, render
from appliance.printer import tiff_lines
from appliance.printer.decode import decode_job, to_label_image
from appliance.printer.media import Media, media_for
from appliance.printer.models import MODELS, Model
from appliance.printer.packbits import decompress
from appliance.printer.raster import _packed_body, _raster_body, encode_job, head_lines

from .util import make_label

# One model and medium per head family, with the margin that is not a whole byte on QL (12 pins).
FAMILIES = [("PT-P750W", "12mm"), ("PT-P900W", "36mm"), ("QL-820NWB", "62mm"), ("QL-820NWB", "29x90")]


def _model_media(name: str, media_id: str) -> tuple[Model, Media]:
    model = MODELS[name]
    return model, media_for(model, media_id)


def _pages(media: Media) -> list[Image.Image]:
    low, high = media.length_limits_dots()
    widths = [low] if low == high else [low, min(high, low + 333)]
    pages = [make_label(width, media.printable_pins, seed) for seed, width in enumerate(widths)]
    pages.append(Image.new("1", (low, media.printable_pins), 255))  # blank: every line is Z
    return pages


def _lines(model: Model, body: bytes) -> list[bytes]:
    """Expand a G/g/Z body into raster lines (each its uncompressed bytes)."""
    lines, i = [], 0
    while i < len(body):
        if body[i : i + 1] == b"Z":
            lines.append(bytes(model.bytes_per_line))
            i += 1
            continue
        if model.family == "ql720":
            assert body[i : i + 2] == b"g\x00"
            size, i = body[i + 2], i + 3
        else:
            assert body[i : i + 1] == b"G"
            (size,), i = struct.unpack_from("<H", body, i + 1), i + 3
        lines.append(decompress(body[i : i + size], model.bytes_per_line))
        i += size
    return lines


@pytest.mark.skipif(not tiff_lines.available(), reason="this Pillow has no libtiff")
@pytest.mark.parametrize(("name", "media_id"), FAMILIES)
def test_both_paths_give_the_same_lines(name: str, media_id: str) -> None:
    model, media = _model_media(name, media_id)
    for page in _pages(media):
        fast = _packed_body(model, media, page)
        assert fast is not None
        python = _raster_body(model, head_lines(model, media, page), True)
        assert _lines(model, fast) == _lines(model, python)
        assert fast.count(b"Z") >= python.count(b"Z")  # blank lines are Z on both paths
        assert len(fast) <= len(python) * 1.05  # and libtiff compresses as well as we do


@pytest.mark.skipif(not tiff_lines.available(), reason="this Pillow has no libtiff")
@pytest.mark.parametrize(
    ("canvas", "name", "media_id"),
    [(pt_canvas(12, 70), "PT-P750W", "12mm"), (ql_canvas(62, 696), "QL-820NWB", "62mm")],
)
def test_both_paths_agree_on_every_builtin_template(canvas: Canvas, name: str, media_id: str) -> None:
    model, media = _model_media(name, media_id)
    fields = {"text": "Kabel 7", "name": "Laptop 3", "asset_id": "IT-000042", "cable_diameter_mm": 6}
    for t in TemplateRegistry().builtins.values():
        wanted = {k: v for k, v in fields.items() if k in t.fields}
        page = render(t, wanted, canvas).image
        fast = _packed_body(model, media, page)
        assert fast is not None
        assert _lines(model, fast) == _lines(model, _raster_body(model, head_lines(model, media, page), True))


@pytest.mark.parametrize(("name", "media_id"), FAMILIES)
def test_without_libtiff_the_python_path_encodes_the_job(
    name: str, media_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Pillow built without libtiff cannot exist here, so its one difference is patched in."""
    model, media = _model_media(name, media_id)
    pages = _pages(media)
    monkeypatch.setattr(tiff_lines, "available", lambda: False)
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
