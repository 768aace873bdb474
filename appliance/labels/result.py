"""What a render produces: the 1-bit image plus everything a caller shows or stores."""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from appliance.labels.errors import LabelWarning
from appliance.labels.geometry import Canvas


@dataclass(frozen=True, slots=True)
class RenderResult:
    image: Image.Image  # mode "1", width = length along the tape, height = printable_px
    length_px: int
    length_mm: float
    width_mm: float  # tape width
    printable_px: int
    warnings: tuple[LabelWarning, ...]
    template: str
    version: int
    fields: dict[str, str | int]  # after defaults and coercion; dates as ISO strings
    canvas: Canvas

    def summary(self) -> dict[str, object]:
        """JSON-friendly description (no image) for label.preview and job records."""
        return {
            "template": self.template,
            "version": self.version,
            "length_px": self.length_px,
            "printable_px": self.printable_px,
            "length_mm": round(self.length_mm, 2),
            "width_mm": self.width_mm,
            "warnings": [w.to_dict() for w in self.warnings],
            "fields": dict(self.fields),
        }
