"""Every way a label can be refused before printing, by kind and field path."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from appliance.labels import (
    Canvas,
    FontNotFoundError,
    LabelError,
    TemplateRegistry,
    parse_template,
    pt_canvas,
    ql_canvas,
    render,
)


def tpl(layout: list[dict], fields: dict | None = None, **top: object):
    fields = fields if fields is not None else {"v": {"type": "string"}}
    return parse_template({"name": "t", "fields": fields, "layout": layout, **top})


def refused(fn, *args, **kwargs) -> LabelError:
    with pytest.raises(LabelError) as info:
        fn(*args, **kwargs)
    return info.value


def test_missing_required_field(registry: TemplateRegistry, pt12: Canvas) -> None:
    err = refused(render, registry.get("asset-tag"), {"name": "x"}, pt12)
    assert (err.kind, err.field, err.reason) == ("invalid", "fields.asset_id", "required")


def test_a_required_field_of_only_spaces_is_missing_not_a_blank_label(registry: TemplateRegistry,
                                                                       pt12: Canvas) -> None:
    # a blank-looking CSV cell printed a white label
    err = refused(render, registry.get("text"), {"text": "   "}, pt12)
    assert err.field == "fields.text" and err.reason.startswith("required")
    assert "only spaces" in err.reason
    kept = render(registry.get("text"), {"text": "A", "line2": "  "}, pt12)  # an optional one is left out
    assert kept.image.size == render(registry.get("text"), {"text": "A"}, pt12).image.size


@pytest.mark.parametrize("value", ["a\x00b", "tab\there", "bell\x07", "del\x7f"])
def test_control_characters_are_refused_with_where_they_are(registry: TemplateRegistry, pt12: Canvas,
                                                            value: str) -> None:
    err = refused(render, registry.get("text"), {"text": value}, pt12)
    code = next(c for c in value if c < " " or c == "\x7f")
    assert err.field == "fields.text" and f"U+{ord(code):04X}" in err.reason
    assert f"position {value.index(code) + 1}" in err.reason


def test_a_number_for_a_text_field_says_to_send_it_quoted(registry: TemplateRegistry, pt12: Canvas) -> None:
    err = refused(render, registry.get("bin-label"), {"text": 1.5}, pt12)
    assert err.field == "fields.text" and '"1.5" in quotes' in err.reason and "trailing zeros" in err.reason
    assert render(registry.get("bin-label"), {"text": 15}, pt12).image.width > 0  # an integer reads the same


def test_unknown_field(registry: TemplateRegistry, pt12: Canvas) -> None:
    err = refused(render, registry.get("text"), {"text": "a", "colour": "red"}, pt12)
    assert (err.kind, err.field) == ("invalid", "fields.colour")
    assert "text, line2" in err.reason


def test_pattern_mismatch(registry: TemplateRegistry, pt12: Canvas) -> None:
    err = refused(render, registry.get("asset-tag"), {"name": "x", "asset_id": "has space"}, pt12)
    assert (err.kind, err.field) == ("invalid", "fields.asset_id")
    assert "pattern" in err.reason


@pytest.mark.parametrize(
    ("value", "reason"), [("thick", "expected an integer"), (0, "at least 1"), (99, "at most 50"), (True, "integer")]
)
def test_integer_type_and_range(registry: TemplateRegistry, pt12: Canvas, value: object, reason: str) -> None:
    err = refused(render, registry.get("cable-flag"), {"text": "a", "cable_diameter_mm": value}, pt12)
    assert (err.kind, err.field) == ("invalid", "fields.cable_diameter_mm")
    assert reason in err.reason


def test_date_and_choice_and_max_length(pt12: Canvas) -> None:
    t = tpl(
        [{"type": "text", "text": "{d:%d.%m.%Y} {c} {s}"}],
        {
            "d": {"type": "date", "default": "today"},
            "c": {"type": "choice", "choices": ["a", "b"], "default": "a"},
            "s": {"type": "string", "max_length": 3},
        },
    )
    assert render(t, {"d": "2024-02-29"}, pt12).fields["d"] == "2024-02-29"
    assert refused(render, t, {"d": "2024-02-30"}, pt12).field == "fields.d"
    assert refused(render, t, {"c": "z"}, pt12).field == "fields.c"
    assert refused(render, t, {"s": "abcd"}, pt12).field == "fields.s"


def test_text_that_cannot_fit_at_minimum_size(pt12: Canvas) -> None:
    t = tpl([{"type": "text", "text": "{v}", "min_size": "8pt"}], length_mm=20)
    err = refused(render, t, {"v": "a very long text that will never fit in twenty millimetres"}, pt12)
    assert (err.kind, err.field) == ("invalid", "fields.v")
    assert "does not fit in 16.1 × 9.9 mm even at the smallest size the template allows" in err.reason, err
    assert "mm high capitals, 8 pt)" in err.reason and "dots" not in err.reason
    assert err.reason.endswith("shorten the text, or use a wider tape or a longer label")
    tall = tpl([{"type": "text", "text": "{v}", "min_size": "8pt"}])  # grows along the tape: lines are the limit
    err = refused(render, tall, {"v": "1\n2\n3\n4\n5\n6"}, pt12)
    assert "does not fit in a height of 9.9 mm" in err.reason and err.reason.endswith("use fewer lines or a wider tape")


def test_qr_data_too_long_for_tape_height(registry: TemplateRegistry) -> None:
    fields = {"name": "n", "asset_id": "IT-1", "url_prefix": "https://inventory.example.com/assets/by-id/"}
    err = refused(render, registry.get("asset-tag"), fields, pt_canvas(9, 50))
    assert (err.kind, err.field) == ("invalid", "fields.url_prefix")
    assert "QR data too long for the tape's width" in err.reason
    assert "needs 10.4 mm" in err.reason and "only 7.1 mm is free" in err.reason and "dots" not in err.reason, err
    assert err.reason.endswith("shorten it, or use a wider tape")


def test_qr_data_too_long_blames_a_field_the_caller_filled(registry: TemplateRegistry) -> None:
    # "{url_prefix}{asset_id}" with no prefix: the prefix is empty, the id is what made it long
    err = refused(render, registry.get("asset-tag"), {"name": "n", "asset_id": "A" * 30}, pt_canvas(9, 50))
    assert (err.kind, err.field) == ("invalid", "fields.asset_id"), err


def test_a_tape_too_narrow_for_any_qr_code_blames_the_tape(registry: TemplateRegistry) -> None:
    # 9 mm heat-shrink tube prints 48 pins: not even a one-letter id fits a QR code there
    err = refused(render, registry.get("asset-tag"), {"name": "n", "asset_id": "A"}, pt_canvas(9, 48))
    assert (err.kind, err.field) == ("state", "tape") and "use a wider tape" in err.reason, err
    assert "needs 7.1 mm" in err.reason and "leaves 6.8 mm" in err.reason and "dots" not in err.reason, err


def test_qr_data_too_long_for_a_fixed_length_names_the_length(pt12: Canvas) -> None:
    short = tpl([{"type": "qr", "data": "{v}"}, {"type": "text", "text": "label"}], length_mm=10)
    err = refused(render, short, {"v": "x" * 60}, pt12)
    assert err.field == "fields.v" and "too long for the label's length here" in err.reason, err
    assert "dots" not in err.reason and err.reason.endswith("use longer labels"), err


def test_qr_data_too_long_for_any_qr(pt12: Canvas) -> None:
    err = refused(render, tpl([{"type": "qr", "data": "{v}"}]), {"v": "x" * 3000}, pt12)
    assert err.field == "fields.v" and "too long for a QR code" in err.reason


def test_bad_ean13_check_digit(pt12: Canvas) -> None:
    t = tpl([{"type": "barcode", "symbology": "ean13", "data": "{v}"}], padding_mm=0)
    err = refused(render, t, {"v": "4006381333932"}, pt12)
    assert (err.kind, err.field) == ("invalid", "fields.v")
    assert "check digit" in err.reason


def test_code128_cannot_encode_non_ascii(pt12: Canvas) -> None:
    err = refused(render, tpl([{"type": "barcode", "data": "{v}"}]), {"v": "Größe"}, pt12)
    assert (err.kind, err.field) == ("invalid", "fields.v")


def test_barcode_too_long_for_a_fixed_length(pt12: Canvas) -> None:
    t = tpl([{"type": "barcode", "data": "{v}", "human_readable": False}], length_mm=20)
    err = refused(render, t, {"v": "ABCDEFGHIJKLMNOP"}, pt12)
    assert err.field == "fields.v" and "mm of length" in err.reason and "allow a longer label" in err.reason


def test_the_bin_label_on_short_die_cut_labels_says_what_to_load(registry: TemplateRegistry) -> None:
    # 62x29 die-cut: 23 mm along the tape; a Code 128 of 8 characters needs 22 mm at 2 dots a module
    die_cut = ql_canvas(62, 696, fixed_length_px=271)
    err = refused(render, registry.get("bin-label"), {"text": "M3 x 12", "code": "BIN-0312"}, die_cut)
    assert err.field == "fields.code" and "load longer labels or continuous tape" in err.reason


def test_optional_barcode_is_omitted_with_a_warning(pt12: Canvas) -> None:
    t = tpl([{"type": "barcode", "data": "{v}", "optional": True}, {"type": "text", "text": "Bin 4"}], length_mm=20)
    result = render(t, {"v": "ABCDEFGHIJKLMNOP"}, pt12)
    assert [w.code for w in result.warnings] == ["barcode-omitted"]
    assert result.warnings[0].element == "layout[0]"


def test_template_needs_wider_tape(pt12: Canvas) -> None:
    for top in ({"tapes": [18, 24]}, {"min_tape_mm": 18}):
        err = refused(render, tpl([{"type": "text", "text": "{v}"}], **top), {"v": "a"}, pt12)
        assert (err.kind, err.field) == ("state", "tape")
        assert "18" in err.reason and "12 mm" in err.reason


def test_a_template_for_other_media_names_die_cut_labels_as_labels_not_a_roll() -> None:
    """A QL's continuous roll is a roll; die-cut labels come on one, but a person loads labels of a size."""
    die_cut, roll = ql_canvas(29, 306, fixed_length_px=991), ql_canvas(62, 696)
    for top in ({"tapes": [62]}, {"min_tape_mm": 50}):
        err = refused(render, tpl([{"type": "text", "text": "{v}"}], **top), {"v": "a"}, die_cut)
        assert err.reason.endswith("; the loaded labels are 29 mm wide") and "roll" not in err.reason, err.reason
    err = refused(render, tpl([{"type": "text", "text": "{v}"}], tapes=[12]), {"v": "a"}, roll)
    assert err.reason == "template 't' needs 12 mm roll; the loaded roll is 62 mm"
    err = refused(render, tpl([{"type": "qr", "data": "{v}", "min_module_dots": 10}]), {"v": "X" * 60}, die_cut)
    assert "the labels' width" in err.reason and "use wider labels" in err.reason and "roll" not in err.reason


