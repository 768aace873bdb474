"""PWG raster (PWG 5102.4) and Apple raster (URF): pages a client rasterised itself.

Both compress each line the same way: a line-repeat count, then runs of one pixel repeated or
literal pixels, 128 filling the rest of the line with white. A header's sizes are checked
against each other and against `MAX_RASTER_PIXELS` before anything is allocated, and the data
must really hold the lines the header promises: a header that lies is a `DocumentError`.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import IO

from PIL import Image

from .documents import MAX_RASTER_PIXELS, DocumentError, Page, read_exact

PWG_HEADER = 1796
URF_HEADER = 32
MAX_SIDE_PX = 60_000


def pwg_pages(stream: IO[bytes]) -> Iterator[Page]:
    if read_exact(stream, 4, "the PWG raster sync word") != b"RaS2":
        raise DocumentError("the document says image/pwg-raster but does not start with RaS2")
    number = 0
    while True:
        header = stream.read(PWG_HEADER)
        if not header:
            if number == 0:
                raise DocumentError("the PWG raster holds no page")
            return
        number += 1
        if len(header) != PWG_HEADER:
            raise DocumentError(f"page {number}'s PWG raster header is cut short")
        yield _pwg_page(stream, header, number)


def _u32(header: bytes, offset: int) -> int:
    return int(struct.unpack_from(">I", header, offset)[0])


def _pwg_page(stream: IO[bytes], header: bytes, number: int) -> Page:
    xdpi, ydpi = _u32(header, 276), _u32(header, 280)
    width, height = _u32(header, 372), _u32(header, 376)
    bits_per_color, bits_per_pixel, bytes_per_line = _u32(header, 384), _u32(header, 388), _u32(header, 392)
    color_space = _u32(header, 400)
    _check_size(number, width, height, xdpi, ydpi)
    if (bits_per_pixel, bits_per_color) not in ((1, 1), (8, 8), (24, 8)):
        raise DocumentError(f"page {number}: {bits_per_pixel} bits per pixel is not supported "
                            "(black_1, sgray_8 or srgb_8)")
    if bytes_per_line != (width * bits_per_pixel + 7) // 8:
        raise DocumentError(f"page {number}: the header's bytes per line ({bytes_per_line}) do not match "
                            f"its width ({width} pixels of {bits_per_pixel} bits)")
    unit = max(1, bits_per_pixel // 8)
    inverted = bits_per_pixel == 1 or color_space == 3  # black/K: 1 (or 255) is ink, not light
    fill = b"\x00" * unit if inverted else b"\xff" * unit
    data = _decode(stream, bytes_per_line, height, unit, fill, number)
    image = _to_gray(data, width, height, bits_per_pixel, inverted)
    return _page(image, xdpi, ydpi)


def urf_pages(stream: IO[bytes]) -> Iterator[Page]:
    if read_exact(stream, 8, "the URF magic") != b"UNIRAST\x00":
        raise DocumentError("the document says image/urf but does not start with UNIRAST")
    (count,) = struct.unpack(">I", read_exact(stream, 4, "the URF page count"))
    number = 0
    while True:
        header = stream.read(URF_HEADER)
        if not header:
            if number == 0:
                raise DocumentError("the URF document holds no page")
            return
        number += 1
        if count and number > count:
            raise DocumentError(f"the URF document says {count} pages but holds more")
        if len(header) != URF_HEADER:
            raise DocumentError(f"page {number}'s URF header is cut short")
        bits_per_pixel = header[0]
        width, height, dpi = struct.unpack_from(">III", header, 12)
        _check_size(number, width, height, dpi, dpi)
        if bits_per_pixel not in (8, 24):
            raise DocumentError(f"page {number}: {bits_per_pixel} bits per pixel is not supported (8 or 24)")
        unit = bits_per_pixel // 8
        data = _decode(stream, width * unit, height, unit, b"\xff" * unit, number)
        yield _page(_to_gray(data, width, height, bits_per_pixel, False), dpi, dpi)


def _check_size(number: int, width: int, height: int, xdpi: int, ydpi: int) -> None:
    if not (0 < width <= MAX_SIDE_PX and 0 < height <= MAX_SIDE_PX) or width * height > MAX_RASTER_PIXELS:
        raise DocumentError(f"page {number} says it is {width}×{height} pixels: more than a label can be "
                            f"(at most {MAX_RASTER_PIXELS} pixels)")
    if not (50 <= xdpi <= 2400 and 50 <= ydpi <= 2400):
        raise DocumentError(f"page {number} says its resolution is {xdpi}×{ydpi} dpi")


def _decode(stream: IO[bytes], line_bytes: int, height: int, unit: int, fill: bytes, number: int) -> bytearray:
    """`height` lines of `line_bytes` from the run-length data (PWG 5102.4 §4.3)."""
    out = bytearray()
    read = stream.read
    y = 0
    while y < height:
        head = read(1)
        if not head:
            raise DocumentError(f"page {number} ends after {y} of the {height} lines its header promises")
        repeat = head[0] + 1
        line = bytearray()
        while len(line) < line_bytes:
            code = read(1)
            if not code:
                raise DocumentError(f"page {number} ends inside line {y + 1}")
            n = code[0]
            if n == 128:
                line += fill * ((line_bytes - len(line)) // unit)
                break
            if n < 128:
                pixel = read(unit)
                if len(pixel) != unit:
                    raise DocumentError(f"page {number} ends inside line {y + 1}")
                line += pixel * (n + 1)
            else:
                count = (257 - n) * unit
                chunk = read(count)
                if len(chunk) != count:
                    raise DocumentError(f"page {number} ends inside line {y + 1}")
                line += chunk
        if len(line) != line_bytes:
            raise DocumentError(f"page {number}: line {y + 1} holds more pixels than the header's width")
        repeat = min(repeat, height - y)
        out += bytes(line) * repeat
        y += repeat
    return out


def _to_gray(data: bytearray, width: int, height: int, bits_per_pixel: int, inverted: bool) -> Image.Image:
    if bits_per_pixel == 1:
        image = Image.frombytes("1", (width, height), bytes(data)).convert("L")  # 1 = ink
        return image.point(lambda v: 255 - v)
    if bits_per_pixel == 24:
        return Image.frombytes("RGB", (width, height), bytes(data)).convert("L")
    image = Image.frombytes("L", (width, height), bytes(data))
    return image.point(lambda v: 255 - v) if inverted else image


def _page(image: Image.Image, xdpi: int, ydpi: int) -> Page:
    def draw(width: int, height: int) -> Image.Image:
        return image.resize((width, height), Image.Resampling.LANCZOS)

    from .fit import looks_like_photo

    return Page(image.width * 25.4 / xdpi, image.height * 25.4 / ydpi, draw, photo_hint=looks_like_photo(image))
