"""Tape geometry handed to the renderer by the caller (the printer layer fills it).

Orientation for the whole project: a rendered label image is as a person reads
it. Its width runs along the tape (feed direction, `dpi_feed`), its height is
across the tape and equals `printable_px` (head pins, `dpi_head`).
"""

from __future__ import annotations

from dataclasses import dataclass

MM_PER_INCH = 25.4


@dataclass(frozen=True, slots=True)
class Canvas:
    printable_px: int
    dpi_feed: int
    dpi_head: int
    tape_width_mm: float
    min_length_px: int
    max_length_px: int
    fixed_length_px: int | None = None  # die-cut labels
    media_id: str = ""
    media_noun: str = "tape"
    """What messages call the media: "tape" (PT cassettes), "roll" (a QL's continuous DK roll), "labels"
    (die-cut: a roll of them, but a person loads labels of a size); see the phrases below."""

    def __post_init__(self) -> None:
        if self.printable_px <= 0 or self.dpi_feed <= 0 or self.dpi_head <= 0:
            raise ValueError("printable_px and dpi must be positive")
        if self.min_length_px > self.max_length_px:
            raise ValueError("min_length_px exceeds max_length_px")

    def feed_px(self, mm: float) -> int:
        """Millimetres along the tape → dots (rounded)."""
        return round(mm * self.dpi_feed / MM_PER_INCH)

    def head_px(self, mm: float) -> int:
        """Millimetres across the tape → dots (rounded)."""
        return round(mm * self.dpi_head / MM_PER_INCH)

    def feed_mm(self, px: int) -> float:
        return px * MM_PER_INCH / self.dpi_feed

    def head_mm(self, px: int) -> float:
        return px * MM_PER_INCH / self.dpi_head

    @property
    def printable_mm(self) -> float:
        return self.head_mm(self.printable_px)

    @property
    def wider_media(self) -> str:
        """ "a wider tape", "a wider roll"; "wider labels" (a plural noun takes no article)."""
        return f"wider {self.media_noun}" if self.media_noun == "labels" else f"a wider {self.media_noun}"

    @property
    def media_width(self) -> str:
        """ "the tape's width", "the labels' width"."""
        return f"the {self.media_noun}'" + ("" if self.media_noun.endswith("s") else "s") + " width"

    def loaded(self, width_mm: float) -> str:
        """ "the loaded tape is 12 mm", "the loaded labels are 29 mm wide"."""
        if self.media_noun == "labels":
            return f"the loaded labels are {width_mm:g} mm wide"
        return f"the loaded {self.media_noun} is {width_mm:g} mm"

    @property
    def aspect(self) -> float:
        """Horizontal stretch: feed dots per head dot (2.0 in high-res PT)."""
        return self.dpi_feed / self.dpi_head


def pt_canvas(tape_mm: float, printable_px: int, *, high_res: bool = False) -> Canvas:
    """A PT 128-pin canvas (180 dpi; min 31 dots, max 1000 mm) — handy for tests and benches."""
    feed = 360 if high_res else 180
    return Canvas(
        printable_px=printable_px,
        dpi_feed=feed,
        dpi_head=180,
        tape_width_mm=tape_mm,
        min_length_px=31 * feed // 180,
        max_length_px=round(1000 * feed / MM_PER_INCH),
        media_id=f"{tape_mm:g}mm",
    )


def ql_canvas(tape_mm: float, printable_px: int, fixed_length_px: int | None = None) -> Canvas:
    """A QL 720-pin canvas at 300 dpi (continuous, or die-cut with a fixed length)."""
    return Canvas(
        printable_px=printable_px,
        dpi_feed=300,
        dpi_head=300,
        tape_width_mm=tape_mm,
        min_length_px=fixed_length_px or 150,
        max_length_px=fixed_length_px or round(1000 * 300 / MM_PER_INCH),
        fixed_length_px=fixed_length_px,
        media_id=f"{tape_mm:g}mm" if fixed_length_px is None else f"{tape_mm:g}x{fixed_length_px}px",
        media_noun="roll" if fixed_length_px is None else "labels",
    )