def test_barcode_needs_bar_height(registry: TemplateRegistry) -> None:
    t = tpl([{"type": "barcode", "data": "{v}", "h": "50%"}])
    err = refused(render, t, {"v": "A1"}, pt_canvas(3.5, 24))
    assert (err.kind, err.field) == ("state", "tape")


def test_missing_font_names_font_and_directories(pt12: Canvas, tmp_path) -> None:
    t = tpl([{"type": "text", "text": "{v}", "font": "Comic Sans MS"}])
    with pytest.raises(FontNotFoundError) as info:
        render(t, {"v": "a"}, pt12, font_dirs=(str(tmp_path),))
    err = info.value
    assert (err.kind, err.field) == ("state", "definition.layout[0].font")
    assert "Comic Sans MS" in err.reason and str(tmp_path) in err.reason
    assert "/usr/share/fonts/truetype/dejavu" in err.reason and "fonts-dejavu-core" in err.reason


def _png(size: tuple[int, int]) -> str:
    buf = io.BytesIO()
    Image.new("1", size, 1).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def test_image_not_an_image_or_too_large_or_outside() -> None:
    bad = base64.b64encode(b"definitely not a png").decode()
    err = refused(tpl, [{"type": "image", "data": bad}])
    assert (err.field, err.reason) == ("definition.layout[0].data", "not an image Pillow can read")
    err = refused(tpl, [{"type": "image", "data": _png((3000, 3000))}])
    assert err.field == "definition.layout[0].data" and "too large" in err.reason
    err = refused(tpl, [{"type": "image", "data": "###"}])
    assert err.reason == "not valid base64"
    err = refused(tpl, [{"type": "image", "src": "logo.png"}])
    assert err.field == "definition.layout[0].src"


