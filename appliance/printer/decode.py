"""A strict decoder for Brother raster streams: bytes → commands, pages and pixels.

It reads a job the way a printer does and refuses what a printer would choke on: an unknown
command, truncated data, or a raster line longer than the head all raise
:class:`RasterDecodeError` with the byte offset. It also accepts the undocumented commands that
Brother's own drivers send (``ESC i U``, ``ESC i k``), so their captures decode.

Each page carries the compression mode its lines were sent in; a PT-P750W or PT-E550W prints
uncompressed lines blank, and the caller (the virtual printer) decides what to do with that.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from appliance.printer.media import Media
from appliance.printer.models import Model
from appliance.printer.packbits import PackBitsError, decompress

if TYPE_CHECKING:
    from PIL.Image import Image

__all__ = ["DecodedJob", "DecodedPage", "PrintInfo", "RasterDecodeError", "decode_job", "to_head_image",
           "to_label_image"]  # fmt: skip

_INVERT = bytes(255 - b for b in range(256))

# ESC i <letter>: (name, number of argument bytes)
_ESC_I: dict[int, tuple[str, int]] = {
    ord("a"): ("raster-mode", 1),
    ord("z"): ("print-info", 10),
    ord("M"): ("various-mode", 1),
    ord("A"): ("cut-every", 1),
    ord("K"): ("advanced-mode", 1),
    ord("d"): ("margin", 2),
    ord("!"): ("notification-mode", 1),
    ord("S"): ("status-request", 0),
    ord("U"): ("undocumented-U", 15),
    ord("k"): ("undocumented-k", 3),
}


class RasterDecodeError(ValueError):
    """The stream is not something a printer would accept; ``offset`` is where it went wrong."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"{message} (at byte {offset})")
        self.offset = offset


@dataclass(frozen=True, slots=True)
class PrintInfo:
    """The ``ESC i z`` print-information command."""

    flags: int
    media_type: int
    width_mm: int
    length_mm: int
    raster_lines: int
    page: int


@dataclass(slots=True)
class DecodedPage:
    """One printed label: the settings in force and its raster lines (full head width each)."""

    info: PrintInfo | None
    various_mode: int
    advanced_mode: int
    cut_every: int | None
    margin_dots: int
    compression: int | None
    """0 or 2 as set by ``M``; None if the job never said (the printer then takes lines uncompressed)."""
    lines: list[bytes]
    bytes_per_line: int
    uncompressed_lines: int = 0
    ended_by: str = "print"
    """"print" (0C, more pages follow) or "print-feed" (1A, end of job)."""

    @property
    def high_res(self) -> bool:
        return bool(self.advanced_mode & 0x40)

    @property
    def auto_cut(self) -> bool:
        return bool(self.various_mode & 0x40)

    @property
    def half_cut(self) -> bool:
        return bool(self.advanced_mode & 0x04)

    @property
    def chain(self) -> bool:
        return not self.advanced_mode & 0x08


@dataclass(slots=True)
class DecodedJob:
    """Everything in the stream: commands in order as (name, args) and the pages they printed."""

    commands: list[tuple[str, bytes]] = field(default_factory=list)
    pages: list[DecodedPage] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def command_names(self, *, collapse_raster: bool = True) -> list[str]:
        """Command names in order; with ``collapse_raster`` a run of raster lines counts once."""
        names: list[str] = []
        for name, _ in self.commands:
            if collapse_raster and name in ("raster", "zero-raster"):
                name = "raster"
                if names and names[-1] == "raster":
                    continue
            names.append(name)
        return names


class _State:
    def __init__(self, bytes_per_line: int | None) -> None:
        self.bpl = bytes_per_line
        self.info: PrintInfo | None = None
        self.various = 0
        self.advanced = 0
        self.cut_every: int | None = None
        self.margin = 0
        self.compression: int | None = None
        self.lines: list[bytes | None] = []
        self.uncompressed = 0

    def page(self, ended_by: str, offset: int) -> DecodedPage:
        if self.bpl is None:
            if any(line is not None for line in self.lines):
                raise RasterDecodeError("cannot tell the head width", offset)
            self.bpl = 0
        zero = bytes(self.bpl)
        lines = [zero if line is None else line for line in self.lines]
        page = DecodedPage(
            self.info, self.various, self.advanced, self.cut_every, self.margin, self.compression, lines,
            self.bpl, self.uncompressed, ended_by,
        )  # fmt: skip
        self.lines = []
        self.uncompressed = 0
        return page


