"""Definitions and values that used to pass the checks and then crash rendering (-32603 at the
caller): each must now be refused with the path of what is wrong, at save time where it can be
known then, at render time otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.labels import Canvas, LabelError, TemplateRegistry, parse_template, ql_canvas, render


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


def pattern_tpl(pattern: str, **field: object):
    return parse_template({"name": "t", "fields": {"v": {"pattern": pattern, **field}},
                           "layout": [{"type": "text", "text": "{v}"}]})


HOSTILE = ["(a+)+b", r"(\w+\s?)+", "([a-z0-9]+-)*[a-z0-9]+", "(a*)*", "(a{1,5}){1,20}",
           # alternatives that match the same text, as many times as there are "a"s
           "(a|a)*b", "(aa|a)*b", "(a|aa)+b", "((aa|a)x?)*", "(?i)(ab|AB)*", "(.|a)*",
           # repeats side by side over the same characters: n³ and worse under backtracking
           ".*-.*-.*-.*", r"\d*\d*\d*x", ".*-.*-.*-.*-.*-.*", r"(?:\w|-)*\s*(?:\w|-)*x"]


@pytest.mark.parametrize("pattern", HOSTILE)
def test_patterns_that_backtrack_catastrophically_in_re_are_linear_under_re2(pattern: str) -> None:
    """Each of these takes seconds to minutes in Python's re on the values below; RE2 is linear."""
    import re
    import time

    from appliance.labels.fields import coerce

    template = pattern_tpl(pattern)
    assert template.fields["v"].max_length is None  # no cap derived from trial runs any more
    assert template.fields["v"].pattern.pattern == pattern
    for value in ("a" * 30 + "!", "a" * 100_000 + "!", "a-" * 50_000 + "!", "1" * 100_000 + "!"):
        started = time.perf_counter()
        try:
            coerce(template, {"v": value})
        except LabelError as err:
            assert err.field == "fields.v" and "does not match the pattern" in err.reason
        took = time.perf_counter() - started
        assert took < 0.5, f"{pattern!r} took {took:.3f} s on {len(value)} characters"
    # on short values RE2 takes what re takes
    for value in ("aab", "ab-cd", "abab", "--x", "12x", "a-b-c-d", "aa b", ""):
        assert bool(template.fields["v"].pattern.fullmatch(value)) is bool(re.fullmatch(pattern, value)), value


@pytest.mark.parametrize(("pattern", "words"), [
    (r"(a)\1", "back-references"), (r"(?P<x>a)(?P=x)", "invalid"), ("(?=a)a", "look-aheads"),
    ("(?!a)b", "look-aheads"), ("(?<=a)b", "look-behinds"), ("(?<!a)b", "look-behinds"),
    ("a++", "write a+ instead"), ("(?>a|ab)c", "(?:…)"), ("a{1001}", "repetition"),
    ("(?:\\pL|\\d){1,1000}x", "pattern too large"), (r"\pL{1000}", "pattern too large"), ("(", "missing )"),
    ("\ud800", "surrogate"), ("a" * 1001, "at most 1000 characters"),
])
def test_patterns_re2_cannot_compile_are_refused_with_re2s_reason(pattern: str, words: str) -> None:
    err = refused(pattern_tpl, pattern)
    assert err.field == "definition.fields.v.pattern" and "bad regular expression" in err.reason, err
    assert words in err.reason, err.reason


@pytest.mark.parametrize("pattern", ["[A-Za-z0-9._/-]+", r"(\d{1,3}\.){3}\d{1,3}", "([A-Z]{2}-)+", r"IT-\d{6}",
                                     "(foo|bar)*", "(ab|ac)*", "(ab|a)*c", "(x(-|)y)*", "(a|a){1,5}",
                                     r"(IT|HW)-\d{6}", r"(\w|-)+", "(?i)(foo|bar)+", ".*-.*", r"\w+@\w+\.\w+",
                                     "[^-]*-[^-]*-[^-]*", "^[A-Z]{2}-[0-9]{3}$", r"\pL+", "(?P<code>[0-9]+)"])
def test_ordinary_patterns_pass_and_match_as_re_does(pattern: str) -> None:
    import re

    from appliance.labels.fields import coerce

    template = pattern_tpl(pattern)
    sample = {"[A-Za-z0-9._/-]+": "a.b/c", r"(\d{1,3}\.){3}\d{1,3}": "10.0.0.1", r"\w+@\w+\.\w+": "a@b.c",
              "^[A-Z]{2}-[0-9]{3}$": "AB-123", r"\pL+": "Grüße", "(?P<code>[0-9]+)": "42"}.get(pattern)
    if sample is not None:
        assert coerce(template, {"v": sample}) == {"v": sample}
        assert pattern.startswith("\\p") or re.fullmatch(pattern, sample)  # \pL is RE2's, not re's
    assert refused(coerce, template, {"v": "\u00a7 no \u00a7"}).field == "fields.v"


def test_a_value_with_a_lone_surrogate_is_refused_by_name() -> None:
    from appliance.labels.fields import coerce

    err = refused(coerce, pattern_tpl(".*"), {"v": "ab\ud800"})
    assert err.field == "fields.v" and "lone surrogate (U+D800) at position 3" in err.reason


def test_every_builtin_pattern_compiles_under_re2_and_takes_its_example() -> None:
    registry = TemplateRegistry()
    patterns = {(t.name, f.name): f for t in registry.list() for f in t.fields.values()
                if f.pattern is not None}
    assert patterns, "a built-in template has a pattern (asset-tag)"
    for spec in patterns.values():
        assert spec.pattern.fullmatch("IT-000123") and not spec.pattern.fullmatch("IT 000123")


def test_put_never_stores_a_file_that_does_not_load(tmp_path: Path) -> None:
    registry = TemplateRegistry(user_dir=tmp_path)
    definition = {"title": "a\x7fb", "fields": {"v": {}}, "layout": [{"type": "text", "text": "{v}"}]}
    tpl = registry.put("del-char", definition)
    assert tpl.title == "a\x7fb"
    assert registry.get("del-char").title == "a\x7fb"  # read back from the file
    refused(registry.put, "bad", {"fields": {"v": {"pattern": r"(a+)\1"}}, "layout": [{"type": "text", "text": "a"}]})
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
