"""Documents an IPP client sends, read one page at a time: PNG, JPEG, PDF, PWG raster and Apple raster.

Each format gives `Page`s: the size of the page in millimetres and a `draw(width_px, height_px)`
that returns it as an 8-bit grayscale image of that size (a PDF page is rendered by PDFium at
exactly that size, so a page never costs more than the label it becomes). Pages come one by
one: a 100-page PDF never holds more than one page's bitmap. What is not what its format says
raises `DocumentError`; pypdfium2 is imported only when a PDF comes.
"""

from __future__ import annotations

import gzip
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO

from PIL import Image

FORMATS = ("application/pdf", "image/png", "image/jpeg", "image/pwg-raster", "image/urf")
MAX_PAGE_MM = 2000.0  # a side longer than this is no label (and a PDF bomb's way to ask for a huge bitmap)
MAX_RASTER_PIXELS = 36_000_000  # one PWG/URF page as the client rasterised it (A4 at 600 dpi in gray fits)
MAX_IMAGE_PIXELS = 36_000_000


class DocumentError(Exception):
    """The document is not what its format says (or asks for more than a label can be)."""


@dataclass
class Page:
    width_mm: float
    height_mm: float
    draw: Callable[[int, int], Image.Image]  # → mode "L" image of exactly (width_px, height_px)
    photo_hint: bool = False  # a photograph (JPEG): dithered rather than thresholded when the client does not say


def sniff(head: bytes) -> str | None:
    """The format the first bytes say (for document-format application/octet-stream)."""
    if head.startswith(b"%PDF"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"RaS2"):
        return "image/pwg-raster"
    if head.startswith(b"UNIRAST\x00"):
        return "image/urf"
    return None


def decompressed(stream: IO[bytes], compression: str, limit: int) -> IO[bytes]:
    """The document as a seekable file of its own (readers seek to 0), gzip or deflate undone (at most
    `limit` bytes of it)."""
    if compression in ("", "none") and stream.tell() == 0:
        return stream
    spool = tempfile.SpooledTemporaryFile(max_size=1 << 20)  # noqa: SIM115 - handed to the caller
    try:
        if compression in ("", "none"):
            _copy_bounded(stream, spool, limit)
        elif compression == "gzip":
            source: IO[bytes] = gzip.GzipFile(fileobj=stream, mode="rb")
            _copy_bounded(source, spool, limit)
        elif compression == "deflate":
            _inflate(stream, spool, limit)
        else:
            raise DocumentError(f"compression {compression!r} is not supported (gzip, deflate or none)")
    except (OSError, EOFError, zlib.error) as exc:
        spool.close()
        raise DocumentError(f"the {compression} data is damaged ({exc})") from None
    except DocumentError:
        spool.close()
        raise
    spool.seek(0)
    return spool  # type: ignore[return-value]


def _copy_bounded(source: IO[bytes], target: IO[bytes], limit: int) -> None:
    total = 0
    while chunk := source.read(64 * 1024):
        total += len(chunk)
        if total > limit:
            raise DocumentError(f"the document is larger than {limit} bytes once decompressed")
        target.write(chunk)


def _inflate(stream: IO[bytes], target: IO[bytes], limit: int) -> None:
    inflater = zlib.decompressobj()  # zlib-wrapped deflate, as RFC 8011 names it
    total = 0
    while chunk := stream.read(64 * 1024):
        data = inflater.decompress(chunk, 64 * 1024)
        while True:
            total += len(data)
            if total > limit:
                raise DocumentError(f"the document is larger than {limit} bytes once decompressed")
            target.write(data)
            if not inflater.unconsumed_tail:
                break
            data = inflater.decompress(inflater.unconsumed_tail, 64 * 1024)
    target.write(inflater.flush())


def pages(stream: IO[bytes], fmt: str) -> Iterator[Page]:
    """The pages of a document of format `fmt` in `stream` (seekable)."""
    if fmt == "application/pdf":
        yield from _pdf_pages(stream)
    elif fmt in ("image/png", "image/jpeg"):
        yield _image_page(stream, fmt)
    elif fmt == "image/pwg-raster":
        from .raster_formats import pwg_pages

        yield from pwg_pages(stream)
    elif fmt == "image/urf":
        from .raster_formats import urf_pages

        yield from urf_pages(stream)
    else:
        raise DocumentError(f"format {fmt} is not supported")


def _image_page(stream: IO[bytes], fmt: str) -> Page:
    expected = "PNG" if fmt == "image/png" else "JPEG"
    try:
        image = Image.open(stream)
        if image.format != expected:
            raise DocumentError(f"the document says {fmt} but holds {image.format or 'something else'}")
        if image.width * image.height > MAX_IMAGE_PIXELS:
            raise DocumentError(f"the image is {image.width}×{image.height} pixels: more than a label needs "
                                f"(at most {MAX_IMAGE_PIXELS} pixels)")
        image.load()
    except DocumentError:
        raise
    except (OSError, ValueError, Image.DecompressionBombError, SyntaxError) as exc:
        raise DocumentError(f"the document is not a readable {expected} ({exc})") from None
    dpi = image.info.get("dpi")
    xdpi, ydpi = (float(dpi[0]), float(dpi[1])) if dpi and dpi[0] > 1 and dpi[1] > 1 else (300.0, 300.0)
    gray = _gray(image)

    def draw(width: int, height: int) -> Image.Image:
        return gray.resize((width, height), Image.Resampling.LANCZOS)

    from .fit import looks_like_photo

    photo = fmt == "image/jpeg" or looks_like_photo(gray)
    return Page(image.width * 25.4 / xdpi, image.height * 25.4 / ydpi, draw, photo_hint=photo)


def _gray(image: Image.Image) -> Image.Image:
    """Grayscale on white: transparency becomes white paper, not black."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("L")
    if image.mode == "1":
        return image.convert("L")
    return image.convert("L")


def _pdf_pages(stream: IO[bytes]) -> Iterator[Page]:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(stream)
    except pdfium.PdfiumError as exc:
        raise DocumentError(f"the document is not a readable PDF ({exc})") from None
    try:
        for index in range(len(document)):
            page = document[index]
            try:
                width_pt, height_pt = page.get_size()
                width_mm, height_mm = width_pt * 25.4 / 72, height_pt * 25.4 / 72
                if not (0 < width_mm <= MAX_PAGE_MM and 0 < height_mm <= MAX_PAGE_MM):
                    raise DocumentError(f"page {index + 1} is {width_mm:.0f}×{height_mm:.0f} mm: no label is "
                                        f"that size (at most {MAX_PAGE_MM:.0f} mm a side)")
                yield Page(width_mm, height_mm, _pdf_drawer(page, width_pt, height_pt))
            finally:
                page.close()
    finally:
        document.close()


def _pdf_drawer(page: object, width_pt: float, height_pt: float) -> Callable[[int, int], Image.Image]:
    def draw(width: int, height: int) -> Image.Image:
        scale = min(width / width_pt, height / height_pt)
        bitmap = page.render(scale=scale, grayscale=True, fill_color=(255, 255, 255, 255))  # type: ignore[attr-defined]
        image = bitmap.to_pil().convert("L")
        if image.size != (width, height):
            image = image.resize((width, height), Image.Resampling.LANCZOS)
        return image

    return draw


def read_exact(stream: IO[bytes], n: int, what: str) -> bytes:
    data = stream.read(n)
    if len(data) != n:
        raise DocumentError(f"the document ends inside {what}")
    return data
