"""Text (non-ASCII, fitting, shrinking, wrapping) and the layout model (flow, fill, growth, dpi)."""

from __future__ import annotations

import pytest
from PIL import Image, ImageChops

from appliance.labels import Canvas, parse_template, pt_canvas, ql_canvas, render
from tests.labels.conftest import decode, ink


def tpl(layout: list[dict], fields: dict | None = None, **top: object):
    fields = fields if fields is not None else {"v": {"type": "string"}}
    return parse_template({"name": "t", "fields": fields, "layout": layout, **top})


TEXT = tpl([{"type": "text", "text": "{v}"}], length_mm=20)


def columns_with_ink(img: Image.Image) -> list[int]:
    grey = img.convert("L")
    return [x for x in range(grey.width) if grey.crop((x, 0, x + 1, grey.height)).getextrema()[0] == 0]


@pytest.mark.parametrize("canvas", [pt_canvas(12, 70), ql_canvas(62, 696)], ids=["pt12", "ql62"])
def test_non_ascii_renders_and_differs(canvas: Canvas) -> None:
    a = render(TEXT, {"v": "A"}, canvas).image
    umlaut = render(TEXT, {"v": "Ä"}, canvas).image
    assert ink(a) > 0 and ink(umlaut) > ink(a)
    assert ImageChops.difference(a.convert("L"), umlaut.convert("L")).getbbox() is not None
    for text in ("ÄÖÜß€", "éèàçñ", "Łódź"):
        assert ink(render(TEXT, {"v": text}, canvas).image) > 0


def test_fit_text_fills_the_height_and_grows_the_label(pt12: Canvas) -> None:
    grow = tpl([{"type": "text", "text": "{v}"}], max_length_mm=200)
    short = render(grow, {"v": "Hi"}, pt12)
    long = render(grow, {"v": "Hi there, a longer text"}, pt12)
    assert long.length_px > 3 * short.length_px
    rows = [y for y in range(70) if long.image.convert("L").crop((0, y, long.length_px, y + 1)).getextrema()[0] == 0]
    assert rows[-1] - rows[0] > 45  # big text: ink spans most of the 70 dots


def test_growth_stops_at_max_length_and_text_shrinks_to_fit(pt12: Canvas) -> None:
    grow = tpl([{"type": "text", "text": "{v}"}], max_length_mm=30)
    result = render(grow, {"v": "shrinks to fit here"}, pt12)
    assert result.length_px == pt12.feed_px(30)
    assert max(columns_with_ink(result.image)) < result.length_px - pt12.feed_px(2) + 1


def test_fixed_size_text_shrinks_with_a_warning_or_clips(pt12: Canvas) -> None:
    shrink = tpl([{"type": "text", "text": "{v}", "size": "40pt"}], length_mm=30)
    result = render(shrink, {"v": "Shrink me"}, pt12)
    assert [w.code for w in result.warnings] == ["text-shrunk"]
    clip = tpl([{"type": "text", "text": "{v}", "size": "40pt", "shrink": False}], length_mm=30)
    assert [w.code for w in render(clip, {"v": "Clip me"}, pt12).warnings] == ["content-clipped"]
    fits = tpl([{"type": "text", "text": "{v}", "size": "10pt"}], length_mm=30)
    assert render(fits, {"v": "ok"}, pt12).warnings == ()


def test_text_fitted_too_small_to_read_warns_in_mm_and_pt(registry) -> None:
    # 70 × W in the text template on 29x90 die-cut labels: about 0.7 mm high, printed without a word before
    result = render(registry.get("text"), {"text": "W" * 70}, ql_canvas(29, 306, fixed_length_px=991))
    (small,) = result.warnings
    assert (small.code, small.element) == ("text-small", "layout[0]")
    assert "mm high capitals" in small.message and " pt)" in small.message and "dots" not in small.message
    # die-cut labels are loaded by their size: wider or longer labels, not "a wider roll or a longer label"
    assert small.message.endswith("shorten the text, or use wider labels or longer ones")
    assert "roll" not in small.message
    two_rows = render(registry.get("text"), {"text": "Hello", "line2": "World"}, pt_canvas(3.5, 24))
    assert [w.code for w in two_rows.warnings] == ["text-small"]  # the height limits it: length would not help
    assert two_rows.warnings[0].message.endswith("use fewer lines or a wider tape")
    assert render(registry.get("text"), {"text": "W" * 20}, ql_canvas(29, 306, fixed_length_px=991)).warnings == ()


