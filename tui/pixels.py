"""Decode the preview PNG and draw it with half-block characters (two pixel rows per cell).

Why our own decoder: the server's previews are small non-interlaced 1-bit greyscale PNGs,
which zlib (stdlib) and the five PNG row filters decode in ~40 lines, in about a
millisecond, without importing Pillow (~100 ms of import on a Pi) into a client that
may run on a laptop with only `rpc` and Textual. Anything exotic (interlaced) falls
back to a lazily imported Pillow, which the project depends on anyway.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


@dataclass(frozen=True)
class Bitmap:
    width: int
    height: int
    ink: bytes  # width*height bytes, 1 = ink (dark), 0 = paper; row-major

    def at(self, x: int, y: int) -> int:
        return self.ink[y * self.width + x]


def decode_png(data: bytes) -> Bitmap:
    if not data.startswith(SIGNATURE):
        raise ValueError("not a PNG")
    pos = len(SIGNATURE)
    idat = bytearray()
    palette = b""
    header = None
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"PLTE":
            palette = chunk
        elif kind == b"IDAT":
            idat += chunk
        elif kind == b"IEND":
            break
    if header is None:
        raise ValueError("PNG without IHDR")
    width, height, depth, color, _compression, _filter, interlace = header
    if interlace or color not in _CHANNELS:
        return _decode_with_pillow(data)
    channels = _CHANNELS[color]
    bits = depth * channels
    stride = (width * bits + 7) // 8
    bpp = max(1, bits // 8)
    raw = zlib.decompress(bytes(idat))
    ink = bytearray(width * height)
    prev = bytearray(stride)
    offset = 0
    maxval = (1 << depth) - 1
    for y in range(height):
        kind = raw[offset]
        line = bytearray(raw[offset + 1:offset + 1 + stride])
        offset += 1 + stride
        _unfilter(kind, line, prev, bpp)
        prev = line
        row = y * width
        for x in range(width):
            ink[row + x] = _is_ink(line, x, depth, color, channels, maxval, palette)
    return Bitmap(width, height, bytes(ink))


def _unfilter(kind: int, line: bytearray, prev: bytearray, bpp: int) -> None:
    if kind == 0:
        return
    n = len(line)
    if kind == 1:
        for i in range(bpp, n):
            line[i] = (line[i] + line[i - bpp]) & 0xFF
    elif kind == 2:
        for i in range(n):
            line[i] = (line[i] + prev[i]) & 0xFF
    elif kind == 3:
        for i in range(n):
            left = line[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
    elif kind == 4:
        for i in range(n):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            line[i] = (line[i] + pred) & 0xFF
    else:
        raise ValueError(f"bad PNG filter {kind}")


def _sample(line: bytearray, index: int, depth: int) -> int:
    if depth == 8:
        return line[index]
    if depth == 16:
        return line[index * 2]
    per_byte = 8 // depth
    byte = line[index // per_byte]
    shift = 8 - depth * (index % per_byte + 1)
    return (byte >> shift) & ((1 << depth) - 1)


def _is_ink(line: bytearray, x: int, depth: int, color: int, channels: int, maxval: int, palette: bytes) -> int:
    if color == 0:
        return 1 if _sample(line, x, depth) * 2 < maxval else 0
    if color == 3:
        i = _sample(line, x, depth) * 3
        r, g, b = palette[i:i + 3] if i + 3 <= len(palette) else (0, 0, 0)
        return 1 if r * 3 + g * 6 + b < 5 * 255 else 0
    scale = 257 if depth == 16 else 1
    step = 2 if depth == 16 else 1
    base = x * channels * step
    values = [line[base + c * step] for c in range(channels)]
    if color == 4:
        grey, alpha = values
        return 1 if alpha > 127 and grey < 128 else 0
    r, g, b = values[:3]
    alpha = values[3] if color == 6 else 255
    del scale
    return 1 if alpha > 127 and r * 3 + g * 6 + b < 5 * 255 else 0


def _decode_with_pillow(data: bytes) -> Bitmap:
    import io

    from PIL import Image  # lazy: only for PNGs the built-in decoder does not handle

    image = Image.open(io.BytesIO(data)).convert("L")
    width, height = image.size
    pixels = image.tobytes()
    return Bitmap(width, height, bytes(1 if v < 128 else 0 for v in pixels))


def fit(width_px: int, height_px: int, feed_dpi: float, head_dpi: float, max_cols: int,
        max_rows: int) -> tuple[int, int]:
    """(columns, pixel rows) that keep the label's physical aspect ratio inside max_cols × max_rows cells.

    A cell is about twice as tall as it is wide, so a half-block "pixel" (one column,
    half a row) is about square.
    """
    width_mm = width_px / max(feed_dpi, 1)
    height_mm = height_px / max(head_dpi, 1)
    if width_mm <= 0 or height_mm <= 0:
        return 0, 0
    cols = max(1, max_cols)
    rows_px = max(1, round(cols * height_mm / width_mm))
    if rows_px > max_rows * 2:
        rows_px = max(1, max_rows * 2)
        cols = max(1, min(max_cols, round(rows_px * width_mm / height_mm)))
    return cols, rows_px


def downscale(bitmap: Bitmap, cols: int, rows_px: int, threshold: float = 0.3) -> list[list[int]]:
    """Box-filter to cols × rows_px; a target pixel is ink when at least `threshold` of its box is."""
    out: list[list[int]] = []
    w, h = bitmap.width, bitmap.height
    ink = bitmap.ink
    for ty in range(rows_px):
        y0 = ty * h // rows_px
        y1 = max(y0 + 1, (ty + 1) * h // rows_px)
        row: list[int] = []
        for tx in range(cols):
            x0 = tx * w // cols
            x1 = max(x0 + 1, (tx + 1) * w // cols)
            total = 0
            for y in range(y0, y1):
                base = y * w
                total += sum(ink[base + x0:base + x1])
            row.append(1 if total >= threshold * (y1 - y0) * (x1 - x0) else 0)
        out.append(row)
    return out


_BLOCKS = {(0, 0): " ", (1, 0): "▀", (0, 1): "▄", (1, 1): "█"}


def halfblocks(pixels: list[list[int]]) -> list[str]:
    """Two pixel rows per text line: ▀ top only, ▄ bottom only, █ both, space neither."""
    lines: list[str] = []
    for y in range(0, len(pixels), 2):
        top = pixels[y]
        bottom = pixels[y + 1] if y + 1 < len(pixels) else [0] * len(top)
        lines.append("".join(_BLOCKS[(t, b)] for t, b in zip(top, bottom, strict=True)))
    return lines


def render(bitmap: Bitmap, feed_dpi: float, head_dpi: float, max_cols: int, max_rows: int) -> list[str]:
    cols, rows_px = fit(bitmap.width, bitmap.height, feed_dpi, head_dpi, max_cols, max_rows)
    if cols == 0:
        return []
    return halfblocks(downscale(bitmap, cols, rows_px))
