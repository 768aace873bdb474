"""Brother raster encoder: label images in, the printer's byte stream out.

Orientation (worked out from Brother's own driver captures, proven in tests/printer/test_printer_captures.py):
the input image is the label *as a person reads it* — width = label length in feed dots, height =
the media's printable pins. Image column x becomes raster line x (line 0 is printed first, so the
left edge of the text leaves the printer first), and image row y goes to pin
``media.left_margin_pins + y``: the **top edge of the label is at pin 0's side**. In the captures'
renders (pin 0 left, line 0 bottom) this is the label turned 90° counter-clockwise, which is how
Brother's driver lays out "PT-P700", "PT-P900W" and "QL-820NWB".

In high-resolution mode the feed resolution doubles (360 dpi on 128-pin, 720 on 560-pin, 600 on
QL): the image is simply twice as wide for the same label length; margins are given in
standard dots and doubled here.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Literal

from appliance.printer import tiff_lines
from appliance.printer.media import Media
from appliance.printer.models import Model
from appliance.printer.packbits import compress as packbits

try:  # C, built at install when a compiler is at hand (pyproject.toml); without it libtiff or Python encode
    from appliance.printer._raster_lines import raster_body as _native_lines
except ImportError:
    _native_lines = None

if TYPE_CHECKING:
    from PIL.Image import Image

__all__ = ["Cut", "RasterError", "encode_job", "head_lines", "validate_job"]

Cut = Literal["full", "half", "chain", "none"]
CUTS: tuple[Cut, ...] = ("full", "half", "chain", "none")

_INVERT = bytes(255 - b for b in range(256))  # Pillow "1": bit set = white; the printer: bit set = ink

ESC_INIT = b"\x1b@"
ESC_RASTER_MODE = b"\x1bia\x01"
ESC_NOTIFY_OFF = b"\x1bi!\x01"
ESC_NOTIFY_ON = b"\x1bi!\x00"
PRINT = b"\x0c"
PRINT_FEED = b"\x1a"

FLAG_KIND, FLAG_WIDTH, FLAG_LENGTH, FLAG_RECOVER = 0x02, 0x04, 0x08, 0x80
MODE_AUTO_CUT = 0x40
ADV_HALF_CUT, ADV_NO_CHAIN, ADV_HIGH_RES = 0x04, 0x08, 0x40


class RasterError(ValueError):
    """The job cannot be encoded as asked; raised before any byte is produced."""


def _mm(dots: int, dpi: int) -> str:
    """Dots at `dpi` in millimetres, as a person measures a label: "29.9 mm"."""
    return f"{dots * 25.4 / dpi:.1f} mm"


def _check_page(index: int, model: Model, media: Media, page: Image, high_res: bool) -> None:
    """Sizes are said in mm, with the dots in parentheses for whoever made the image."""
    where = f"label {index + 1}"
    if page.mode != "1":
        raise RasterError(f"{where}: image mode is {page.mode!r}; the encoder takes 1-bit images (mode '1')")
    width, height = page.size
    if height != media.printable_pins:
        raise RasterError(
            f"{where}: the image is {_mm(height, media.dpi)} ({height} dots) across; {media.id} on {model.name} "
            f"prints exactly {_mm(media.printable_pins, media.dpi)} ({media.printable_pins} dots) across "
            "(image width = label length, height = printable width)"
        )
    low, high = media.length_limits_dots(high_res)
    dpi = media.feed_dpi(high_res)
    if media.is_die_cut and width != low:
        raise RasterError(
            f"{where}: the image is {_mm(width, dpi)} ({width} dots) long; die-cut {media.id} labels print "
            f"exactly {_mm(low, dpi)} ({low} dots at {dpi} dpi)"
        )
    if width < low:
        raise RasterError(
            f"{where}: the label is {_mm(width, dpi)} ({width} dots) long; the shortest on {media.id} is "
            f"{media.min_length_mm:g} mm ({low} dots at {dpi} dpi)"
        )
    if width > high:
        raise RasterError(
            f"{where}: the label is {_mm(width, dpi)} ({width} dots) long; the longest on {media.id} is "
            f"{media.max_length_mm:g} mm ({high} dots at {dpi} dpi)"
        )


def validate_job(
    model: Model,
    media: Media,
    pages: Sequence[Image],
    *,
    copies: int = 1,
    cut: Cut = "full",
    high_res: bool = False,
    compress: bool | None = None,
    margin_dots: int | None = None,
    cut_every: int = 1,
) -> tuple[bool, int]:
    """Check every argument of :func:`encode_job`; return (compress, margin in job dots)."""
    if media.family != model.family:
        raise RasterError(f"media {media.id} is for {media.family} heads, not {model.name} ({model.family})")
    if not pages:
        raise RasterError("a job needs at least one label")
    if not 1 <= copies <= 999:
        raise RasterError(f"copies must be 1..999, not {copies}")
    if cut not in CUTS:
        raise RasterError(f"cut must be one of {', '.join(CUTS)}, not {cut!r}")
    if cut == "half" and not model.supports_half_cut:
        raise RasterError(f"{model.name} has no half-cutter")
    if cut == "chain" and not model.supports_chain:
        raise RasterError(f"{model.name} does not do chain printing")
    if not 1 <= cut_every <= 99:
        raise RasterError(f"cut_every must be 1..99, not {cut_every}")
    if cut_every != 1 and not model.supports_cut_every:
        raise RasterError(f"{model.name} cannot cut every N labels (it cuts after each one)")
    if high_res and not model.high_res:
        raise RasterError(f"{model.name} has no high-resolution mode")
    if compress is None:
        compress = model.supports_compression
    if compress and not model.supports_compression:
        raise RasterError(f"{model.name} does not take compressed raster")
    if not compress and model.needs_compression:
        raise RasterError(f"{model.name} prints blank labels without compression; leave compress on")
    if media.is_die_cut:
        if margin_dots not in (None, 0):
            raise RasterError(f"die-cut {media.id} labels take no feed margin")
        margin = 0
    else:
        margin = model.default_margin_dots if margin_dots is None else margin_dots
        if not model.min_margin_dots <= margin <= model.max_margin_dots:
            raise RasterError(
                f"the feed margin must be {_mm(model.min_margin_dots, model.dpi)} to "
                f"{_mm(model.max_margin_dots, model.dpi)} ({model.min_margin_dots}..{model.max_margin_dots} dots at "
                f"{model.dpi} dpi) on {model.name}, not {_mm(margin, model.dpi)} ({margin} dots)"
            )
    for index, page in enumerate(pages):
        _check_page(index, model, media, page, high_res)
    return compress, margin * (2 if high_res else 1)


def head_lines(model: Model, media: Media, page: Image) -> bytes:
    """The page's raster lines, full head width each, concatenated (bit set = ink, MSB = pin 0)."""
    from PIL import Image as PILImage

    head = PILImage.new("1", (model.head_pins, page.width), 1)
    head.paste(page.transpose(PILImage.Transpose.TRANSPOSE), (media.left_margin_pins, 0))
    return head.tobytes().translate(_INVERT)


