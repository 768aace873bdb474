"""Code 39 encoder (wide bars three times the narrow ones, optional mod-43 check)."""

from __future__ import annotations

_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%"
_PATTERNS = dict(
    zip(
        _CHARS + "*",
        [
            "nnnwwnwnn",
            "wnnwnnnnw",
            "nnwwnnnnw",
            "wnwwnnnnn",
            "nnnwwnnnw",
            "wnnwwnnnn",
            "nnwwwnnnn",
            "nnnwnnwnw",
            "wnnwnnwnn",
            "nnwwnnwnn",
            "wnnnnwnnw",
            "nnwnnwnnw",
            "wnwnnwnnn",
            "nnnnwwnnw",
            "wnnnwwnnn",
            "nnwnwwnnn",
            "nnnnnwwnw",
            "wnnnnwwnn",
            "nnwnnwwnn",
            "nnnnwwwnn",
            "wnnnnnnww",
            "nnwnnnnww",
            "wnwnnnnwn",
            "nnnnwnnww",
            "wnnnwnnwn",
            "nnwnwnnwn",
            "nnnnnnwww",
            "wnnnnnwwn",
            "nnwnnnwwn",
            "nnnnwnwwn",
            "wwnnnnnnw",
            "nwwnnnnnw",
            "wwwnnnnnn",
            "nwnnwnnnw",
            "wwnnwnnnn",
            "nwwnwnnnn",
            "nwnnnnwnw",
            "wwnnnnwnn",
            "nwwnnnwnn",
            "nwnwnwnnn",
            "nwnwnnnwn",
            "nwnnnwnwn",
            "nnnwnwnwn",
            "nwnnwnwnn",
        ],
        strict=True,
    )
)
WIDE = 3


def _char_modules(pattern: str) -> str:
    out = []
    for i, e in enumerate(pattern):
        out.append(("1" if i % 2 == 0 else "0") * (WIDE if e == "w" else 1))
    return "".join(out)


_MODULES = {ch: _char_modules(p) for ch, p in _PATTERNS.items()}


def check_char(data: str) -> str:
    return _CHARS[sum(_CHARS.index(c) for c in data) % 43]


def encode(data: str, *, check: bool = False) -> str:
    """Module string with start/stop '*' and one narrow gap between characters."""
    if not data:
        raise ValueError("Code 39 needs at least one character")
    bad = sorted({c for c in data if c not in _CHARS})
    if bad:
        raise ValueError(f"Code 39 cannot encode {''.join(bad)!r} (allowed: 0-9 A-Z - . space $ / + %)")
    body = data + (check_char(data) if check else "")
    return "0".join(_MODULES[c] for c in f"*{body}*")
