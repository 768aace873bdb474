"""Template field patterns, compiled with RE2 so that no pattern can stall the server.

A field ``pattern`` is matched on the event loop for every preview and submit, and a read-only
token may send the values. Python's ``re`` backtracks: ``(a+)+b`` against 30 ``a`` takes minutes,
with the GIL held and no timeout. RE2 (Google's engine, Python binding ``google-re2``) matches in
time linear in the value by construction, so every pattern it compiles is safe; measured on this
machine, the old hostile patterns (``(a+)+b``, ``(.|a)*``, ``.*-.*-.*-.*-.*-.*``) fullmatch 100 000
characters in 0.1-0.3 ms. This replaced a 281-line guess from ``re._parser`` (star height, plus
trial runs on long values that capped ``max_length``).

What RE2 cannot compile is refused with RE2's own reason: back-references (``\\1``) and
look-arounds (``(?=``, ``(?<=``), which need backtracking, and repeats or sizes past its limits
(``{1001}``, ``pattern too large``). Compiling holds the GIL (the drawing thread does it, at
template.put), and its cost grows with the program RE2 builds: with RE2's default budget of 8 MiB
``\\pL{1000}`` took 140 ms to be refused; with 1 MiB (``MAX_MEM``) 5-15 ms, while every pattern a
label field plausibly needs compiles in under 10 ms (``.{1000}``, ``(?i)[a-zäöü]{200}``). Patterns
are at most 1000 characters. Possessive repeats
(``a++``) and atomic groups (``(?>…)``), the old advice against backtracking, are not RE2 syntax
and not needed: the reason says to write ``a+`` / ``(?:…)``. Classes follow RE2: ``\\d``, ``\\w`` and
``\\s`` are ASCII; ``\\pL`` / ``\\p{Greek}`` name Unicode ones.
"""

from __future__ import annotations

from typing import Any

_HINTS = {  # RE2's words for syntax that Python's re knows, and what to write instead
    "++": "possessive repeats are not needed with RE2 (it never backtracks): write a+ instead of a++",
    "*+": "possessive repeats are not needed with RE2 (it never backtracks): write a* instead of a*+",
    "?+": "possessive repeats are not needed with RE2 (it never backtracks): write a? instead of a?+",
    "(?>": "atomic groups are not needed with RE2 (it never backtracks): write (?:…) instead of (?>…)",
    "(?=": "look-aheads need backtracking, which RE2 refuses to do",
    "(?!": "look-aheads need backtracking, which RE2 refuses to do",
    "(?<=": "look-behinds need backtracking, which RE2 refuses to do",
    "(?<!": "look-behinds need backtracking, which RE2 refuses to do",
}


MAX_MEM = 1 << 20  # bytes RE2 may use for one pattern (its default: 8 MiB)
MAX_PATTERN = 1000  # characters


def _options() -> Any:
    import re2

    options = re2.Options()
    options.log_errors = False  # RE2 would print every refused pattern to stderr
    options.max_mem = MAX_MEM
    return options


def compile_pattern(source: str) -> Any:
    """The RE2 regex for ``source`` (its ``fullmatch`` and ``pattern`` are used).

    Raises ValueError with the reason RE2 gives, plus a hint where one helps.
    """
    import re2  # imported on first use: only templates with a pattern need it

    if len(source) > MAX_PATTERN:
        raise ValueError(f"bad regular expression: a pattern may have at most {MAX_PATTERN} characters")
    if any(0xD800 <= ord(char) <= 0xDFFF for char in source):
        raise ValueError("bad regular expression: holds a lone surrogate, which is not a character")
    try:
        return re2.compile(source, _options())
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        hint = next((words for key, words in _HINTS.items() if key in reason), None)
        if reason[-2:-1] == "\\" and reason[-1:].isdigit():
            hint = "back-references need backtracking, which RE2 refuses to do"
        raise ValueError(f"bad regular expression (RE2): {reason}" + (f"; {hint}" if hint else "")) from None
