"""A document's pages drawn, fitted and encoded for a printer, one at a time (on the drawing thread)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import IO

from ..printer.media import Media, MediaError
from ..printer.models import Model
from ..printer.raster import RasterError, encode_job
from . import documents
from .documents import DocumentError
from .fit import FitOptions, fit_page


def render_pages(stream: IO[bytes], fmt: str, compression: str, limit: int, model: Model, media: Media,
                 fit: FitOptions, copies: int, *, notifications: bool = False) -> Iterator[tuple[bytes, bytes, float]]:
    """(raster for `copies` labels, the label's 1-bit PNG, its length in mm) per page. `notifications`: the
    raster asks the printer for its status blocks (a USB printer, whose labels the queue confirms by them)."""
    source = documents.decompressed(stream, compression, limit)
    try:
        if fmt == "application/octet-stream":
            head = source.read(8)
            source.seek(0)
            found = documents.sniff(head)
            if found is None:
                raise DocumentError("the document's format cannot be told from its first bytes: send "
                                    "document-format (application/pdf, image/png, image/jpeg, image/pwg-raster "
                                    "or image/urf)")
            fmt = found
        for page in documents.pages(source, fmt):
            image = fit_page(page, media, fit)
            try:
                raster = encode_job(model, media, [image], copies=copies, notifications=notifications)
            except (RasterError, MediaError) as exc:
                raise DocumentError(f"the page cannot be encoded for {model.name}: {exc}") from None
            out = io.BytesIO()
            image.save(out, format="PNG")
            yield raster, out.getvalue(), image.width * 25.4 / media.dpi
    finally:
        if source is not stream:
            source.close()
