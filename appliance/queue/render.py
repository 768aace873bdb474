"""Render a template for a printer's tape and encode it: what print.submit and label.preview share."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from PIL import Image

from ..labels.errors import LabelError
from ..labels.preview import preview_png
from ..labels.registry import TemplateRegistry
from ..labels.render import render
from ..labels.result import RenderResult
from ..printer.media import Media, MediaError
from ..printer.raster import encode_job
from .runtime import PrinterRuntime, canvas_for


@dataclass(frozen=True)
class Rendered:
    result: RenderResult
    media: Media

    @property
    def page_png(self) -> bytes:
        """The 1-bit label image at the printer's resolution: stored with the job, re-encoded on reprint."""
        out = io.BytesIO()
        self.result.image.save(out, format="PNG", optimize=False)
        return out.getvalue()

    def raster(self, runtime: PrinterRuntime, copies: int) -> bytes:
        return encode_job(runtime.model, self.media, [self.result.image], copies=copies)

    def preview(self, scale: int = 1) -> bytes:
        return preview_png(self.result, scale=scale)


def choose_media(runtime: PrinterRuntime, tape: str | None) -> Media:
    """The requested tape, else what the printer reports loaded, else its configured media."""
    if tape:
        try:
            return runtime.media_named(tape)
        except MediaError as exc:
            raise LabelError("tape", str(exc)) from None
    media = runtime.current_media()
    if media is None:
        what = "label roll" if runtime.model.family == "ql720" else "tape cassette"
        if runtime.monitor.configured_media is not None:  # configured, but the printer says it has none
            raise LabelError("printer_id", f"{runtime.name} reports no {what} loaded; load one", "state")
        raise LabelError("printer_id", f"no {what} is loaded in {runtime.name} and none is configured; "
                         f"load one (or set media in its [[printers]] table)", "state")
    return media


def render_for(registry: TemplateRegistry, runtime: PrinterRuntime, template: str, fields: dict[str, Any],
               *, tape: str | None = None) -> Rendered:
    media = choose_media(runtime, tape)
    tpl = registry.get(template)
    result = render(tpl, fields, canvas_for(media), font_dirs=registry.font_dirs)
    return Rendered(result, media)


def encode_stored_page(runtime: PrinterRuntime, media: Media, page_png: bytes, copies: int) -> bytes:
    """Re-encode a stored label image for another number of copies (same pixels, same tape)."""
    with Image.open(io.BytesIO(page_png)) as image:
        page = image.convert("1")
    return encode_job(runtime.model, media, [page], copies=copies)
