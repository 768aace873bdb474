"""The parsed, immutable form of a template (see TEMPLATES.md for the TOML it comes from)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal, Protocol

from PIL import Image

from appliance.labels.dims import Dim
from appliance.labels.textfmt import Formatted

EMPTY = Formatted("", ())

FieldType = Literal["string", "integer", "date", "choice"]


class Pattern(Protocol):
    """A compiled field pattern (an RE2 regex, see field_pattern.py): what FieldSpec uses of it."""

    @property
    def pattern(self) -> str: ...

    def fullmatch(self, text: str) -> object: ...


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    type: FieldType = "string"
    label: str = ""
    help: str = ""
    required: bool = False
    default: str | int | date | None = None
    max_length: int | None = None
    pattern: Pattern | None = None
    choices: tuple[str, ...] = ()
    min: int | None = None
    max: int | None = None
    default_fmt: Formatted | None = None  # a string default that names other fields

    def describe(self) -> dict[str, object]:
        """JSON-friendly description (for template.get and UIs)."""
        out: dict[str, object] = {"name": self.name, "type": self.type, "required": self.required}
        for key in ("label", "help", "max_length", "min", "max"):
            value = getattr(self, key)
            if value not in (None, ""):
                out[key] = value
        if self.default is not None:
            out["default"] = self.default.isoformat() if isinstance(self.default, date) else self.default
        if self.pattern is not None:
            out["pattern"] = self.pattern.pattern
        if self.choices:
            out["choices"] = list(self.choices)
        return out


@dataclass(frozen=True, slots=True)
class Element:
    """Fields shared by every layout element."""

    index: int
    type: str
    x: Dim
    y: Dim
    w: Dim
    h: Dim
    align: str = "center"  # left | center | right (along the tape)
    valign: str = "middle"  # top | middle | bottom (across the tape)
    min_tape_mm: float | None = None
    max_tape_mm: float | None = None
    when: str | None = None  # skip the element when this field is empty
    optional: bool = False  # omit with a warning instead of failing when it cannot fit

    @property
    def path(self) -> str:
        return f"layout[{self.index}]"


@dataclass(frozen=True, slots=True)
class TextElement(Element):
    text: Formatted = EMPTY
    font: str = "sans"
    size: float | None = None  # px at the template's dpi is not known yet: see size_unit
    size_unit: str = "fit"  # fit | pt | px
    min_size: float = 5.0
    min_size_unit: str = "pt"
    max_size: float | None = None
    max_size_unit: str = "pt"
    shrink: bool = True  # fixed size: shrink (with a warning) rather than clip
    wrap: bool = False
    max_lines: int | None = None
    line_spacing: float = 1.0
    rotate: int = 0  # 0 or 180
    skip_empty_lines: bool = True


@dataclass(frozen=True, slots=True)
class QrElement(Element):
    data: Formatted = EMPTY
    ec: str = "M"
    quiet_zone: int = 2
    min_module_dots: int = 2
    max_module_mm: float | None = None


@dataclass(frozen=True, slots=True)
class BarcodeElement(Element):
    data: Formatted = EMPTY
    symbology: str = "code128"
    human_readable: bool = True
    font: str = "mono"
    module_mm: float = 0.3  # preferred narrow bar width
    min_module_dots: int = 2
    quiet_zone: int = 10
    check_digit: bool = False  # Code 39 mod 43


@dataclass(frozen=True, slots=True)
class ImageElement(Element):
    image: Image.Image | None = None  # "L", white background
    fit: str = "contain"  # contain | stretch
    dither: bool = False
    threshold: int = 128


@dataclass(frozen=True, slots=True)
class LineElement(Element):
    direction: str = "vertical"
    thickness_mm: float = 0.3


@dataclass(frozen=True, slots=True)
class BoxElement(Element):
    thickness_mm: float = 0.3
    fill: bool = False


@dataclass(frozen=True, slots=True)
class SpaceElement(Element):
    pass


@dataclass(frozen=True, slots=True)
class Template:
    name: str
    title: str
    description: str
    version: int
    fields: dict[str, FieldSpec]
    layout: tuple[Element, ...]
    tapes: tuple[float, ...] | None = None  # None: any tape
    min_tape_mm: float | None = None
    length_mm: float | None = None  # fixed length
    min_length_mm: float = 0.0
    max_length_mm: float | None = None
    margin_mm: float = 2.0  # blank at both ends of the label (along the tape)
    padding_mm: float = 0.0  # inset from the printable edges (across the tape)
    gap_mm: float = 1.5  # between elements that flow along the tape
    source: str = "user"  # "builtin" | "user"
    base_dir: Path | None = None
    raw: dict[str, object] = field(default_factory=dict, compare=False, repr=False)

    def describe(self) -> dict[str, object]:
        """JSON-friendly summary for template.list / template.get."""
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "version": self.version,
            "source": self.source,
            "tapes": "any" if self.tapes is None else list(self.tapes),
            "min_tape_mm": self.min_tape_mm,
            "fields": [f.describe() for f in self.fields.values()],
        }
