"""Tapes and labels: where the ink may go on the head, and how long a label may be.

Pin offsets are counted from pin 0 (the MSB of the first raster byte).

* 128-pin PT: Brother's published table (symmetric, so orientation does not matter); the PT-P700
  driver capture puts 12 mm ink at pins 29–98, as the table says.
* 560-pin PT: Brother publishes "left / printable / right", but its own driver puts 12 mm ink at
  pins 213–362, i.e. the published *right* margin is on the pin-0 side. We use that orientation
  for every width (verified for 12 mm only; the others follow the same published table).
* 720-pin QL: 29 mm (6 + 306 pins) matches the QL-820NWB captures (ink at pins 7–310). The other
  widths and die-cut labels use the values from Brother's QL raster reference as carried by the
  brother_ql project (the reference's "right margin" is the pin-0 side there too); unverified here.
* Heat-shrink is only tabled for 128-pin heads; 560-pin heat-shrink offsets are not known well
  enough (sources disagree by up to 17 pins), so they are left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

from appliance.printer.models import Family, Model
from appliance.printer.status import MEDIA_NOUN, worded

__all__ = [
    "Media",
    "MediaError",
    "MediaKind",
    "loaded_words",
    "media_for",
    "media_from_status",
    "media_table",
    "media_words",
    "parse_media_id",
]

MediaKind = Literal["laminated", "non-laminated", "heat-shrink", "continuous", "die-cut"]

TYPE_LAMINATED = 0x01
TYPE_NON_LAMINATED = 0x03
TYPE_HEAT_SHRINK_21 = 0x11
TYPE_HEAT_SHRINK_31 = 0x17
TYPE_CONTINUOUS = 0x0A
TYPE_DIE_CUT = 0x0B


class MediaError(ValueError):
    """The media id is malformed, or the model does not take that media."""


@dataclass(frozen=True, slots=True)
class Media:
    """One tape or label stock, as it sits on one family's head."""

    id: str
    family: Family
    width_mm: float
    kind: MediaKind
    media_type_code: int
    left_margin_pins: int
    """Blank pins between pin 0 and the first printable pin."""
    printable_pins: int
    head_pins: int
    dpi: int
    """Standard resolution (head and feed)."""
    length_mm: int | None = None
    """Die-cut label length; None for tape and continuous rolls."""
    printable_length_dots: int | None = None
    """Die-cut only: the exact label length in standard feed dots."""
    min_length_mm: float = 4.4
    max_length_mm: float = 1000.0
    product: str = ""

    @property
    def right_margin_pins(self) -> int:
        return self.head_pins - self.left_margin_pins - self.printable_pins

    @property
    def is_die_cut(self) -> bool:
        return self.kind == "die-cut"

    @property
    def width_code(self) -> int:
        """Width byte of the print-information command (3.5 mm is sent as 4)."""
        return round(self.width_mm + 0.01)

    @property
    def printable_width_mm(self) -> float:
        return self.printable_pins * 25.4 / self.dpi

    def feed_dpi(self, high_res: bool = False) -> int:
        return self.dpi * 2 if high_res else self.dpi

    def length_limits_dots(self, high_res: bool = False) -> tuple[int, int]:
        """Shortest and longest label this media takes, in feed dots (equal for die-cut labels)."""
        factor = 2 if high_res else 1
        if self.printable_length_dots is not None:
            return self.printable_length_dots * factor, self.printable_length_dots * factor
        dpi = self.feed_dpi(high_res)
        return round(self.min_length_mm * dpi / 25.4), int(self.max_length_mm * dpi / 25.4)

    def size_px(self, length_mm: float, high_res: bool = False) -> tuple[int, int]:
        """(width, height) of the label image for a label ``length_mm`` long: the encoder's input size."""
        return round(length_mm * self.feed_dpi(high_res) / 25.4), self.printable_pins


def _tape(family: Family, width: float, kind: MediaKind, code: int, left: int, printable: int) -> Media:
    head, dpi = (128, 180) if family == "pt128" else (560, 360)
    suffix = "-hs" if kind == "heat-shrink" else ""
    max_mm = 500.0 if kind == "heat-shrink" else 1000.0
    return Media(f"{width:g}mm{suffix}", family, width, kind, code, left, printable, head, dpi,
                 max_length_mm=max_mm, product="HSe" if suffix else "TZe")  # fmt: skip