@pytest.mark.parametrize(
    ("definition", "field"),
    [
        ({"layout": [{"type": "text", "text": "{v}", "size": "huge"}]}, "definition.layout[0].size"),
        ({"layout": [{"type": "text", "text": "{nope}"}]}, "definition.layout[0].text"),
        ({"layout": [{"type": "text", "text": "{v.__class__}"}]}, "definition.layout[0].text"),
        ({"layout": [{"type": "text", "text": "{v}", "colour": "red"}]}, "definition.layout[0].colour"),
        ({"layout": [{"type": "wobble"}]}, "definition.layout[0].type"),
        ({"layout": [{"type": "qr", "data": "{v}", "ec": "X"}]}, "definition.layout[0].ec"),
        ({"layout": [{"type": "text", "text": "{v}", "w": "{v} ** 2"}]}, "definition.layout[0].w"),
        ({"layout": [{"type": "text", "text": "a", "x": "fill"}]}, "definition.layout[0].x"),
        ({"layout": []}, "definition.layout"),
        ({}, "definition.layout"),
        ({"layout": [{"text": "a"}], "tapes": "some"}, "definition.tapes"),
        ({"layout": [{"text": "a"}], "length_mm": 10, "max_length_mm": 20}, "definition.length_mm"),
        (
            {"layout": [{"text": "a"}], "fields": {"n": {"type": "integer", "default": "x"}}},
            "definition.fields.n.default",
        ),
        ({"layout": [{"text": "a"}], "fields": {"n": {"pattern": "("}}}, "definition.fields.n.pattern"),
        ({"layout": [{"text": "a"}], "fields": {"n": {"type": "choice"}}}, "definition.fields.n.choices"),
        ({"layout": [{"text": "a"}], "fields": {"bad-name": {}}}, "definition.fields.bad-name"),
        ({"layout": [{"text": "a"}], "name": "Bad Name"}, "definition.name"),
    ],
)
def test_definition_errors_name_their_path(definition: dict, field: str) -> None:
    data = {"name": "t", "fields": {"v": {}}, **definition}
    err = refused(parse_template, data)
    assert (err.kind, err.field) == ("invalid", field)


def test_bad_toml_text() -> None:
    err = refused(parse_template, "name = 't'\n[[layout]\n")
    assert err.field == "definition" and "TOML" in err.reason


def test_error_serialises_for_the_server() -> None:
    err = LabelError("fields.x", "required")
    assert err.to_dict() == {"field": "fields.x", "reason": "required", "kind": "invalid"}
    assert str(err) == "fields.x: required"
