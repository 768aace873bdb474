"""A document page fitted to the loaded media at the printer's own resolution, as a 1-bit label image.

The label image is what the raster encoder takes: its height is the media's printable pins
(across the tape), its width the length along it. Continuous tape takes the page's width across
and the length from the page; the page is turned when its other side across fits better (a
larger print), unless the client asked for an orientation. Die-cut labels take the page fitted
into the label. Line art is thresholded, photographs are dithered (Floyd–Steinberg): what the client
asks (print-content-optimize, print-color-mode), else a JPEG or an image of many mid grays is a
photograph and a PDF page line art.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from ..printer.media import Media
from .documents import Page

# orientation-requested: portrait, landscape, reverse-landscape, reverse-portrait → degrees counter-clockwise
ROTATION = {3: 0, 4: 90, 5: 270, 6: 180}
SCALINGS = ("auto", "auto-fit", "fill", "fit", "none")
MIDTONE_SHARE = 0.2  # more of the page than this in mid grays: a photograph, dithered


@dataclass(frozen=True)
class FitOptions:
    orientation: int | None = None  # orientation-requested, None: whichever fits better
    scaling: str = "auto"  # print-scaling
    dither: bool | None = None  # None: decided from the page (photo_hint, or many mid grays)


def fit_page(page: Page, media: Media, options: FitOptions = FitOptions()) -> Image.Image:
    """The page as a mode "1" image: (length along the tape, printable pins across it)."""
    pins = media.printable_pins
    dots_per_mm = media.dpi / 25.4
    shortest, longest = media.length_limits_dots()
    turns = [ROTATION[options.orientation]] if options.orientation in ROTATION else [90, 0]
    best: tuple[float, int] | None = None
    for turn in turns:  # raster width = what lies along the tape, height = what lies across it
        along_mm, across_mm = (page.height_mm, page.width_mm) if turn in (90, 270) else (page.width_mm,
                                                                                         page.height_mm)
        scale = _scale(along_mm, across_mm, media, options.scaling)
        if best is None or scale > best[0] + 1e-9:
            best = (scale, turn)
    assert best is not None
    scale, turn = best
    along_mm, across_mm = (page.height_mm, page.width_mm) if turn in (90, 270) else (page.width_mm, page.height_mm)
    along_px = max(1, round(along_mm * scale * dots_per_mm))
    across_px = max(1, round(across_mm * scale * dots_per_mm))
    length = longest if media.is_die_cut else min(max(along_px, shortest), longest)
    drawn_w, drawn_h = (across_px, along_px) if turn in (90, 270) else (along_px, across_px)
    gray = page.draw(drawn_w, drawn_h)
    if turn:
        gray = gray.rotate(turn, expand=True)
    canvas = Image.new("L", (length, pins), 255)
    canvas.paste(gray, ((length - gray.width) // 2, (pins - gray.height) // 2))
    dither = options.dither if options.dither is not None else page.photo_hint
    return canvas.convert("1", dither=Image.Dither.FLOYDSTEINBERG if dither else Image.Dither.NONE)


def _scale(along_mm: float, across_mm: float, media: Media, scaling: str) -> float:
    """How much the page is enlarged (1.0: true size) for this way round on this media."""
    across_avail = media.printable_width_mm
    longest_mm = media.length_limits_dots()[1] * 25.4 / media.dpi
    if scaling == "none":
        return 1.0
    fit_across = across_avail / across_mm
    fit_along = longest_mm / along_mm
    if scaling == "fill" and media.is_die_cut:
        return max(fit_across, fit_along)
    return min(fit_across, fit_along)  # continuous: across fills the tape unless that makes it too long


def looks_like_photo(image: Image.Image) -> bool:
    """Many mid grays at the image's own resolution: a photograph (line art is mostly black and white)."""
    histogram = image.histogram()
    inked = sum(histogram[:250])
    return inked > 0 and sum(histogram[48:208]) > MIDTONE_SHARE * inked
