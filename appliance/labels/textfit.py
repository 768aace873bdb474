"""Measure, wrap and fit lines of text into a box (all sizes in head dots)."""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from appliance.labels.fonts import font, line_metrics


@dataclass(frozen=True, slots=True)
class TextBlock:
    lines: tuple[str, ...]
    path: str
    px: int
    widths: tuple[int, ...]
    ascent: int
    line_step: int
    height: int

    @property
    def width(self) -> int:
        return max(self.widths, default=0)


def measure(lines: list[str] | tuple[str, ...], path: str, px: int, spacing: float = 1.0) -> TextBlock:
    f = font(path, px)
    ascent, descent = line_metrics(path, px)
    step = max(1, round((ascent + descent) * spacing))
    widths = tuple(ceil(f.getlength(line)) for line in lines)
    height = (ascent + descent) + step * (len(lines) - 1) if lines else 0
    return TextBlock(tuple(lines), path, px, widths, ascent, step, height)


def wrap(paragraphs: list[str], path: str, px: int, max_w: int) -> list[str] | None:
    """Greedy word wrap; None when a single word is wider than `max_w`."""
    f = font(path, px)
    out: list[str] = []
    for para in paragraphs:
        line = ""
        for word in para.split():
            candidate = f"{line} {word}" if line else word
            if f.getlength(candidate) <= max_w:
                line = candidate
                continue
            if not line or f.getlength(word) > max_w:
                return None
            out.append(line)
            line = word
        out.append(line)
    return out


def layout_at(
    paragraphs: list[str],
    path: str,
    px: int,
    *,
    max_w: int | None,
    max_h: int,
    do_wrap: bool,
    max_lines: int | None,
    spacing: float,
) -> tuple[TextBlock, bool]:
    """The block at size `px` and whether it fits the box."""
    lines: list[str] | None = paragraphs
    if do_wrap and max_w is not None:
        lines = wrap(paragraphs, path, px, max_w)
    if lines is None:
        return measure(paragraphs, path, px, spacing), False
    block = measure(lines, path, px, spacing)
    fits = block.height <= max_h and (max_w is None or block.width <= max_w)
    if max_lines is not None and len(lines) > max_lines:
        fits = False
    return block, fits


def fit(
    paragraphs: list[str],
    path: str,
    *,
    min_px: int,
    max_px: int,
    max_w: int | None,
    max_h: int,
    do_wrap: bool = False,
    max_lines: int | None = None,
    spacing: float = 1.0,
) -> TextBlock | None:
    """The largest size in [min_px, max_px] whose block fits, or None.

    Text grows nearly in proportion to its size, so the block at `max_px` predicts the answer;
    the search gallops out from that guess until it brackets the boundary, then bisects. It
    finds what a plain binary search over the whole range finds, in about three layouts
    instead of seven or eight (each layout measures every line).
    """

    def at(px: int) -> tuple[TextBlock, bool]:  # each size is laid out once: the bounds exclude tried ones
        return layout_at(
            paragraphs, path, px, max_w=max_w, max_h=max_h, do_wrap=do_wrap, max_lines=max_lines, spacing=spacing
        )

    lo, hi = min_px, max(min_px, max_px)
    block, fits = at(hi)
    if fits:
        return block
    hi -= 1
    if lo > hi:
        return None
    ratio = max_h / block.height if block.height else 1.0
    if max_w is not None and block.width:
        ratio = min(ratio, max_w / block.width)
    guess = min(hi, max(lo, int((hi + 1) * ratio)))
    best: TextBlock | None = None
    step = 1
    block, fits = at(guess)
    if fits:  # gallop up: guess+1, guess+2, guess+4, … until one does not fit
        best, lo = block, guess + 1
        while lo <= hi:
            probe = min(hi, guess + step)
            block, fits = at(probe)
            if not fits:
                hi = probe - 1
                break
            best, lo, guess, step = block, probe + 1, probe, step * 2
    else:  # gallop down until one fits
        hi = guess - 1
        while lo <= hi:
            probe = max(lo, guess - step)
            block, fits = at(probe)
            if fits:
                best, lo = block, probe + 1
                break
            hi, guess, step = probe - 1, probe, step * 2
    while lo <= hi:  # bisect what is left between the last fit and the first misfit
        mid = (lo + hi) // 2
        block, fits = at(mid)
        if fits:
            best, lo = block, mid + 1
        else:
            hi = mid - 1
    return best