@cache
def _line_headers(model: Model) -> tuple[bytes, ...]:
    """The raster-line command for each data length: QL ``g 00 n``, PT ``G n(16-bit LE)``."""
    if model.family == "ql720":
        return tuple(b"g\x00" + bytes((n,)) for n in range(256))
    return tuple(b"G" + struct.pack("<H", n) for n in range(256))


def _raster_body(model: Model, raw: bytes, compress: bool) -> bytes:
    """Encode the concatenated head lines as G/g (and Z) commands, PackBits in Python."""
    bpl = model.bytes_per_line
    headers = _line_headers(model)
    zero = bytes(bpl)
    cache: dict[bytes, bytes] = {zero: b"Z"} if compress else {}
    out = bytearray()
    for start in range(0, len(raw), bpl):
        line = raw[start : start + bpl]
        encoded = cache.get(line)
        if encoded is None:
            data = packbits(line) if compress else line
            encoded = cache[line] = headers[len(data)] + data
        out += encoded
    return bytes(out)


def _packed_body(model: Model, media: Media, page: Image) -> bytes | None:
    """The compressed G/g and Z commands of a page with libtiff's PackBits; None without libtiff.

    Same raster as ``_raster_body(model, head_lines(...), True)`` (tested), at a fraction of the
    time for long QL labels: see appliance/printer/tiff_lines.py.
    """
    if not tiff_lines.available():  # before building the head: the fallback builds its own
        return None
    from PIL import Image as PILImage

    # head in the page's own terms (0 = ink): paper round the printable band, the page pasted in as is
    head = PILImage.new("1", (model.head_pins, page.width), 255)
    head.paste(page.transpose(PILImage.Transpose.TRANSPOSE), (media.left_margin_pins, 0))
    lines = tiff_lines.packed_lines(head)
    if lines is None:
        return None
    headers = _line_headers(model)
    blank = packbits(bytes(model.bytes_per_line))  # one run of zeros, as libtiff packs it too
    return b"".join([b"Z" if line == blank else headers[len(line)] + line for line in lines])