def _ql(
    width: int,
    left: int,
    printable: int,
    product: str,
    length: int | None = None,
    length_dots: int | None = None,
) -> Media:
    if length is None:
        return Media(f"{width}mm", "ql720", width, "continuous", TYPE_CONTINUOUS, left, printable, 720, 300,
                     min_length_mm=12.7, product=product)  # fmt: skip
    return Media(f"{width}x{length}", "ql720", width, "die-cut", TYPE_DIE_CUT, left, printable, 720, 300,
                 length_mm=length, printable_length_dots=length_dots, min_length_mm=length,
                 max_length_mm=length, product=product)  # fmt: skip


_PT128 = (
    _tape("pt128", 3.5, "laminated", TYPE_LAMINATED, 52, 24),
    _tape("pt128", 6, "laminated", TYPE_LAMINATED, 48, 32),
    _tape("pt128", 9, "laminated", TYPE_LAMINATED, 39, 50),
    _tape("pt128", 12, "laminated", TYPE_LAMINATED, 29, 70),
    _tape("pt128", 18, "laminated", TYPE_LAMINATED, 8, 112),
    _tape("pt128", 24, "laminated", TYPE_LAMINATED, 0, 128),
    _tape("pt128", 6, "heat-shrink", TYPE_HEAT_SHRINK_21, 50, 28),
    _tape("pt128", 9, "heat-shrink", TYPE_HEAT_SHRINK_21, 40, 48),
    _tape("pt128", 12, "heat-shrink", TYPE_HEAT_SHRINK_21, 31, 66),
    _tape("pt128", 18, "heat-shrink", TYPE_HEAT_SHRINK_21, 11, 106),
    _tape("pt128", 24, "heat-shrink", TYPE_HEAT_SHRINK_21, 0, 128),
)
_PT560 = (
    _tape("pt560", 3.5, "laminated", TYPE_LAMINATED, 264, 48),
    _tape("pt560", 6, "laminated", TYPE_LAMINATED, 256, 64),
    _tape("pt560", 9, "laminated", TYPE_LAMINATED, 235, 106),
    _tape("pt560", 12, "laminated", TYPE_LAMINATED, 213, 150),
    _tape("pt560", 18, "laminated", TYPE_LAMINATED, 171, 234),
    _tape("pt560", 24, "laminated", TYPE_LAMINATED, 128, 320),
    _tape("pt560", 36, "laminated", TYPE_LAMINATED, 61, 454),
)
_QL720 = (
    _ql(12, 29, 106, "DK-22214"),
    _ql(29, 6, 306, "DK-22210"),
    _ql(38, 12, 413, "DK-22225"),
    _ql(50, 12, 554, "DK-22223"),
    _ql(54, 0, 590, "DK-N55224"),
    _ql(62, 12, 696, "DK-22205"),
    _ql(17, 0, 165, "DK-11204", 54, 566),
    _ql(17, 0, 165, "DK-11203", 87, 956),
    _ql(23, 42, 202, "DK-11221", 23, 202),
    _ql(29, 6, 306, "DK-11201", 90, 991),
    _ql(38, 12, 413, "DK-11208", 90, 991),
    _ql(62, 12, 696, "DK-11209", 29, 271),
    _ql(62, 12, 696, "DK-11202", 100, 1109),
)

_TABLES: dict[str, dict[str, Media]] = {
    family: {m.id: m for m in table} for family, table in (("pt128", _PT128), ("pt560", _PT560), ("ql720", _QL720))
}

_ID = re.compile(
    r"^\s*(?P<w>\d+(?:\.\d+)?)\s*(?:mm)?\s*"
    r"(?:(?:x|×|\*)\s*(?P<l>\d+)\s*(?:mm)?)?\s*"
    r"(?P<hs>(?:-|\s)?\s*(?:hs|heat[-\s]?shrink|hse))?\s*$",
    re.IGNORECASE,
)


