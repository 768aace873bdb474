"""PackBits (TIFF) run-length coding, as Brother printers expect it in compression mode 2.

Control byte c: 0..127 → c+1 literal bytes follow; 129..255 → the next byte repeats 257−c times;
128 is a no-op. Runs of three or more equal bytes are packed, everything else goes out as literals.
The run search is one C-level regex scan, which is what makes this fast in CPython.
"""

from __future__ import annotations

import re

__all__ = ["PackBitsError", "compress", "decompress"]

# Runs of 3..128 equal bytes; longer runs are split by the regex itself (at most 128 per match).
_RUN = re.compile(rb"(.)\1{2,127}", re.DOTALL)


class PackBitsError(ValueError):
    """Compressed data is truncated or malformed."""


def _literals(out: bytearray, data: bytes, start: int, end: int) -> None:
    while start < end:
        n = min(128, end - start)
        out.append(n - 1)
        out += data[start : start + n]
        start += n


def compress(data: bytes) -> bytes:
    """Compress ``data`` with PackBits. ``decompress(compress(x)) == x`` for every input."""
    out = bytearray()
    append = out.append
    pos = 0
    for match in _RUN.finditer(data):
        start, end = match.span()
        gap = start - pos
        if gap:
            if gap <= 128:  # the common case, inlined: one literal run
                append(gap - 1)
                out += data[pos:start]
            else:
                _literals(out, data, pos, start)
        append(257 - (end - start))
        append(data[start])
        pos = end
    _literals(out, data, pos, len(data))
    return bytes(out)


def decompress(data: bytes, expected: int | None = None) -> bytes:
    """Expand PackBits ``data``; with ``expected``, fail as soon as the output would exceed it."""
    out = bytearray()
    i = 0
    n = len(data)
    while i < n:
        c = data[i]
        i += 1
        if c < 128:
            count = c + 1
            if i + count > n:
                raise PackBitsError(f"literal run of {count} bytes truncated at offset {i - 1}")
            out += data[i : i + count]
            i += count
        elif c > 128:
            if i >= n:
                raise PackBitsError(f"repeat run truncated at offset {i - 1}")
            out += data[i : i + 1] * (257 - c)
            i += 1
        if expected is not None and len(out) > expected:
            raise PackBitsError(f"expands to more than {expected} bytes")
    return bytes(out)
