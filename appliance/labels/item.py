"""Base of the per-element renderers: an element placed at rows y..y+h of the label."""

from __future__ import annotations

from PIL import Image

from appliance.labels.context import RenderContext
from appliance.labels.errors import LabelError
from appliance.labels.model import Element


class Item:
    """Knows its natural length (feed dots) for a height, and draws itself into a box."""

    # On a label of fixed length that its parts overflow, a QR code (it can take smaller modules)
    # is fitted to an equal share of the length, and text in a box of its own length shrinks its
    # font to what is left: neither is "cut off". Everything else keeps the length it asks for.
    shrinks_to_share = False

    def __init__(self, el: Element, ctx: RenderContext, y: int, h: int) -> None:
        self.el = el
        self.ctx = ctx
        self.y = y
        self.h = h
        self.omitted = False

    @property
    def elastic(self) -> bool:
        """Takes whatever length it is given without losing content (text of automatic width)."""
        return False

    def natural(self) -> int:
        """Length along the tape this element wants (feed dots)."""
        return 0

    def fits(self, limit: int) -> bool:
        """Whether it can be drawn (readably) in `limit` feed dots; see `shrinks_to_share`."""
        return True

    def fit_natural(self, limit: int) -> int:
        """Natural length once the label is known to offer at most `limit` dots (may omit or fail)."""
        return min(self.natural(), limit)

    def draw(self, img: Image.Image, x: int, w: int) -> None:
        """Draw into img within columns x..x+w and rows self.y..self.y+self.h."""

    def omit_or_fail(self, field: str, reason: str, kind: str = "invalid") -> None:
        """An optional element is dropped with a warning; a required one fails the render."""
        if self.el.optional:
            self.omitted = True
            self.ctx.warn(f"{self.el.type}-omitted", f"{self.el.type} left out: {reason}", self.el.path)
            return
        raise LabelError(field, reason, kind)  # type: ignore[arg-type]

    def x_in(self, x: int, w: int, inner: int) -> int:
        """Left edge of content `inner` dots wide aligned inside x..x+w."""
        if self.el.align == "left":
            return x
        if self.el.align == "right":
            return x + w - inner
        return x + (w - inner) // 2

    def y_in(self, inner: int) -> int:
        if self.el.valign == "top":
            return self.y
        if self.el.valign == "bottom":
            return self.y + self.h - inner
        return self.y + (self.h - inner) // 2
