"""Model and media tables: lookups, errors that list the choices, geometry that adds up."""

from __future__ import annotations

import pytest

from appliance.printer.identity import printer_id
from appliance.printer.media import MediaError, media_for, media_from_status, media_table, parse_media_id
from appliance.printer.models import MODELS, UnknownModelError, get_model


def test_every_requested_model_is_known() -> None:
    for name in ["PT-E550W", "PT-P750W", "PT-P710BT", "PT-P700", "PT-P900W", "PT-P950NW", "QL-700", "QL-810W",
                 "QL-820NWB"]:  # fmt: skip
        assert get_model(name).name == name
    assert get_model(" pt-p750w ").name == "PT-P750W"


def test_unknown_model_lists_the_known_ones() -> None:
    with pytest.raises(UnknownModelError, match=r"PT-P750W.*QL-820NWB") as info:
        get_model("PT-9000")
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("model", MODELS.values(), ids=lambda m: m.name)
def test_geometry_adds_up(model) -> None:
    assert model.head_pins == model.bytes_per_line * 8
    assert {"pt128": 180, "pt560": 360, "ql720": 300}[model.family] == model.dpi
    for media in media_table(model).values():
        assert media.head_pins == model.head_pins
        assert media.left_margin_pins >= 0 and media.right_margin_pins >= 0
        assert media.left_margin_pins + media.printable_pins + media.right_margin_pins == model.head_pins
        low, high = media.length_limits_dots()
        assert 0 < low <= high


def test_captured_ink_positions() -> None:
    # Brother's drivers: 12 mm at pins 29.. on 128-pin and 213.. on 560-pin; 29 mm QL at 6.. (306 pins).
    assert media_for(get_model("PT-P700"), "12mm").left_margin_pins == 29
    assert media_for(get_model("PT-P900W"), "12mm").left_margin_pins == 213
    ql29 = media_for(get_model("QL-820NWB"), "29mm")
    assert (ql29.left_margin_pins, ql29.printable_pins) == (6, 306)
    assert media_for(get_model("QL-820NWB"), "29x90").printable_length_dots == 991


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12mm", "12mm"), ("12", "12mm"), ("12 mm", "12mm"), ("3.5", "3.5mm"), ("62mm", "62mm"), ("29x90", "29x90"),
     ("29 x 90 mm", "29x90"), ("62X100", "62x100"), ("12mm-hs", "12mm-hs"), ("12 mm heat-shrink", "12mm-hs")],
)  # fmt: skip
def test_parse_media_id(text: str, expected: str) -> None:
    assert parse_media_id(text) == expected


@pytest.mark.parametrize("text", ["", "twelve", "12cm", "29x90-hs"])
def test_parse_media_id_rejects(text: str) -> None:
    with pytest.raises(MediaError):
        parse_media_id(text)


def test_media_for_lists_what_the_model_takes() -> None:
    with pytest.raises(MediaError, match=r"PT-P750W does not take media '36mm'; it takes: 3\.5mm, 6mm"):
        media_for(get_model("PT-P750W"), "36mm")
    assert media_for(get_model("PT-P950NW"), "36 mm").printable_pins == 454
    assert media_for(get_model("PT-P750W"), "3.5mm").width_code == 4


def test_media_from_status() -> None:
    pt, ql = get_model("PT-P950NW"), get_model("QL-820NWB")
    assert media_from_status(pt, 36, 0x01).id == "36mm"
    assert media_from_status(pt, 12, 0x03).kind == "non-laminated"
    assert media_from_status(get_model("PT-P750W"), 4, 0x01).id == "3.5mm"
    assert media_from_status(get_model("PT-P750W"), 12, 0x11).id == "12mm-hs"
    assert media_from_status(pt, 0, 0x00) is None
    assert media_from_status(ql, 62, 0x0A).id == "62mm"
    assert media_from_status(ql, 29, 0x0B, 90).id == "29x90"
    assert media_from_status(ql, 29, 0x0B, 91) is None


def test_printer_id_is_stable_and_distinct() -> None:
    a = printer_id("PT-P750W", "tcp://10.0.0.5:9100")
    assert a == printer_id(get_model("PT-P750W"), "tcp://10.0.0.5:9100")
    # Pinned: a changed namespace or key format would orphan every stored printer's jobs.
    assert a == "a2cf5e30-ae82-54e0-86e4-249a19b68e61"
    assert a != printer_id("PT-P750W", "tcp://10.0.0.6:9100")
    assert a != printer_id("PT-E550W", "tcp://10.0.0.5:9100")
    assert a[14] == "5"  # UUID version 5


def test_a_stock_is_named_as_a_person_loads_it() -> None:
    """The STATUS line, stats and refusals: a PT's tape, a QL's roll, die-cut labels as labels of a size."""
    from appliance.printer.media import media_words

    assert [media_words(m, f) for m, f in (("12mm", "pt128"), ("12mm-hs", "pt"), ("62mm", "ql720"), ("17x54", "ql"),
                                           ("29x90", None), ("12mm", None))] == [
        "12mm tape", "12mm-hs tape", "62mm roll", "17×54 mm labels", "29×90 mm labels", "12mm media"]


def test_the_loaded_media_reads_as_one_line_and_says_labels_once() -> None:
    """printer.status's media_description: width and kind, then the colours; die-cut labels by their size,
    and a white background alone does not say "labels" a second time (it read "…labels, white labels")."""
    from appliance.printer.media import loaded_words, media_for
    from appliance.printer.models import get_model

    pt, ql = get_model("PT-P750W"), get_model("QL-820NWB")
    tape, roll, labels = media_for(pt, "12mm"), media_for(ql, "62mm"), media_for(ql, "29x90")
    assert [loaded_words(m, m.family, "white", "black") for m in (tape, roll, labels)] == [
        "12 mm laminated, black on white", "62 mm continuous, black on white",
        "29 × 90 mm die-cut labels, black on white"]
    assert [loaded_words(m, m.family, "white") for m in (tape, roll, labels)] == [
        "12 mm laminated, white tape", "62 mm continuous, white roll", "29 × 90 mm die-cut labels, white"]
    assert loaded_words(labels, "ql720") == "29 × 90 mm die-cut labels"
    assert [loaded_words(None, f) for f in ("pt128", "pt560", "ql720", None)] == ["no tape", "no tape", "no roll",
                                                                                "no media"]
