"""Text elements: fixed size or fit-to-box, optional wrap, rotation by 180°."""

from __future__ import annotations

import re
from math import ceil, floor

from PIL import Image, ImageDraw, ImageFont

from appliance.labels.context import RenderContext, composite
from appliance.labels.errors import LabelError
from appliance.labels.fonts import cap_height, find_font, font
from appliance.labels.geometry import MM_PER_INCH
from appliance.labels.item import Item
from appliance.labels.model import TextElement
from appliance.labels.textfit import TextBlock, fit, layout_at

# Every line boundary of str.splitlines, not only "\n": a Windows script sends "\r\n", and raqm
# (Pillow's layout engine) refuses to lay out a line holding a paragraph separator at all.
LINE_BREAK = re.compile("\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")

# Text fitted to its box with capitals lower than this gets a `text-small` warning. Capitals under
# 1 mm (a 4 pt font) have an x-height under 0.75 mm, below the 0.9 mm that EU food labelling allows
# even on the smallest packs (Regulation 1169/2011, art. 13), and on a 180 dpi tape they are about
# 7 dots, the height of a 5×7 dot-matrix letter: fewer dots cannot draw every letter. A higher floor
# (1.5 mm) would flag labels people print every day and read: two lines on 6 mm tape (1.3 mm), the
# asset tag on 6 mm tape or on 23 mm square die-cut labels (1.0–1.1 mm).
MIN_READABLE_CAP_MM = 1.0

Notes = tuple[tuple[str, str], ...]  # (code, message) warnings a text element emits when drawn


