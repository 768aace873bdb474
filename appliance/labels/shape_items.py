"""Images (thresholded or Floyd–Steinberg dithered), lines, boxes and empty space."""

from __future__ import annotations

from PIL import Image

from appliance.labels.context import composite
from appliance.labels.item import Item
from appliance.labels.model import BoxElement, ImageElement, LineElement


class ImageItem(Item):
    el: ImageElement

    def natural(self) -> int:
        src = self.el.image
        assert src is not None
        return round(self.h * src.width / src.height * self.ctx.canvas.aspect)

    def draw(self, img: Image.Image, x: int, w: int) -> None:
        src = self.el.image
        assert src is not None
        aspect = self.ctx.canvas.aspect
        room_w = max(1, int(w / aspect))
        if self.el.fit == "stretch":
            size = (room_w, self.h)
        else:
            scale = min(room_w / src.width, self.h / src.height)
            size = (max(1, round(src.width * scale)), max(1, round(src.height * scale)))
        tile = src.resize(size, Image.Resampling.LANCZOS)
        if self.el.dither:
            tile = tile.convert("1").convert("L")  # Floyd–Steinberg is Pillow's default
        else:
            t = self.el.threshold
            tile = tile.point(lambda v: 0 if v < t else 255)
        tile = self.ctx.stretch(tile, max(1, round(tile.width * aspect)))
        composite(img, tile, self.x_in(x, w, tile.width), self.y_in(tile.height))


class LineItem(Item):
    el: LineElement

    def _thick(self, feed: bool) -> int:
        canvas = self.ctx.canvas
        return max(1, canvas.feed_px(self.el.thickness_mm) if feed else canvas.head_px(self.el.thickness_mm))

    def natural(self) -> int:
        return self._thick(True) if self.el.direction == "vertical" else 0

    def draw(self, img: Image.Image, x: int, w: int) -> None:
        if self.el.direction == "vertical":
            t = self._thick(True)
            img.paste(0, (x + (w - t) // 2, self.y, x + (w - t) // 2 + t, self.y + self.h))
        else:
            t = self._thick(False)
            top = self.y + (self.h - t) // 2
            img.paste(0, (x, top, x + w, top + t))


class BoxItem(Item):
    el: BoxElement

    def draw(self, img: Image.Image, x: int, w: int) -> None:
        y, h = self.y, self.h
        if self.el.fill:
            img.paste(0, (x, y, x + w, y + h))
            return
        tf = max(1, self.ctx.canvas.feed_px(self.el.thickness_mm))
        th = max(1, self.ctx.canvas.head_px(self.el.thickness_mm))
        for box in (
            (x, y, x + w, y + th),
            (x, y + h - th, x + w, y + h),
            (x, y, x + tf, y + h),
            (x + w - tf, y, x + w, y + h),
        ):
            img.paste(0, box)