def decode_job(data: bytes, model: Model | None = None) -> DecodedJob:
    """Decode a whole job. Without ``model`` the head width is taken from the first raster line."""
    job = DecodedJob()
    state = _State(model.bytes_per_line if model else None)
    n = len(data)
    i = 0

    def need(count: int, what: str, at: int) -> None:
        if i + count > n:
            raise RasterDecodeError(f"{what} truncated: needs {count} more bytes, {n - i} left", at)

    def add_line(raw: bytes, at: int, compressed: bool) -> None:
        limit = state.bpl
        if compressed:
            try:
                line = decompress(raw, limit)
            except PackBitsError as exc:
                raise RasterDecodeError(f"bad PackBits data: {exc}", at) from None
        else:
            line = raw
            state.uncompressed += 1
        if state.bpl is None:
            if len(line) not in (16, 70, 90):
                raise RasterDecodeError(f"raster line of {len(line)} bytes fits no known head", at)
            state.bpl = len(line)
        if len(line) > state.bpl:
            raise RasterDecodeError(f"raster line of {len(line)} bytes is longer than the head ({state.bpl})", at)
        if len(line) < state.bpl:
            raise RasterDecodeError(f"raster line of {len(line)} bytes is shorter than the head ({state.bpl})", at)
        state.lines.append(line)

    while i < n:
        start = i
        op = data[i]
        if op == 0x00:
            while i < n and data[i] == 0x00:
                i += 1
            job.commands.append(("invalidate", struct.pack("<I", i - start)))
            continue
        if op == 0x1B:
            need(2, "ESC command", start)
            sub = data[i + 1]
            if sub == ord("@"):
                job.commands.append(("initialize", b""))
                i += 2
                continue
            if sub != ord("i"):
                raise RasterDecodeError(f"unknown command ESC {sub:02x}", start)
            need(3, "ESC i command", start)
            letter = data[i + 2]
            if letter not in _ESC_I:
                raise RasterDecodeError(f"unknown command ESC i {letter:02x}", start)
            name, argc = _ESC_I[letter]
            i += 3
            need(argc, name, start)
            args = data[i : i + argc]
            i += argc
            job.commands.append((name, args))
            if name == "print-info":
                f, kind, w, length, lines, page, _ = struct.unpack("<BBBBIBB", args)
                state.info = PrintInfo(f, kind, w, length, lines, page)
            elif name == "various-mode":
                state.various = args[0]
            elif name == "advanced-mode":
                state.advanced = args[0]
            elif name == "cut-every":
                state.cut_every = args[0]
            elif name == "margin":
                state.margin = args[0] | args[1] << 8
            continue
        if op == ord("M"):
            need(2, "compression command", start)
            mode = data[i + 1]
            if mode not in (0, 2):
                raise RasterDecodeError(f"unknown compression mode {mode}", start)
            state.compression = mode
            job.commands.append(("compression", data[i + 1 : i + 2]))
            i += 2
            continue
        if op in (ord("G"), ord("g")):
            need(3, "raster line header", start)
            if op == ord("G"):
                length = data[i + 1] | data[i + 2] << 8
            else:
                if data[i + 1] != 0:
                    raise RasterDecodeError("g raster line: second byte must be 00", start)
                length = data[i + 2]
            i += 3
            need(length, "raster line", start)
            job.commands.append(("raster", data[i - 2 : i]))
            add_line(data[i : i + length], start, state.compression == 2)
            i += length
            continue
        if op == ord("Z"):
            if state.compression != 2:
                raise RasterDecodeError("Z (zero line) outside compression mode 2", start)
            job.commands.append(("zero-raster", b""))
            state.lines.append(None if state.bpl is None else bytes(state.bpl))
            i += 1
            continue
        if op in (0x0C, 0x1A):
            ended = "print" if op == 0x0C else "print-feed"
            job.commands.append((ended, b""))
            page = state.page(ended, start)
            _check_page(job, page, model)
            job.pages.append(page)
            i += 1
            if op == 0x1A and i < n:
                raise RasterDecodeError(f"{n - i} bytes after the end of the job (1A)", i)
            continue
        raise RasterDecodeError(f"unknown command {op:02x}", start)

    if state.lines:
        raise RasterDecodeError("raster lines without a print command (0C/1A) at the end", n)
    if not job.pages or job.pages[-1].ended_by != "print-feed":
        job.warnings.append("job does not end with 1A (print and feed)")
    return job


def _check_page(job: DecodedJob, page: DecodedPage, model: Model | None) -> None:
    number = len(job.pages) + 1
    if page.info is not None and page.info.raster_lines != len(page.lines):
        job.warnings.append(
            f"page {number}: print info announces {page.info.raster_lines} lines, {len(page.lines)} were sent"
        )
    if page.uncompressed_lines and model is not None and model.needs_compression:
        job.warnings.append(
            f"page {number}: {page.uncompressed_lines} uncompressed lines; {model.name} prints them blank"
        )


def to_head_image(page: DecodedPage) -> Image:
    """The raster as the captures render it: pin 0 is the left column, raster line 0 the bottom row."""
    from PIL import Image as PILImage

    raw = b"".join(page.lines).translate(_INVERT)
    image = PILImage.frombytes("1", (page.bytes_per_line * 8, len(page.lines)), raw)
    return image.transpose(PILImage.Transpose.FLIP_TOP_BOTTOM)


def to_label_image(page: DecodedPage, media: Media) -> Image:
    """The printable area as a person reads the label (the inverse of the encoder's placement)."""
    from PIL import Image as PILImage

    raw = b"".join(page.lines).translate(_INVERT)
    head = PILImage.frombytes("1", (page.bytes_per_line * 8, len(page.lines)), raw)
    area = head.crop((media.left_margin_pins, 0, media.left_margin_pins + media.printable_pins, len(page.lines)))
    return area.transpose(PILImage.Transpose.TRANSPOSE)
