"""PWG 5101.1 self-describing media names and media-col values for the appliance's tapes and labels.

Continuous tape has no length of its own: it is offered as one size with `DEFAULT_LENGTH_MM` (what
a print dialog shows) plus the roll_min_/roll_max_ range a custom size may take; die-cut labels
are their label size. Sizes in media-col are hundredths of a millimetre.
"""

from __future__ import annotations

import re

from ..printer.media import Media
from . import codec
from .codec import Attribute

DEFAULT_LENGTH_MM = 100


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _slug(media: Media) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", media.id.lower()).strip("-") or "media"


def size_mm(media: Media) -> tuple[float, float]:
    """(width across, length) of the media's default page."""
    return media.width_mm, float(media.length_mm) if media.length_mm else float(DEFAULT_LENGTH_MM)


def name(media: Media) -> str:
    """The self-describing name: om_12mm-tape_12x100mm, om_29x90mm-labels_29x90mm."""
    width, length = size_mm(media)
    kind = "labels" if media.is_die_cut else "tape"
    slug = _slug(media)
    return f"om_{slug}-{kind}_{_num(width)}x{_num(length)}mm" if not slug.endswith(kind) else \
        f"om_{slug}_{_num(width)}x{_num(length)}mm"


def range_names(media: Media) -> list[str]:
    """roll_min_/roll_max_ for continuous tape (the lengths it can be cut to); [] for die-cut labels."""
    if media.is_die_cut:
        return []
    return [f"roll_min_{_num(media.width_mm)}x{_num(media.min_length_mm)}mm",
            f"roll_max_{_num(media.width_mm)}x{_num(media.max_length_mm)}mm"]


def media_type(media: Media) -> str:
    return "labels" if media.is_die_cut else "labels-continuous"


def media_col(media: Media, *, source: str = "main-roll") -> list[Attribute]:
    width, length = size_mm(media)
    size = [Attribute("x-dimension", codec.INTEGER, [round(width * 100)]),
            Attribute("y-dimension", codec.INTEGER, [round(length * 100)])]
    margins = [Attribute(f"media-{side}-margin", codec.INTEGER, [0]) for side in ("bottom", "left", "right", "top")]
    return [Attribute("media-key", codec.KEYWORD, [name(media)]),
            Attribute("media-size", codec.BEG_COLLECTION, [size]),
            Attribute("media-size-name", codec.KEYWORD, [name(media)]),
            *margins,
            Attribute("media-source", codec.KEYWORD, [source]),
            Attribute("media-type", codec.KEYWORD, [media_type(media)])]


def size_supported(media: Media) -> list[Attribute]:
    """media-size-supported entry: a fixed size for labels, a length range for continuous tape."""
    width, length = size_mm(media)
    if media.is_die_cut:
        y: Attribute = Attribute("y-dimension", codec.INTEGER, [round(length * 100)])
    else:
        lengths = (round(media.min_length_mm * 100), round(media.max_length_mm * 100))
        y = Attribute("y-dimension", codec.RANGE, [lengths])
    return [Attribute("x-dimension", codec.INTEGER, [round(width * 100)]), y]


def matches(requested: str, media: Media) -> bool:
    """Whether a `media` keyword names this media (its name, its range names or its plain id)."""
    return requested in (name(media), media.id, *range_names(media))
