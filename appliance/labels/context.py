"""State shared by the element renderers during one render."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageChops

from appliance.labels.errors import LabelWarning
from appliance.labels.fields import FieldValue
from appliance.labels.geometry import Canvas


@dataclass(slots=True)
class RenderContext:
    canvas: Canvas
    values: dict[str, FieldValue]
    font_dirs: tuple[str, ...] = ()
    base_dir: Path | None = None
    warnings: list[LabelWarning] = field(default_factory=list)

    def warn(self, code: str, message: str, element: str | None = None) -> None:
        self.warnings.append(LabelWarning(code, message, element))

    def size_px(self, value: float, unit: str) -> int:
        """A font size in pt (at the head's dpi) or px → pixels."""
        return max(1, round(value * self.canvas.dpi_head / 72 if unit == "pt" else value))

    def stretch(self, tile: Image.Image, width: int) -> Image.Image:
        """Scale a tile drawn in square head dots to `width` feed dots (no-op at equal dpi)."""
        if tile.width == width:
            return tile
        exact = self.canvas.dpi_feed % self.canvas.dpi_head == 0
        resample = Image.Resampling.NEAREST if exact else Image.Resampling.BILINEAR
        return tile.resize((width, tile.height), resample)


def composite(img: Image.Image, tile: Image.Image, x: int, y: int) -> None:
    """Darken `img` with `tile` (both "L", white 255) at (x, y), clipped to `img`."""
    box = (x, y, x + tile.width, y + tile.height)
    img.paste(ImageChops.darker(img.crop(box), tile), box)
