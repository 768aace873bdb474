"""PackBits (TIFF) run-length coding, as Brother printers expect it in compression mode 2.

Control byte c: 0..127 → c+1 literal bytes follow; 129..255 → the next byte repeats 257−c times;
128 is a no-op. Runs of three or more equal bytes are packed, everything else goes out as literals.
The run search is one C-level regex split per line (see `_RUNS`).
"""

from __future__ import annotations

import re

__all__ = ["PackBitsError", "compress", "decompress"]

# Runs of 3..128 equal bytes; longer runs are split by the regex itself (at most 128 per match).
# split() with the run as a group returns [literal, run, its byte, literal, run, its byte, …, literal]
# in one C call, which is what makes this fast in CPython (no match object per run).
_RUNS = re.compile(rb"((.)\2{2,127})", re.DOTALL)
_LITERAL = [bytes((n - 1,)) if n else b"" for n in range(129)]  # control byte for n literal bytes
_REPEAT = [bytes(((257 - n) & 0xFF,)) for n in range(129)]  # control byte for a run of n


class PackBitsError(ValueError):
    """Compressed data is truncated or malformed."""


def _literals(out: list[bytes], data: bytes) -> None:
    if len(data) <= 128:  # the common case: one literal run
        out += (_LITERAL[len(data)], data)
        return
    for start in range(0, len(data), 128):
        chunk = data[start : start + 128]
        out += (_LITERAL[len(chunk)], chunk)


def compress(data: bytes) -> bytes:
    """Compress ``data`` with PackBits. ``decompress(compress(x)) == x`` for every input."""
    parts = _RUNS.split(data)
    out: list[bytes] = []
    for i in range(0, len(parts) - 1, 3):
        if parts[i]:
            _literals(out, parts[i])
        out += (_REPEAT[len(parts[i + 1])], parts[i + 2])
    if parts[-1]:
        _literals(out, parts[-1])
    return b"".join(out)


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