def test_shrunk_fixed_size_text_says_its_sizes_in_pt_and_warns_when_it_gets_too_small(pt12: Canvas) -> None:
    shrink = tpl([{"type": "text", "text": "{v}", "size": "20pt", "min_size": "1px"}], length_mm=20)
    (shrunk,) = render(shrink, {"v": "fits at a smaller size"}, pt12).warnings
    assert shrunk.code == "text-shrunk" and shrunk.message.startswith("text shrunk from 20 pt to ")
    tiny = render(shrink, {"v": "a sentence far too long for twenty millimetres of tape"}, pt12)
    assert [w.code for w in tiny.warnings] == ["text-shrunk", "text-small"]


def test_text_the_template_asks_to_be_small_is_not_called_small(pt12: Canvas) -> None:
    small_on_purpose = tpl([{"type": "text", "text": "{v}", "min_size": "2pt", "max_size": "3pt"}], length_mm=30)
    assert render(small_on_purpose, {"v": "fine print"}, pt12).warnings == ()


def test_wrap_uses_more_lines_in_a_narrow_box(ql62: Canvas) -> None:
    wrap = tpl([{"type": "text", "text": "{v}", "wrap": True, "max_lines": 3}], length_mm=40)
    result = render(wrap, {"v": "one two three four five six"}, ql62)
    grey = result.image.convert("L")
    bands, inside = 0, False
    for y in range(grey.height):
        dark = grey.crop((0, y, grey.width, y + 1)).getextrema()[0] == 0
        bands += dark and not inside
        inside = dark
    assert bands == 3