def parse_media_id(text: str) -> str:
    """Normalise a media name: "12", "12 mm", "12mm" → "12mm"; "12mm hs" → "12mm-hs"; "29 x 90" → "29x90"."""
    match = _ID.match(text)
    if not match:
        raise MediaError(f"cannot read media {text!r}; write it like '12mm', '12mm-hs', '62mm' or '29x90'")
    width = float(match["w"])
    if match["l"] and match["hs"]:
        raise MediaError(f"media {text!r}: a die-cut label cannot be heat-shrink tube")
    if match["l"]:
        return f"{width:g}x{int(match['l'])}"
    return f"{width:g}mm" + ("-hs" if match["hs"] else "")


_DIE_CUT_ID = re.compile(r"^(?P<w>\d+(?:\.\d+)?)x(?P<l>\d+)$")


def media_words(media_id: str, family: str | None) -> str:
    """A stock as a person names it, for a printer of `family` (see ``status.series_of``): "12mm tape" on
    a PT, "62mm roll" on a QL, "12mm media" when the family is unknown; die-cut labels are labels of a
    size, whatever the printer: "29×90 mm labels" (not a "29x90 roll", though they come on one)."""
    die_cut = _DIE_CUT_ID.match(media_id)
    if die_cut:
        return f"{die_cut['w']}×{die_cut['l']} mm labels"
    return f"{media_id} {worded(MEDIA_NOUN, family)}"


def loaded_words(media: Media | None, family: str | None, tape_color: str | None = None,
                 text_color: str | None = None) -> str:
    """The loaded media in one line for a person (printer.status's `media_description`), for a printer of
    `family`: "12 mm laminated, black on white", "62 mm continuous", "29 × 90 mm die-cut labels, black on
    white" (labels once: a white background alone reads "…labels, white"); "no tape", "no roll" or "no media"
    when none is loaded."""
    noun = worded(MEDIA_NOUN, family)
    if media is None:
        return f"no {noun}"
    if media.is_die_cut:
        words, noun = f"{media.width_mm:g} × {media.length_mm} mm die-cut labels", ""
    else:
        words = f"{media.width_mm:g} mm {media.kind}"
    if text_color and tape_color:
        return f"{words}, {text_color} on {tape_color}"
    if tape_color:
        return f"{words}, {tape_color} {noun}".rstrip()
    return words


def media_table(model: Model) -> dict[str, Media]:
    """Every media the model takes, by id."""
    return _TABLES[model.family]


def media_for(model: Model, media_id: str) -> Media:
    """The media ``media_id`` (any spelling ``parse_media_id`` reads) as it sits on ``model``'s head."""
    table = _TABLES[model.family]
    key = parse_media_id(media_id)
    try:
        return table[key]
    except KeyError:
        raise MediaError(f"{model.name} does not take media {media_id!r}; it takes: {', '.join(table)}") from None


def media_from_status(model: Model, width_mm: int, media_type_code: int, length_mm: int = 0) -> Media | None:
    """The loaded media as the printer's status block describes it, or None if unknown or absent.

    The printer's word wins: a heat-shrink cassette that reports "non-laminated" (seen on a
    PT-P950NW) is treated as tape of that width.
    """
    table = _TABLES[model.family]
    if width_mm == 0 or media_type_code in (0x00, 0xFF):
        return None
    if model.family == "ql720":
        if media_type_code == TYPE_DIE_CUT:
            return table.get(f"{width_mm}x{length_mm}")
        return table.get(f"{width_mm}mm") if media_type_code == TYPE_CONTINUOUS else None
    width = 3.5 if width_mm == 4 else float(width_mm)
    if media_type_code == TYPE_HEAT_SHRINK_21:
        return table.get(f"{width:g}mm-hs")
    if media_type_code == TYPE_LAMINATED:
        return table.get(f"{width:g}mm")
    if media_type_code == TYPE_NON_LAMINATED:
        tape = table.get(f"{width:g}mm")
        if tape is None:
            return None
        return replace(tape, kind="non-laminated", media_type_code=TYPE_NON_LAMINATED)
    return None
