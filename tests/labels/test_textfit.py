"""The fitting search finds what a plain bisection over the whole size range finds, in fewer layouts."""

from __future__ import annotations

import itertools

import pytest

from appliance.labels import textfit
from appliance.labels.fonts import find_font


def bisect(paragraphs: list[str], path: str, *, min_px: int, max_px: int, **box: object) -> textfit.TextBlock | None:
    best = None
    lo, hi = min_px, max(min_px, max_px)
    while lo <= hi:
        mid = (lo + hi) // 2
        block, fits = textfit.layout_at(paragraphs, path, mid, **box)  # type: ignore[arg-type]
        if fits:
            best, lo = block, mid + 1
        else:
            hi = mid - 1
    return best


TEXTS = [["A"], ["Cable box 17"], ["Keller – Regal 3", "Fach 12"], ["IT-000042"], ["WWWWWWWWWWWWWWWWWWWW"],
         ["a long line of words that has to wrap onto several lines"], ["Ä ß ø €"]]
BOXES = [(None, 70), (354, 70), (120, 64), (1200, 696), (300, 696), (40, 20), (5, 5), (2000, 30)]


@pytest.mark.parametrize("font", ["sans", "mono-bold", "condensed"])
def test_same_answer_as_bisection(font: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path = find_font(font)
    layouts = 0
    real = textfit.layout_at

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal layouts
        layouts += 1
        return real(*args, **kwargs)

    cases = 0
    for paragraphs, (max_w, max_h), do_wrap, (min_px, max_px) in itertools.product(
        TEXTS, BOXES, (False, True), ((4, 70), (4, 696), (10, 40), (30, 30))
    ):
        box = {"max_w": max_w, "max_h": max_h, "do_wrap": do_wrap, "max_lines": 3 if do_wrap else None,
               "spacing": 1.0}
        expected = bisect(paragraphs, path, min_px=min_px, max_px=max_px, **box)
        monkeypatch.setattr(textfit, "layout_at", counted)
        got = textfit.fit(paragraphs, path, min_px=min_px, max_px=max_px, **box)  # type: ignore[arg-type]
        monkeypatch.setattr(textfit, "layout_at", real)
        assert got == expected, (paragraphs, max_w, max_h, do_wrap, min_px, max_px)
        cases += 1
    assert layouts / cases < 4.5  # a plain bisection of 4..696 takes 9 or 10
