"""Refuse field patterns whose matching time can explode (catastrophic backtracking).

A field ``pattern`` is matched on the event loop for every preview and submit, and a read-only
token may send the values. ``(a+)+b`` against 30 ``a`` takes minutes and stalls the whole server,
and Python's ``re`` has no timeout. The rule here is the usual one (star height): a repeat that
may run many times must not contain another repeat of variable length, because then the same text
can be split between them in exponentially many ways. The same holds for alternatives that can
match the same text inside such a repeat: ``(a|a)*`` or ``(aa|a)*``. Python's parser factors a
common prefix out (``a(a|)``), so alternatives are compared by the character each can go on with,
an empty one by what follows it. Looking one character ahead also refuses some harmless patterns
(``(a|)*``); where the characters cannot be told (a class like ``\\w``, ``.``, a negated set, case-insensitive
ranges) alternatives are taken to overlap. A false alarm costs the author an atomic group; a
missed one stalls the server. Possessive repeats (``a++``) and atomic groups (``(?>…)``) never
backtrack and are allowed anywhere; they are the fix to suggest.

Patterns that are only polynomially slow (``.*-.*-.*``: n³) have no such shape; they are found by
trying them on long values (:func:`try_on_long_values`).

It reads the parse tree of Python's own regex compiler (``re._parser``); should a Python version
not have it, the check is skipped (the pattern is still compiled and used).
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from typing import Any

try:
    from re import _constants as _c  # type: ignore[attr-defined]
    from re import _parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - every Python this project supports (3.11+) has them
    _parser = None

MANY = 10  # an outer repeat bounded at or below this cannot blow up far

Ranges = list[tuple[int, int]] | None  # the characters a match may start with; None: cannot tell


def _children(op: Any, av: Any) -> list[Any]:
    """The sub-patterns of one parsed item (see re._parser for the shapes)."""
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT):
        return [av[2]]
    if op == _c.SUBPATTERN:
        return [av[3]]
    if op == _c.ATOMIC_GROUP:
        return [av]
    if op == _c.BRANCH:
        return list(av[1])
    if op in (_c.ASSERT, _c.ASSERT_NOT):
        return [av[1]]
    if op == _c.GROUPREF_EXISTS:
        return [p for p in av[1:] if p is not None]
    return []


def _variable_repeat_inside(items: Any) -> bool:
    """True when the parsed items hold a backtracking repeat of variable length."""
    for op, av in items:
        if op in (_c.ATOMIC_GROUP, _c.POSSESSIVE_REPEAT):
            continue  # never backtracks: nothing inside counts
        if op in (_c.MAX_REPEAT, _c.MIN_REPEAT) and av[0] != av[1]:
            return True
        if any(_variable_repeat_inside(sub) for sub in _children(op, av)):
            return True
    return False


def _set_ranges(items: Any, fold: bool) -> Ranges:
    ranges: list[tuple[int, int]] = []
    for op, av in items:
        if op == _c.LITERAL:
            ranges += _literal(av, fold)
        elif op == _c.RANGE and not fold:
            ranges.append(av)
        else:  # a category, a negation, a range under IGNORECASE…: cannot tell
            return None
    return ranges


def _literal(code: int, fold: bool) -> list[tuple[int, int]]:
    if not fold:
        return [(code, code)]
    char = chr(code)
    return [(ord(c), ord(c)) for c in {char, char.lower(), char.upper()} if len(c) == 1]


def _first(items: Any, fold: bool) -> tuple[Ranges, bool]:
    """The characters a match of `items` can start with, and whether it can match nothing."""
    first: list[tuple[int, int]] = []
    for op, av in items:
        if op == _c.LITERAL:
            here, empty = _literal(av, fold), False
        elif op == _c.IN:
            here, empty = _set_ranges(av, fold), False
        elif op in (_c.AT, _c.ASSERT, _c.ASSERT_NOT):
            continue  # zero width
        elif op == _c.SUBPATTERN:
            here, empty = _first(av[3], _flags(op, av, fold))
        elif op == _c.ATOMIC_GROUP:
            here, empty = _first(av, fold)
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT):
            here, empty = _first(av[2], fold)
            empty = empty or av[0] == 0
        elif op == _c.BRANCH:
            parts = [_first(alt, fold) for alt in av[1]]
            here = None if any(r is None for r, _ in parts) else [x for r, _ in parts for x in r or []]
            empty = any(e for _, e in parts)
        else:  # any character, a category, a back reference…
            here, empty = None, False
        if here is None:
            return None, False
        first += here
        if not empty:
            return first, False
    return first, True


def _overlap(a: Ranges, b: Ranges) -> bool:
    if a is None or b is None:
        return bool(a is None or a) and bool(b is None or b)  # "anything" meets any non-empty set
    return any(lo1 <= hi2 and lo2 <= hi1 for lo1, hi1 in a for lo2, hi2 in b)


def _union(a: Ranges, b: Ranges) -> Ranges:
    return None if a is None or b is None else a + b


def _follow(items: Any, index: int, fold: bool, after: Ranges) -> Ranges:
    """The characters that can come right after item `index` of `items` (`after`: after all of them)."""
    rest, rest_empty = _first(items[index + 1:], fold)
    return _union(rest, after) if rest_empty else rest


def _flags(op: Any, av: Any, fold: bool) -> bool:
    """Whether IGNORECASE holds inside this item."""
    if op != _c.SUBPATTERN:
        return fold
    return (fold or bool(av[1] & _c.SRE_FLAG_IGNORECASE)) and not av[2] & _c.SRE_FLAG_IGNORECASE


def _ambiguous_branch_inside(items: Any, fold: bool, after: Ranges) -> bool:
    """True when a branch in `items` has two alternatives that can go on with the same character.

    `after`: the characters that can follow `items` (None: cannot tell). An alternative that can
    match nothing goes on with whatever follows the branch: in ``a(a|)`` repeated, as Python
    parses ``(aa|a)*``, the empty one goes on with the next "a" just as the other starts with one.
    """
    for index, (op, av) in enumerate(items):
        if op in (_c.ATOMIC_GROUP, _c.POSSESSIVE_REPEAT):
            continue  # never backtracks
        follow = _follow(items, index, fold, after)
        if op == _c.BRANCH:
            starts = []
            for alt in av[1]:
                ranges, empty = _first(alt, fold)
                starts.append(_union(ranges, follow) if empty else ranges)
            if any(_overlap(a, b) for i, a in enumerate(starts) for b in starts[i + 1:]):
                return True
        if op in (_c.MAX_REPEAT, _c.MIN_REPEAT):  # its body goes on with itself, or with what follows
            follow = _union(_first(av[2], fold)[0], follow)
        inner = _flags(op, av, fold)
        if any(_ambiguous_branch_inside(sub, inner, follow) for sub in _children(op, av)):
            return True
    return False


def _nested(items: Any, fold: bool, after: Ranges) -> bool:
    for index, (op, av) in enumerate(items):
        follow = _follow(items, index, fold, after)
        if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT):
            follow = _union(_first(av[2], fold)[0], follow)  # the body goes on with itself, or what follows
        if op in (_c.MAX_REPEAT, _c.MIN_REPEAT):
            high = av[1]
            if (high is _c.MAXREPEAT or high > MANY) and (
                _variable_repeat_inside(av[2]) or _ambiguous_branch_inside(av[2], fold, follow)
            ):
                return True
        if any(_nested(sub, _flags(op, av, fold), follow) for sub in _children(op, av)):
            return True
    return False


def risk(pattern: str) -> str | None:
    """Why `pattern` may take exponential time, or None. The pattern must already compile."""
    if _parser is None:
        return None
    parsed = _parser.parse(pattern)
    if _nested(parsed, bool(parsed.state.flags & _c.SRE_FLAG_IGNORECASE), []):  # nothing after the end
        return ("has a repeat inside a repeat, like (a+)+, or alternatives that can match the same text inside "
                "a repeat, like (aa|a)*, which can take minutes on a short value; make the inner repeat "
                "possessive (a++) or the group atomic (?>...)")
    return None


PUMP_LENGTH = 512  # characters in a trial value; longer ones are judged from the growth up to here
LONGEST_VALUE = 4096  # what the RPC contract lets a field value be, when the field sets no max_length
PUMP_BUDGET_S = 0.025  # a sound pattern takes microseconds on it; a cubic one tens of milliseconds
GROWTH_FLOOR_S = 0.0001  # runs shorter than this are too noisy to extrapolate from
_PUMP_CHARS = "aA1 -_./:"
_ENDINGS = ("\n", "\x00", "!")


def _timed(pattern: re.Pattern[str], value: str) -> float:
    started = time.perf_counter()
    pattern.fullmatch(value)
    return time.perf_counter() - started


def _too_slow(took: float, length: int, char: str, verb: str) -> str:
    return (f"{verb} {took * 1000:.0f} ms on a {length}-character value ({char!r} repeated): repeats side by "
            "side that can take the same characters (like .*-.*-.*) try every way to split them; make them "
            "possessive (.*+) or the characters they take distinct ([^-]*-[^-]*), or give the field a "
            "shorter max_length")


def _degree(took: float, before: float) -> float:
    """How the time grew from half the length: 1 linear, 2 quadratic…"""
    return max(1.0, math.log2(took / max(before, 1e-7)))


@dataclass(frozen=True)
class Trial:
    """What trying a pattern on long values found."""

    refused: str | None = None  # why it is too slow even on values of PUMP_LENGTH characters
    quick_up_to: int | None = None  # when it is slow only on longer values than that: the longest it is quick on


def try_on_long_values(pattern: re.Pattern[str], source: str, longest: int = LONGEST_VALUE) -> Trial:
    """Try `pattern` on long values, for values of up to `longest` characters.

    The star-height rule above catches exponential patterns. Polynomial ones escape it: repeats side
    by side that can take the same characters, like ``.*-.*-.*`` or ``\\d*\\d*\\d*x``, try every way to
    split a value between them (n³ for three). Rather than judge those by their shape, each is
    run on a few long values made of one character (those the pattern names, and some common
    ones) and a final character it cannot end on; one slow run refuses it.

    The length doubles from 8 up to PUMP_LENGTH (or `longest`), and a run whose time grew so fast
    that the next length would be over the budget refuses the pattern without that run: Python's
    ``re`` holds the GIL for a whole match, so one run of an n⁶ pattern just past the budget's length
    took half a second, during which the server answered nobody.

    Past PUMP_LENGTH the time at `longest` is worked out from the growth up to it. A pattern quick
    on PUMP_LENGTH characters but not on `longest` is not refused (``.*-.*`` is common and harmless
    on a label's text) but kept to the longest value it is quick on: ``.*-.*`` took 29 ms on 4096
    characters, and a read-only caller could send such values as fast as the rate limit lets it.
    """
    chars = dict.fromkeys(c for c in source + _PUMP_CHARS if c.isprintable())
    previous: dict[tuple[str, str], float] = {}
    top = max(8, min(PUMP_LENGTH, longest))
    quick_up_to: int | None = None
    length = 8
    while length <= top:
        for char in chars:
            for ending in _ENDINGS:
                value = char * length + ending
                took = _timed(pattern, value)
                if took > PUMP_BUDGET_S:  # once more before refusing: a busy machine can preempt one run
                    took = min(took, _timed(pattern, value))
                    if took > PUMP_BUDGET_S:
                        return Trial(refused=_too_slow(took, length, char, "takes"))
                before = previous.get((char, ending))
                previous[(char, ending)] = took
                beyond = length == top and longest > top  # the last trial: the longest value is judged from it
                target = longest if beyond else min(length * 2, longest)
                if took <= GROWTH_FLOOR_S or before is None or target <= length:
                    continue
                took = previous[(char, ending)] = min(took, _timed(pattern, value), _timed(pattern, value))
                degree = _degree(took, before)  # a preempted run is no growth: the least of three
                guess = took * (target / length) ** degree
                if guess <= PUMP_BUDGET_S:
                    continue
                if not beyond:
                    return Trial(refused=_too_slow(guess, target, char, "would take about"))
                quick = max(length, int(length * (PUMP_BUDGET_S / took) ** (1 / degree)))
                quick_up_to = quick if quick_up_to is None else min(quick_up_to, quick)
        length *= 2
    return Trial(quick_up_to=quick_up_to)