def test_qr_square_left_and_text_fills_the_rest(pt12: Canvas) -> None:
    t = tpl(
        [{"type": "qr", "data": "{v}", "quiet_zone": 2}, {"type": "text", "text": "{v}", "w": "fill"}],
        length_mm=60,
        margin_mm=2,
        gap_mm=1,
    )
    result = render(t, {"v": "QR-LEFT"}, pt12)
    assert result.length_px == pt12.feed_px(60)
    cols = columns_with_ink(result.image)
    qr_cols = [c for c in cols if c < pt12.feed_px(2) + 70]
    assert qr_cols[0] == pt12.feed_px(2) + 2 * (70 // 25)  # margin + quiet zone; 25 modules at 2 dots
    assert max(cols) > pt12.feed_px(40)  # the text spreads over the rest
    left_half = result.image.crop((0, 0, pt12.feed_px(2) + 70, 70))
    assert decode(left_half) == [("QR-LEFT", "QRCode")]


def test_same_stacks_elements_in_one_slot(ql62: Canvas) -> None:
    t = tpl(
        [
            {"type": "text", "text": "TOP", "h": "50%"},
            {"type": "text", "text": "BOTTOM", "x": "same", "y": "50%", "h": "50%"},
        ],
        max_length_mm=500,
    )
    result = render(t, {}, ql62)
    grey = result.image.convert("L")
    top, bottom = grey.crop((0, 0, grey.width, 348)), grey.crop((0, 348, grey.width, 696))
    assert top.getextrema()[0] == 0 and bottom.getextrema()[0] == 0
    assert len(columns_with_ink(bottom)) > len(columns_with_ink(top))


def test_expression_widths_follow_fields(pt12: Canvas) -> None:
    t = tpl(
        [{"type": "space", "w": "{d} * 3.1416 + 2"}],
        {"d": {"type": "integer", "default": 6}},
        margin_mm=0,
    )
    assert render(t, {"d": 10}, pt12).length_px == pt12.feed_px(10 * 3.1416 + 2)
    assert render(t, {}, pt12).length_px == pt12.feed_px(6 * 3.1416 + 2)


def test_die_cut_length_is_fixed(registry) -> None:
    canvas = ql_canvas(29, 306, fixed_length_px=991)
    assert render(registry.get("text"), {"text": "x"}, canvas).length_px == 991
    assert render(registry.get("text"), {"text": "x " * 30}, canvas).length_px == 991


def test_min_length_is_respected(registry, pt12: Canvas) -> None:
    result = render(registry.get("text"), {"text": "."}, pt12)
    assert result.length_px == pt12.feed_px(15)  # the template's min_length_mm


def test_high_res_doubles_feed_dots_and_codes_still_scan(registry) -> None:
    normal = render(registry.get("bin-label"), {"text": "B-1"}, pt_canvas(12, 70))
    high = render(registry.get("bin-label"), {"text": "B-1"}, pt_canvas(12, 70, high_res=True))
    assert abs(high.length_px - 2 * normal.length_px) <= 2
    assert abs(high.length_mm - normal.length_mm) < 0.3
    assert decode(high.image) == [("B-1", "Code128")]
    asset = render(registry.get("asset-tag"), {"name": "n", "asset_id": "HR-7"}, pt_canvas(12, 70, high_res=True))
    assert decode(asset.image) == [("HR-7", "QRCode")]


def test_field_defaults_and_coercion_are_reported(registry, pt12: Canvas) -> None:
    result = render(registry.get("cable-flag"), {"text": "X", "cable_diameter_mm": "12"}, pt12)
    assert result.fields == {"text": "X", "line2": "", "cable_diameter_mm": 12, "flag_length_mm": 30}
    assert (result.template, result.version) == ("cable-flag", 1)


def test_image_element_threshold_and_dither(pt12: Canvas) -> None:
    import base64
    import io

    grad = Image.linear_gradient("L").resize((64, 64))
    buf = io.BytesIO()
    grad.save(buf, format="PNG")
    data = base64.b64encode(buf.getvalue()).decode()
    sharp = render(tpl([{"type": "image", "data": data}], fields={}), {}, pt12)
    dithered = render(tpl([{"type": "image", "data": data, "dither": True}], fields={}), {}, pt12)
    assert sharp.image.mode == dithered.image.mode == "1"
    assert ink(sharp.image) > 0 and ink(dithered.image) > 0
    assert ImageChops.difference(sharp.image.convert("L"), dithered.image.convert("L")).getbbox() is not None


def test_render_is_fast_enough(registry, pt12: Canvas) -> None:
    import time

    tpl_ = registry.get("asset-tag")
    render(tpl_, {"name": "warm", "asset_id": "W-1"}, pt12)
    start = time.perf_counter()
    for i in range(20):
        render(tpl_, {"name": f"Laptop {i}", "asset_id": f"IT-{i:05d}"}, pt12)
    assert (time.perf_counter() - start) / 20 < 0.05  # generous; the bench reports the real figure


BREAKS = ["\r\n", "\r", "\n", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


@pytest.mark.parametrize("brk", BREAKS, ids=[f"U+{ord(b[-1]):04X}" + ("-CRLF" if len(b) > 1 else "") for b in BREAKS])
def test_every_line_break_breaks_the_line_like_newline(brk: str, pt12: Canvas) -> None:
    # raqm raised on CR and the paragraph separators; a Windows script sends CRLF
    two = tpl([{"type": "text", "text": "{v}"}], max_length_mm=200)
    expected = render(two, {"v": "Shelf A\nBin 4"}, pt12).image
    got = render(two, {"v": f"Shelf A{brk}Bin 4"}, pt12).image
    assert got.size == expected.size
    assert ImageChops.difference(got.convert("L"), expected.convert("L")).getbbox() is None