class TextItem(Item):
    el: TextElement

    def __init__(self, el: TextElement, ctx: RenderContext, y: int, h: int) -> None:
        super().__init__(el, ctx, y, h)
        text = el.text.format(ctx.values)
        paras = LINE_BREAK.split(text)
        if el.skip_empty_lines:
            paras = [p for p in paras if p.strip()]
        self.paras = paras
        self.path = find_font(el.font, ctx.font_dirs, base_dir=ctx.base_dir, field=f"definition.{el.path}.font")
        self.min_px = ctx.size_px(el.min_size, el.min_size_unit)
        self.max_px = ctx.size_px(el.max_size, el.max_size_unit) if el.max_size else max(h, self.min_px)
        self.field = el.text.field_path or f"definition.{el.path}.text"
        self._natural: TextBlock | None = None
        self._natural_notes: Notes = ()

    @property
    def elastic(self) -> bool:
        return self.el.w.kind in ("auto", "fill")

    def natural(self) -> int:
        if not self.paras:
            return 0
        self._natural, self._natural_notes = self._choose(None)
        return ceil(self._natural.width * self.ctx.canvas.aspect)

    def _mm(self, dots: int, feed: bool) -> str:
        dpi = self.ctx.canvas.dpi_feed if feed else self.ctx.canvas.dpi_head
        return f"{dots * MM_PER_INCH / dpi:.1f}"

    def _pt(self, px: int) -> str:
        """A font size in head dots as points, for people: "7.2 pt"."""
        return f"{round(px * 72 / self.ctx.canvas.dpi_head, 1):g} pt"

    def _cap_mm(self, px: int) -> float:
        """How high this font's capitals are at `px`, in mm: what a reader sees of a text's size."""
        return self.ctx.canvas.head_mm(cap_height(self.path, px))

    def _choose(self, max_w: int | None) -> tuple[TextBlock, Notes]:
        """The block to draw, and the (code, message) warnings to emit if it is used."""
        el = self.el
        kw = {"max_w": max_w, "max_h": self.h, "max_lines": el.max_lines, "spacing": el.line_spacing}
        if el.size_unit == "fit":
            block = fit(self.paras, self.path, min_px=self.min_px, max_px=self.max_px, do_wrap=el.wrap, **kw)
            if block is None:
                raise LabelError(self.field, self._too_big(max_w))
            asked = el.max_size is not None and block.px >= self.max_px  # as small as the template wants it
            return block, () if asked else self._small(block, max_w)
        px = self.ctx.size_px(el.size or 0, el.size_unit)
        block, fits = layout_at(self.paras, self.path, px, do_wrap=el.wrap, **kw)
        if fits:
            return block, ()
        if el.shrink:
            smaller = fit(self.paras, self.path, min_px=self.min_px, max_px=px - 1, do_wrap=el.wrap, **kw)
            if smaller is None:
                raise LabelError(self.field, self._too_big(max_w))
            shrunk = ("text-shrunk", f"text shrunk from {self._pt(px)} to {self._pt(smaller.px)} to fit")
            return smaller, (shrunk, *self._small(smaller, max_w))
        return block, (("content-clipped", "text does not fit its box and was clipped"),)

    def _small(self, block: TextBlock, max_w: int | None) -> Notes:
        """A `text-small` warning when text fitted to its box came out too small to read."""
        cap = self._cap_mm(block.px)
        if cap >= MIN_READABLE_CAP_MM:
            return ()
        smallest = MIN_READABLE_CAP_MM / (cap_height(self.path, 100) / 100) * 72 / MM_PER_INCH  # in this font
        shown = floor(cap * 10) / 10  # 0.98 mm is not "1.0 mm, under 1 mm"
        return (("text-small", f"text shrank to {shown:.1f} mm high capitals ({self._pt(block.px)}) to fit, too small "
                 f"to read well (under {MIN_READABLE_CAP_MM:g} mm, about {smallest:.0f} pt): "
                 f"{self._fix(max_w, block)}"),)

    def _fix(self, max_w: int | None, block: TextBlock | None = None) -> str:
        """What makes room for bigger text: the box's height limits it (no length limit, or the block
        fills its height more than its length), or its length."""
        if max_w is None or (block is not None and not self.el.wrap
                             and block.height / self.h >= block.width / max(1, max_w)):
            return f"use fewer lines or {self.ctx.canvas.wider_media}"
        if self.ctx.canvas.fixed_length_px is not None:  # die-cut: a label's length comes with the roll
            return f"shorten the text, or use {self.ctx.canvas.wider_media} or longer ones"
        return f"shorten the text, or use {self.ctx.canvas.wider_media} or a longer label"

    def _too_big(self, max_w: int | None) -> str:
        first = " / ".join(self.paras)
        box = (f"in a height of {self._mm(self.h, False)} mm" if max_w is None else
               f"in {self._mm(ceil(max_w * self.ctx.canvas.aspect), True)} × {self._mm(self.h, False)} mm")
        return (f"text {first[:40]!r} does not fit {box} even at the smallest size the template allows "
                f"({self._cap_mm(self.min_px):.1f} mm high capitals, {self._pt(self.min_px)}): {self._fix(max_w)}")

    def draw(self, img: Image.Image, x: int, w: int) -> None:
        if not self.paras or self.h <= 0:
            return
        aspect = self.ctx.canvas.aspect
        budget = max(0, floor(w / aspect))
        block, notes = self._natural, self._natural_notes
        if block is None or block.width > budget or self.el.wrap:
            block, notes = self._choose(budget)
        for code, message in notes:
            self.ctx.warn(code, message, self.el.path)
        f = font(block.path, block.px)
        direct = self.el.rotate == 0 and w == budget and block.width <= budget and block.height <= self.h
        if direct:  # common case: no clipping, stretching or turning needed, so skip the tile
            draw = ImageDraw.Draw(img)
            top = self.y_in(block.height)
            for i, (line, lw) in enumerate(zip(block.lines, block.widths, strict=True)):
                draw.text((self.x_in(x, budget, lw), top + i * block.line_step), line, font=f, fill=0, anchor="la")
            return
        tile = Image.new("L", (budget, self.h), 255)
        draw = ImageDraw.Draw(tile)
        top = self.y_in(block.height) - self.y
        for i, (line, lw) in enumerate(zip(block.lines, block.widths, strict=True)):
            lx = self.x_in(0, budget, lw)
            if lw > budget and lw * block.line_step > HUGE_LINE_PX:
                # clipped far past the box: draw only what shows (a whole 4096-character line at 400 px
                # is a bitmap of hundreds of megapixels); within a pixel of the whole line's placement
                line, lx = _window(line, f, lx, budget)
            draw.text((lx, top + i * block.line_step), line, font=f, fill=0, anchor="la")
        if self.el.rotate == 180:
            tile = tile.transpose(Image.Transpose.ROTATE_180)
        composite(img, self.ctx.stretch(tile, w), x, self.y)


HUGE_LINE_PX = 20_000_000  # pixels of a line's bitmap above which only its visible part is drawn


def _window(line: str, f: ImageFont.FreeTypeFont, lx: int, width: int) -> tuple[str, int]:
    """The part of `line`, drawn from `lx`, that falls within 0..width, and where to draw it."""

    def advance(count: int) -> float:
        return float(f.getlength(line[:count]))

    def first_past(limit: float) -> int:  # the fewest characters whose advance passes `limit`
        low, high = 0, len(line)
        while low < high:
            mid = (low + high) // 2
            if advance(mid) > limit:
                high = mid
            else:
                low = mid + 1
        return low

    start = max(0, first_past(-lx) - 2)  # a character before the window, for glyphs that overhang
    end = min(len(line), first_past(width - lx) + 1)
    return line[start:end], lx + round(advance(start))
