"""Refuse field patterns whose matching time can explode (catastrophic backtracking).

A field ``pattern`` is matched on the event loop for every preview and submit, and a read-only
token may send the values. ``(a+)+b`` against 30 ``a`` takes minutes and stalls the whole server,
and Python's ``re`` has no timeout. The rule here is the usual one (star height): a repeat that
may run many times must not contain another repeat of variable length, because then the same text
can be split between them in exponentially many ways. Possessive repeats (``a++``) and atomic
groups (``(?>…)``) never backtrack and are allowed anywhere; they are the fix to suggest.

It reads the parse tree of Python's own regex compiler (``re._parser``); should a Python version
not have it, the check is skipped (the pattern is still compiled and used).
"""

from __future__ import annotations

from typing import Any

try:
    from re import _constants as _c  # type: ignore[attr-defined]
    from re import _parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - every Python this project supports (3.11+) has them
    _parser = None

MANY = 10  # an outer repeat bounded at or below this cannot blow up far


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


def _nested(items: Any) -> bool:
    for op, av in items:
        if op in (_c.MAX_REPEAT, _c.MIN_REPEAT):
            high = av[1]
            if (high is _c.MAXREPEAT or high > MANY) and _variable_repeat_inside(av[2]):
                return True
        if any(_nested(sub) for sub in _children(op, av)):
            return True
    return False


def risk(pattern: str) -> str | None:
    """Why `pattern` may take exponential time, or None. The pattern must already compile."""
    if _parser is None:
        return None
    if _nested(_parser.parse(pattern)):
        return ("has a repeat inside a repeat, like (a+)+, which can take minutes on a short value; "
                "make the inner one possessive (a++) or the group atomic (?>...)")
    return None
