"""PackBits for a whole page in C: libtiff (inside Pillow) compresses every head line.

Why: a 62 mm QL label is up to ≈2,400 raster lines of 90 bytes. PackBits in Python costs
≈5 µs per distinct line, and Pillow's bit packing (``tobytes``) another full pass; together that
was most of the time from render to raster. A TIFF written with PackBits and **one row per strip**
is exactly what the printer wants: each strip is one line's PackBits (TIFF packs every row on its
own, and so does Brother's mode 2), and the strip byte counts give each line's length. Writing
that TIFF packs the bits and compresses in one C pass; the only Python left is reading the two
tag arrays and joining the lines.

The TIFF is written by Pillow's libtiff encoder directly (``Image.tobytes("libtiff", …)``) rather
than through ``Image.save``: save's tag bookkeeping walks a tuple of every strip in Python, which
cost about as much as the compression, and it cannot pack with the bits inverted (rawmode
``1;I``), which lets the page's own ink (pixel 0) become the printer's set bits with no inverted
copy of the page. The encoder's arguments are Pillow's own and changed in Pillow 13 (the
compression moved into the tags); both forms are known here.

:func:`packed_lines` returns None when Pillow has no libtiff, when the write fails, or when the
file does not have one strip per line; the caller then uses the Python path in
:mod:`appliance.printer.packbits`, which gives the same raster (tested).
"""

from __future__ import annotations

import struct
import sys
from array import array
from functools import cache
from operator import add
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL.Image import Image

__all__ = ["available", "packed_lines", "strips"]

IMAGE_WIDTH, IMAGE_LENGTH, BITS_PER_SAMPLE, COMPRESSION, PHOTOMETRIC = 256, 257, 258, 259, 262
STRIP_OFFSETS, ROWS_PER_STRIP, STRIP_BYTE_COUNTS, PLANAR_CONFIG = 273, 278, 279, 284
PACKBITS = 32773
_ARRAY_CODES = {3: "H", 4: "I"}  # TIFF SHORT, LONG (libtiff writes classic TIFF for pages this small)


class TiffLayoutError(ValueError):
    """The TIFF does not hold the strips this module asked libtiff for."""


@cache
def available() -> bool:
    """True when Pillow was built with libtiff (the wheels on PyPI and piwheels are)."""
    from PIL import features

    return bool(features.check_codec("libtiff"))


def _tag_array(data: bytes, order: str, entry: tuple[int, int, int, bytes]) -> array[int]:
    _tag, kind, count, value = entry
    code = _ARRAY_CODES.get(kind)
    if code is None:
        raise TiffLayoutError(f"strip tag of TIFF type {kind}")
    values = array(code)
    size = count * values.itemsize
    if size <= 4:
        raw = value[:size]
    else:
        (offset,) = struct.unpack(order + "I", value)
        raw = data[offset : offset + size]
    if len(raw) != size:
        raise TiffLayoutError("strip tag runs past the end of the file")
    values.frombytes(raw)
    if (order == "<") != (sys.byteorder == "little"):
        values.byteswap()
    return values


def strips(data: bytes, *, compression: int | None = None) -> list[bytes]:
    """The strips of the first image of a classic TIFF file, in order; with `compression`, only if
    the file says its strips are compressed so (a writer that ignored the asked compression)."""
    order = {b"II": "<", b"MM": ">"}.get(data[:2])
    if order is None or len(data) < 8:
        raise TiffLayoutError("not a classic TIFF file")
    (ifd,) = struct.unpack_from(order + "I", data, 4)
    (count,) = struct.unpack_from(order + "H", data, ifd)
    tags: dict[int, array[int]] = {}
    for index in range(count):
        entry = struct.unpack_from(order + "HHI4s", data, ifd + 2 + 12 * index)
        if entry[0] in (STRIP_OFFSETS, STRIP_BYTE_COUNTS):
            tags[entry[0]] = _tag_array(data, order, entry)
        elif entry[0] == COMPRESSION and compression is not None:
            if entry[1] != 3 or entry[2] != 1 or struct.unpack_from(order + "H", entry[3])[0] != compression:
                raise TiffLayoutError(f"the strips are not compressed with scheme {compression}")
            compression = None  # found, and as asked
    if compression is not None:
        raise TiffLayoutError("no compression tag")
    offsets, sizes = tags.get(STRIP_OFFSETS), tags.get(STRIP_BYTE_COUNTS)
    if offsets is None or sizes is None or len(offsets) != len(sizes):
        raise TiffLayoutError("no strip offsets and byte counts")
    return list(map(data.__getitem__, map(slice, offsets, map(add, offsets, sizes))))


def _encoder_args(rawmode: str, tags: list[tuple[int, int]]) -> tuple[object, ...]:
    """The libtiff encoder's arguments after the mode: Pillow 13 reads the compression from the tags."""
    from PIL import __version__

    if int(__version__.split(".")[0]) >= 13:
        return (rawmode, 0, "", tags, {})
    return (rawmode, "packbits", 0, "", tags, {})  # Pillow 10–12


def packed_lines(head: Image) -> list[bytes] | None:
    """PackBits of every row of the mode "1" image ``head``, in which **pixel 0 is a set bit** (ink,
    as on a rendered label) and 255 a clear one; None when libtiff cannot do it.

    Row y of ``head`` is raster line y: ``head.width`` is the print head's pins, a multiple of 8.
    """
    if not available():
        return None
    width, height = head.size
    # one row per strip; photometric is irrelevant here, only the strips are read back
    tags = [(IMAGE_WIDTH, width), (IMAGE_LENGTH, height), (BITS_PER_SAMPLE, 1), (COMPRESSION, PACKBITS),
            (PHOTOMETRIC, 1), (ROWS_PER_STRIP, 1), (PLANAR_CONFIG, 1)]  # fmt: skip
    try:  # any failure here leaves the label to the Python path rather than failing the job
        lines = strips(head.tobytes("libtiff", _encoder_args("1;I", tags)), compression=PACKBITS)
    except (OSError, RuntimeError, TypeError, ValueError, struct.error):  # TiffLayoutError is a ValueError
        return None
    return lines if len(lines) == height else None
