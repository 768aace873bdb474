"""Render a template for a printer's tape and encode it: what print.submit and label.preview share."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

from PIL import Image

from ..labels.errors import LabelError
from ..labels.preview import preview_png
from ..labels.registry import TemplateRegistry
from ..labels.render import render
from ..labels.result import RenderResult
from ..printer.media import Media, MediaError
from ..printer.models import Model
from ..printer.raster import CUTS, Cut, encode_job
from ..printer.status import MEDIA_HOLDER, worded
from .runtime import PrinterRuntime, canvas_for


@dataclass(frozen=True)
class PrintOptions:
    """How a job is cut and at which resolution (the printer's defaults: a full cut after each label)."""

    cut: Cut = "full"
    cut_every: int = 1
    high_res: bool = False

    def changed(self) -> dict[str, Any] | None:
        """The options that differ from the defaults (what a job stores), or None."""
        default = PrintOptions()
        found = {k: v for k, v in vars(self).items() if v != getattr(default, k)}
        return found or None

    @classmethod
    def stored(cls, text: str | None) -> PrintOptions:
        """The options a job was stored with; what this version does not know (a row written by a
        newer one, or edited by hand) is left at its default rather than failing a reprint."""
        found = json.loads(text) if text else {}
        found = found if isinstance(found, dict) else {}
        cut = found.get("cut")
        every = found.get("cut_every")
        return cls(cut=cut if cut in CUTS else "full",
                   cut_every=every if isinstance(every, int) and 1 <= every <= 99 else 1,
                   high_res=found.get("high_res") is True)

    def check(self, runtime: PrinterRuntime) -> None:
        """Refuse what this printer cannot do, naming the option (before anything is rendered): a bad
        parameter for this printer (-32602, with what it can do), not a state that will pass."""
        model = runtime.model
        if self.cut not in cuts_of(model):
            lacks = "has no half-cutter" if self.cut == "half" else "does not do chain printing"
            raise LabelError("cut", f"{model.name} {lacks}; its cuts are {_words(cuts_of(model))}")
        if self.cut_every != 1 and not model.supports_cut_every:
            raise LabelError("cut_every", f"{model.name} cuts after every label; leave cut_every at 1")
        if self.cut_every != 1 and self.cut == "none":
            raise LabelError("cut_every", "means nothing with cut = none; leave cut_every at 1 or choose a cut")
        if self.high_res and not model.high_res:
            raise LabelError("high_res", f"{model.name} has no high-resolution mode; leave high_res off "
                             f"(it prints at {model.dpi} dpi)")


def cuts_of(model: Model) -> tuple[Cut, ...]:
    """The cuts this model can make, in the order print.submit lists them."""
    return tuple(c for c in CUTS if (c != "half" or model.supports_half_cut) and (c != "chain" or model.supports_chain))


def _words(items: tuple[str, ...]) -> str:
    return ", ".join(items[:-1]) + " or " + items[-1] if len(items) > 1 else items[0]


@dataclass(frozen=True)
class Rendered:
    result: RenderResult
    media: Media
    options: PrintOptions = PrintOptions()

    @property
    def page_png(self) -> bytes:
        """The 1-bit label image at the printer's resolution: stored with the job, re-encoded on reprint."""
        out = io.BytesIO()
        self.result.image.save(out, format="PNG", optimize=False)
        return out.getvalue()

    def raster(self, runtime: PrinterRuntime, copies: int) -> bytes:
        o = self.options
        return encode_job(runtime.model, self.media, [self.result.image], copies=copies, cut=o.cut,
                          cut_every=o.cut_every, high_res=o.high_res, notifications=runtime.confirms_labels)

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
        what = worded(MEDIA_HOLDER, runtime.family)
        if runtime.monitor.configured_media is not None:  # configured, but the printer says it has none
            raise LabelError("printer_id", f"{runtime.name} reports no {what} loaded; load one", "state")
        raise LabelError("printer_id", f"no {what} is loaded in {runtime.name} and none is configured; "
                         f"load one (or set media in its [[printers]] table)", "state")
    return media


def render_for(registry: TemplateRegistry, runtime: PrinterRuntime, template: str, fields: dict[str, Any],
               *, tape: str | None = None, options: PrintOptions = PrintOptions()) -> Rendered:
    options.check(runtime)
    media = choose_media(runtime, tape)
    tpl = registry.get(template)
    result = render(tpl, fields, canvas_for(media, high_res=options.high_res), font_dirs=registry.font_dirs)
    return Rendered(result, media, options)


def encode_stored_page(runtime: PrinterRuntime, media: Media, page_png: bytes, copies: int,
                       options: PrintOptions = PrintOptions()) -> bytes:
    """Re-encode a stored label image for another number of copies (same pixels, tape and options)."""
    with Image.open(io.BytesIO(page_png)) as image:
        page = image.convert("1")
    return encode_job(runtime.model, media, [page], copies=copies, cut=options.cut, cut_every=options.cut_every,
                      high_res=options.high_res, notifications=runtime.confirms_labels)
