"""Printed labels as PNG files that look like the physical label.

The picture is the tape as it comes out of the printer, turned so a person reads it:
tape-coloured, as wide as the tape, as long as the label with its feed margins, and the
printed area where the head puts it. High-resolution labels are scaled to the standard
resolution so the picture keeps the label's proportions. Names sort in print order:
`000001-20250102T030405.678901Z.png`.

The page counter is kept beside them in `page-counter`, as a real printer keeps it in
NVRAM: a virtual printer started again on the same directory goes on counting, so the
appliance can tell after a restart whether a label came out. The counter is the moment a
label counts as out: the picture is written aside first, the counter next, and only then
is the picture given its name; `settle` finishes or drops a picture a kill left aside, so
the PNGs always match the counter (a kill never leaves a label the counter does not know,
which the appliance would rightly send again, making a second PNG of one label).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from appliance.printer.decode import DecodedPage, to_label_image
from appliance.printer.media import Media

if TYPE_CHECKING:
    from PIL.Image import Image

# Status-block tape colours → RGB (background) and text colours → RGB (ink).
TAPE_RGB = {"white": (255, 255, 255), "clear": (235, 240, 240), "red": (220, 40, 40), "blue": (40, 90, 200),
            "yellow": (250, 220, 40), "green": (40, 160, 70), "black": (20, 20, 20)}  # fmt: skip
INK_RGB = {"white": (255, 255, 255), "red": (200, 0, 0), "blue": (0, 60, 200), "black": (0, 0, 0),
           "gold": (200, 160, 40)}  # fmt: skip


def file_name(number: int, at: datetime) -> str:
    stamp = at.strftime("%Y%m%dT%H%M%S.%fZ")
    return f"{number:06d}-{stamp}.png"


def render_label(
    page: DecodedPage,
    media: Media,
    *,
    blank: bool = False,
    tape_color: str | None = "white",
    text_color: str | None = "black",
) -> Image:
    """The physical label: tape background, feed margins, the printed area (empty if `blank`)."""
    from PIL import Image as PILImage

    area = to_label_image(page, media)  # length (feed dots) × printable pins, person-readable
    if page.high_res:
        area = area.resize((max(1, area.width // 2), area.height), PILImage.Resampling.NEAREST)
    margin = page.margin_dots // 2 if page.high_res else page.margin_dots
    tape_px = max(area.height, round(media.width_mm * media.dpi / 25.4))
    width = area.width + 2 * margin
    label = PILImage.new("RGB", (width, tape_px), TAPE_RGB.get(tape_color or "white", TAPE_RGB["white"]))
    if not blank:
        ink = PILImage.new("RGB", area.size, INK_RGB.get(text_color or "black", INK_RGB["black"]))
        mask = area.convert("L").point(lambda v: 255 - v)  # black pixels of the area are ink
        label.paste(ink, (margin, (tape_px - area.height) // 2), mask)
    return label


def printed_area(label: Image, page: DecodedPage, media: Media) -> tuple[int, int, int, int]:
    """The box of `label` (from `render_label`) where the head printed — for checks and crops."""
    margin = page.margin_dots // 2 if page.high_res else page.margin_dots
    height = media.printable_pins
    top = (label.height - height) // 2
    return margin, top, label.width - margin, top + height


def deliver_label(out_dir: Path, number: int, at: datetime, label: Image) -> Path:
    """Write `label` as printed label `number` and move the page counter to `number`, in that order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / file_name(number, at)
    aside = _aside(path)
    label.save(aside, format="PNG")
    write_counter(out_dir, number)  # from here on the label is out
    aside.replace(path)
    return path


def settle(out_dir: Path) -> int:
    """Name the pictures a kill left aside that the counter counts, drop those it does not; the counter."""
    counter = read_counter(out_dir)
    for aside in out_dir.glob("*" + _ASIDE):
        number = aside.name[:6]
        if number.isdigit() and int(number) <= counter:
            aside.replace(out_dir / aside.name[: -len(_ASIDE)])
        else:
            aside.unlink(missing_ok=True)
    return counter


_ASIDE = ".tmp"


def _aside(path: Path) -> Path:
    return path.with_name(path.name + _ASIDE)


COUNTER_FILE = "page-counter"


def read_counter(out_dir: Path) -> int:
    """The page counter kept in `out_dir`, 0 when there is none (or it is unreadable)."""
    try:
        text = (out_dir / COUNTER_FILE).read_text().strip()
    except OSError:
        return 0
    return int(text) if text.isdigit() else 0


def write_counter(out_dir: Path, count: int) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / (COUNTER_FILE + ".tmp")
    tmp.write_text(f"{count}\n")
    tmp.replace(out_dir / COUNTER_FILE)
