"""Definitions and values that used to pass the checks and then crash rendering (-32603 at the
caller): each must now be refused with the path of what is wrong, at save time where it can be
known then, at render time otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.labels import Canvas, LabelError, TemplateRegistry, parse_template, ql_canvas, render
from appliance.labels.regex_risk import risk


def refused(fn, *args, **kwargs) -> LabelError:
    with pytest.raises(LabelError) as info:
        fn(*args, **kwargs)
    return info.value


def text_tpl(text: str = "{v}", **element: object):
    return parse_template({"name": "t", "fields": {"v": {"type": "string"}},
                           "layout": [{"type": "text", "text": text, **element}]})


LAYOUT = "\n[[layout]]\ntype = 'text'\ntext = 'a'\n"


@pytest.mark.parametrize(("toml", "field"), [
    ("name = 't'\nmargin_mm = nan" + LAYOUT, "definition.margin_mm"),
    ("name = 't'\nmax_length_mm = inf" + LAYOUT, "definition.max_length_mm"),
    ("name = 't'" + LAYOUT + "w = -inf\n", "definition.layout[0].w"),
    # finite but absurd: saved, then every render failed as an internal error (OverflowError)
    ("name = 't'\nlength_mm = 1e308" + LAYOUT, "definition.length_mm"),
    ("name = 't'" + LAYOUT + "x = -1e308\n", "definition.layout[0].x"),
    ("name = 't'" + LAYOUT + "line_spacing = 1e308\n", "definition.layout[0].line_spacing"),
])
def test_toml_nan_inf_and_huge_numbers_are_refused_with_their_path(toml: str, field: str) -> None:
    err = refused(parse_template, toml)
    assert err.field == field and err.reason.startswith("must be a finite number of at most"), err


@pytest.mark.parametrize("dim", ["1e308%", "1e20mm", "1e308"])
def test_huge_dimensions_in_text_are_refused(dim: str) -> None:
    err = refused(parse_template, {"name": "t", "layout": [{"type": "text", "text": "a", "h": dim}]})
    assert err.field == "definition.layout[0].h" and "at most" in err.reason, err


def test_toml_nested_too_deeply_is_refused_in_words() -> None:
    err = refused(parse_template, "a = " + "[" * 5000 + "]" * 5000)
    assert (err.field, err.reason) == ("definition", "nested too deeply")


@pytest.mark.parametrize("dim", ["1e999mm", "nan%", "infmm", "1e308*10", "(" * 250 + "1" + ")" * 250, "-" * 5000 + "1",
                                 "-" * 100_000 + "1", "1\x00"])
def test_dimensions_must_be_finite(dim: str) -> None:
    err = refused(text_tpl, w=dim)
    assert err.field == "definition.layout[0].w"


def test_a_font_size_freetype_refuses_is_refused_when_saved() -> None:
    err = refused(text_tpl, size="99999pt")
    assert err.field == "definition.layout[0].size" and "400" in err.reason
    assert text_tpl(size="400pt")  # the limit itself is allowed


def test_a_format_width_that_would_build_a_huge_string_is_refused() -> None:
    err = refused(text_tpl, "{v:>1000000000}")
    assert "255" in err.reason


def test_a_spec_that_does_not_suit_the_value_fails_the_label_not_the_server(pt12: Canvas) -> None:
    err = refused(render, text_tpl("{v:04d}"), {"v": "abc"}, pt12)
    assert err.field == "definition.layout[0]" and "cannot format" in err.reason


@pytest.mark.parametrize("pattern", ["(a+)+b", r"(\w+\s?)+", "([a-z0-9]+-)*[a-z0-9]+", "(a*)*", "(a{1,5}){1,20}",
                                     # alternatives that match the same text, as many times as there are "a"s
                                     "(a|a)*b", "(aa|a)*b", "(a|aa)+b", "((aa|a)x?)*", "(?i)(ab|AB)*", "(.|a)*",
                                     # repeats side by side over the same characters: n³ and worse
                                     ".*-.*-.*-.*", r"\d*\d*\d*x"])
def test_patterns_that_can_backtrack_exponentially_are_refused(pattern: str) -> None:
    err = refused(parse_template, {"name": "t", "fields": {"v": {"pattern": pattern}},
                                   "layout": [{"type": "text", "text": "{v}"}]})
    assert err.field == "definition.fields.v.pattern" and "possessive" in err.reason


def test_a_pattern_of_high_degree_is_refused_from_its_growth_before_a_run_over_the_budget() -> None:
    # n⁶: one run at the first length over the budget took half a second (re holds the GIL meanwhile)
    err = refused(parse_template, {"name": "t", "fields": {"v": {"pattern": ".*-.*-.*-.*-.*-.*"}},
                                   "layout": [{"type": "text", "text": "{v}"}]})
    assert err.field == "definition.fields.v.pattern" and err.reason.startswith("would take about")


@pytest.mark.parametrize("pattern", ["[A-Za-z0-9._/-]+", r"(\d{1,3}\.){3}\d{1,3}", "([A-Z]{2}-)+",
                                     "([a-z0-9]++-)*[a-z0-9]+", "(?>[a-z0-9]+-)*[a-z0-9]+", r"IT-\d{6}",
                                     "(foo|bar)*", "(ab|ac)*", "(ab|a)*c", "(x(-|)y)*", "(?>aa|a)*b", "(a|a){1,5}",
                                     r"(IT|HW)-\d{6}", r"(\w|-)+", "(?i)(foo|bar)+"])
def test_ordinary_patterns_pass(pattern: str) -> None:
    assert risk(pattern) is None


@pytest.mark.parametrize("pattern", [".*-.*", r"\w+@\w+\.\w+", "[^-]*-[^-]*-[^-]*", ".*+-.*+-.*+", r"IT-\d{6}"])
def test_patterns_quick_on_long_values_are_kept(pattern: str) -> None:
    template = parse_template({"name": "t", "fields": {"v": {"pattern": pattern}},
                               "layout": [{"type": "text", "text": "{v}"}]})
    assert template.fields["v"].pattern is not None


def test_a_pattern_slow_only_on_values_longer_than_a_label_holds_keeps_fields_to_the_length_it_is_quick_on() -> None:
    from appliance.labels.fields import coerce

    # quadratic: about 1.5 ms on 512 characters, 90 ms on 4096 (a Pi is 6-10x slower), with the GIL held
    slow = r"(?:\w|-)*\s*(?:\w|-)*x"
    template = parse_template({"name": "t", "fields": {"v": {"pattern": slow}},
                               "layout": [{"type": "text", "text": "{v}"}]})
    spec = template.fields["v"]
    assert spec.max_length is not None and 512 <= spec.max_length < 4096
    assert spec.describe()["max_length"] == spec.max_length  # template.get shows it
    err = refused(coerce, template, {"v": "a" * 4096})
    assert err.field == "fields.v" and f"longer than {spec.max_length} characters" in err.reason
    assert coerce(template, {"v": "a-bx"})["v"] == "a-bx"
    # a max_length of its own that is short enough stays; so does a cubic pattern with one
    for pattern in (slow, ".*-.*-.*"):
        short = parse_template({"name": "t", "fields": {"v": {"pattern": pattern, "max_length": 100}},
                                "layout": [{"type": "text", "text": "{v}"}]})
        assert short.fields["v"].max_length == 100


def test_put_never_stores_a_file_that_does_not_load(tmp_path: Path) -> None:
    registry = TemplateRegistry(user_dir=tmp_path)
    definition = {"title": "a\x7fb", "fields": {"v": {}}, "layout": [{"type": "text", "text": "{v}"}]}
    tpl = registry.put("del-char", definition)
    assert tpl.title == "a\x7fb"
    assert registry.get("del-char").title == "a\x7fb"  # read back from the file
    refused(registry.put, "bad", {"fields": {"v": {"pattern": "(a+)+"}}, "layout": [{"type": "text", "text": "a"}]})
    assert not (tmp_path / "bad.toml").exists()


def test_a_template_name_with_a_final_newline_is_refused(tmp_path: Path) -> None:
    registry = TemplateRegistry(user_dir=tmp_path)
    err = refused(registry.put, "abc\n", {"layout": [{"type": "text", "text": "a"}]})
    assert err.field == "name"
    assert list(tmp_path.iterdir()) == []


def test_a_line_clipped_far_past_its_box_is_drawn_without_a_giant_bitmap() -> None:
    # 4096 characters at 400 px: the whole line's bitmap (473 Mpx) was refused by Pillow as a bomb
    template = parse_template({"name": "t", "min_length_mm": 1, "max_length_mm": 1000,
                               "fields": {"text": {"max_length": 4096}},
                               "layout": [{"type": "text", "text": "{text}", "size": "400px", "shrink": False}]})
    result = render(template, {"text": "W" * 4096}, ql_canvas(62, 696))
    assert [w.code for w in result.warnings] == ["content-clipped"]
    assert result.image.convert("L").histogram()[0] > 10_000  # the visible Ws are there
