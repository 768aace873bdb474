"""QR codes and linear barcodes, drawn at whole dots per module (no resampling blur)."""

from __future__ import annotations

from functools import lru_cache
from math import ceil

import segno
from PIL import Image, ImageDraw

from appliance.labels import symbologies
from appliance.labels.context import RenderContext, composite
from appliance.labels.errors import LabelError
from appliance.labels.fonts import find_font, font, line_metrics
from appliance.labels.geometry import MM_PER_INCH
from appliance.labels.item import Item
from appliance.labels.model import BarcodeElement, QrElement

MIN_BAR_HEIGHT_MM = 2.5


@lru_cache(maxsize=256)
def qr_matrix(data: str, ec: str) -> Image.Image:
    """The QR symbol as an "L" image, one pixel per module, no quiet zone."""
    qr = segno.make_qr(data, error=ec.lower(), boost_error=False)
    size = len(qr.matrix)
    pixels = bytes(0 if v else 255 for row in qr.matrix for v in row)
    return Image.frombytes("L", (size, size), pixels)


def modules_image(modules: str) -> Image.Image:
    return Image.frombytes("L", (len(modules), 1), bytes(0 if m == "1" else 255 for m in modules))


SMALLEST_QR = 21  # modules across a version 1 QR code (segno picks the smallest version that holds the data)


def feed_module(ctx: RenderContext, head_module: int) -> int:
    """Dots along the tape for a module that is `head_module` dots across."""
    return max(1, round(head_module * ctx.canvas.aspect))


class QrItem(Item):
    el: QrElement
    shrinks_to_share = True

    def __init__(self, el: QrElement, ctx: RenderContext, y: int, h: int) -> None:
        super().__init__(el, ctx, y, h)
        self.field = el.data.blame(ctx.values) or f"definition.{el.path}.data"
        data = el.data.format(ctx.values)
        if not data:
            raise LabelError(self.field, "QR data is empty")
        try:
            self.matrix = qr_matrix(data, el.ec)
        except segno.DataOverflowError:
            raise LabelError(self.field, f"too long for a QR code at error level {el.ec}") from None
        self.data = data
        self.span = self.matrix.width + 2 * el.quiet_zone
        self.module = self._module(h)

    def _module(self, room: int) -> int:
        module = room // self.span
        if self.el.max_module_mm is not None:
            module = min(module, max(1, round(self.el.max_module_mm * self.ctx.canvas.dpi_head / MM_PER_INCH)))
        return module

    def _fail(self, room: int) -> None:
        """`room`: the head dots left for the code, across the tape or (on a label of fixed length) along it."""
        need = self.span * self.el.min_module_dots
        along = room < self.h  # the label's length limits it, not the tape's height
        canvas = self.ctx.canvas
        where = "the label's length here" if along else canvas.media_width
        mm = self.ctx.canvas.head_mm
        size = f"{mm(need):.1f} mm ({self.span} modules of {mm(self.el.min_module_dots):.2f} mm)"
        if self.matrix.width <= SMALLEST_QR:  # no shorter data would help
            fix = "use longer labels" if along else f"use {canvas.wider_media}"
            self.omit_or_fail("tape", f"even the smallest QR code needs {size} and {where} leaves "
                              f"{mm(room):.1f} mm: {fix}", "state")
            return
        fix = "shorten it, or use longer labels" if along else f"shorten it, or use {canvas.wider_media}"
        self.omit_or_fail(self.field, f"QR data too long for {where}: its code needs {size}, "
                          f"only {mm(room):.1f} mm is free: {fix}")

    def natural(self) -> int:
        if self.module < self.el.min_module_dots:
            return 0
        return self.span * feed_module(self.ctx, self.module)

    def fits(self, limit: int) -> bool:
        return min(self.module, self._module(int(limit / self.ctx.canvas.aspect))) >= self.el.min_module_dots

    def fit_natural(self, limit: int) -> int:
        self.module = min(self.module, self._module(int(limit / self.ctx.canvas.aspect)))
        if self.module < self.el.min_module_dots:
            self._fail(min(self.h, int(limit / self.ctx.canvas.aspect)))
            return 0
        return self.natural()

    def draw(self, img: Image.Image, x: int, w: int) -> None:
        if self.omitted:
            return
        module = min(self.module, self._module(int(w / self.ctx.canvas.aspect)))
        if module < self.el.min_module_dots:
            self._fail(min(self.h, int(w / self.ctx.canvas.aspect)))
            return
        fm = feed_module(self.ctx, module)
        q = self.el.quiet_zone
        sym = self.matrix.resize((self.matrix.width * fm, self.matrix.height * module), Image.Resampling.NEAREST)
        left = self.x_in(x, w, self.span * fm) + q * fm
        top = self.y_in(self.span * module) + q * module
        composite(img, sym, left, top)