def _native_body(model: Model, media: Media, page: Image, compress: bool) -> bytes | None:
    """The page's raster commands from the C encoder (appliance/printer/_raster_lines.c) in one pass,
    byte for byte what ``_raster_body`` makes (tested); None when it was not built."""
    if _native_lines is None:
        return None
    try:
        pixels = page.tobytes("raw", "L")  # mode "1" normalised to 0/255: a byte per pixel, 0 = ink
    except ValueError:  # a Pillow that cannot pack "1" as bytes
        pixels = page.convert("L").tobytes()
    return _native_lines(
        pixels, page.width, page.height, model.head_pins, media.left_margin_pins, compress, model.family == "ql720"
    )


def _page_body(model: Model, media: Media, page: Image, compress: bool) -> bytes:
    body = _native_body(model, media, page, compress)
    if body is not None:
        return body
    body = _packed_body(model, media, page) if compress else None
    return body if body is not None else _raster_body(model, head_lines(model, media, page), compress)


def _page_index(model: Model, position: int, total: int) -> int:
    if model.marks_last_page and position == total - 1:
        return 2
    return 0 if position == 0 else 1


def encode_job(
    model: Model,
    media: Media,
    pages: Sequence[Image],
    *,
    copies: int = 1,
    cut: Cut = "full",
    high_res: bool = False,
    compress: bool | None = None,
    margin_dots: int | None = None,
    cut_every: int = 1,
    notifications: bool = False,
) -> bytes:
    """Encode ``copies`` × ``pages`` labels as one print job.

    ``cut``: "full" cuts after every ``cut_every`` labels; "half" half-cuts between labels and
    fully cuts the end; "chain" leaves the last label uncut (saves tape before the next job);
    "none" never cuts. ``compress`` None means PackBits wherever the model takes it.
    ``margin_dots`` is the feed margin in standard-resolution dots (model default if None).
    ``notifications``: the printer is to send its status blocks unasked (over USB, where they confirm
    each label): QL models then get ``ESC i ! 00`` instead of the drivers' ``ESC i ! 01`` (off).
    """
    compress, margin = validate_job(
        model, media, pages, copies=copies, cut=cut, high_res=high_res, compress=compress,
        margin_dots=margin_dots, cut_every=cut_every,
    )  # fmt: skip

    flags = FLAG_RECOVER | FLAG_WIDTH
    if model.family == "ql720":
        flags |= FLAG_KIND
    if media.is_die_cut:
        flags |= FLAG_LENGTH
    # PT: the kind flag stays off (cassettes misreport their kind, and the printer would refuse the
    # job); like Brother's driver we then send 00 as the kind.
    kind = media.media_type_code if flags & FLAG_KIND else 0
    advanced = (ADV_HIGH_RES if high_res else 0) | (ADV_HALF_CUT if cut == "half" else 0)
    if cut != "chain":
        advanced |= ADV_NO_CHAIN
    settings = b"\x1biM" + bytes((MODE_AUTO_CUT if cut != "none" else 0,))
    if model.supports_cut_every and cut != "none":
        settings += b"\x1biA" + bytes((cut_every,))
    settings += b"\x1biK" + bytes((advanced,)) + b"\x1bid" + struct.pack("<H", margin)
    if model.supports_compression:
        settings += b"M\x02" if compress else b"M\x00"

    bodies = [_page_body(model, media, page, compress) for page in pages]
    out = bytearray(b"\x00" * model.invalidate_bytes + ESC_INIT + ESC_RASTER_MODE)
    if model.sends_notification_mode:
        out += ESC_NOTIFY_ON if notifications else ESC_NOTIFY_OFF
    total = copies * len(pages)
    for position in range(total):
        page = pages[position % len(pages)]
        info = struct.pack(
            "<BBBBIBB", flags, kind, media.width_code, media.length_mm or 0,
            page.width, _page_index(model, position, total), 0,
        )  # fmt: skip
        out += b"\x1biz" + info + settings + bodies[position % len(pages)]
        out += PRINT_FEED if position == total - 1 else PRINT
    return bytes(out)