def encode(el: BarcodeElement, data: str) -> tuple[str, str]:
    """(modules, human-readable text); ValueError with a reason."""
    return symbologies.encode(el.symbology, data, check=el.check_digit)


class BarcodeItem(Item):
    el: BarcodeElement

    def __init__(self, el: BarcodeElement, ctx: RenderContext, y: int, h: int) -> None:
        super().__init__(el, ctx, y, h)
        self.field = el.data.blame(ctx.values) or f"definition.{el.path}.data"
        data = el.data.format(ctx.values)
        if not data:
            raise LabelError(self.field, "barcode data is empty")
        try:
            self.modules, self.text = encode(el, data)
        except ValueError as exc:
            raise LabelError(self.field, str(exc)) from None
        self.data = data
        self.span = len(self.modules) + 2 * el.quiet_zone
        canvas = ctx.canvas
        self.module = max(el.min_module_dots, round(el.module_mm * canvas.dpi_feed / MM_PER_INCH))
        self.text_px = 0
        if el.human_readable:
            px = min(round(h * 0.22), ctx.size_px(10, "pt"))
            if px >= ctx.size_px(5, "pt"):
                self.text_px = px
                self.path = find_font(el.font, ctx.font_dirs, base_dir=ctx.base_dir, field=f"definition.{el.path}.font")
            else:
                ctx.warn("barcode-text-omitted", "no room for the human-readable line", el.path)
        self.bar_h = h - self._text_h()
        self.too_short = self.bar_h < round(MIN_BAR_HEIGHT_MM * canvas.dpi_head / MM_PER_INCH)
        if self.too_short:
            self.omit_or_fail(
                "tape",
                f"a barcode needs at least {MIN_BAR_HEIGHT_MM} mm of bar height; "
                f"the {canvas.tape_width_mm:g} mm tape leaves {canvas.head_mm(self.bar_h):.1f} mm",
                "state",
            )

    def _text_h(self) -> int:
        if not self.text_px:
            return 0
        ascent, descent = line_metrics(self.path, self.text_px)
        return ascent + descent

    def natural(self) -> int:
        return 0 if self.omitted else self.span * self.module

    def fit_natural(self, limit: int) -> int:
        if self.omitted:
            return 0
        if self.span * self.el.min_module_dots > limit:
            self._too_long(limit)
            return 0
        self.module = min(self.module, limit // self.span)
        return self.span * self.module

    def _too_long(self, room: int) -> None:
        need = self.span * self.el.min_module_dots
        self.omit_or_fail(
            self.field,
            f"barcode for {self.data!r} needs {self.ctx.canvas.feed_mm(need):.1f} mm of length, "
            f"only {self.ctx.canvas.feed_mm(max(room, 0)):.1f} mm available: "
            + ("shorten it, or load longer labels or continuous tape" if self.ctx.canvas.fixed_length_px is not None
               else "shorten it, or allow a longer label"),
        )

    def draw(self, img: Image.Image, x: int, w: int) -> None:
        if self.omitted:
            return
        module = min(self.module, w // self.span)
        if module < self.el.min_module_dots:
            self._too_long(w)
            return
        bars = modules_image(self.modules).resize((len(self.modules) * module, self.bar_h), Image.Resampling.NEAREST)
        total = self.span * module
        left = self.x_in(x, w, total)
        top = self.y_in(self.h)
        composite(img, bars, left + self.el.quiet_zone * module, top)
        if self.text_px:
            f = font(self.path, self.text_px)
            tw = ceil(f.getlength(self.text) * self.ctx.canvas.aspect)
            tile = Image.new("L", (ceil(tw / self.ctx.canvas.aspect), self._text_h()), 255)
            ImageDraw.Draw(tile).text((0, 0), self.text, font=f, fill=0, anchor="la")
            tile = self.ctx.stretch(tile, tw)
            composite(img, tile, left + (total - tw) // 2, top + self.bar_h)
