"""Pages fitted to the loaded media: which way round, how long, thresholded or dithered."""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image, ImageDraw

from appliance.ipp.documents import DocumentError, pages
from appliance.ipp.fit import FitOptions, fit_page
from appliance.printer.media import media_for
from appliance.printer.models import get_model

from .client import label_png, qr_pdf

TAPE12 = media_for(get_model("PT-P750W"), "12mm")
ROLL62 = media_for(get_model("QL-820NWB"), "62mm")
LABEL29X90 = media_for(get_model("QL-820NWB"), "29x90")


_OPEN: list[Any] = []  # a PDF page is drawn while its document is open: keep the generator


@pytest.fixture(autouse=True)
def _close_documents() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def one(data: bytes, fmt: str):
    found = pages(io.BytesIO(data), fmt)
    _OPEN.append(found)
    return next(found)


def mm(dots: int, media) -> float:
    return dots * 25.4 / media.dpi


def test_a_landscape_label_page_runs_along_the_tape() -> None:
    image = fit_page(one(qr_pdf("x", size_mm=(40, 12)), "application/pdf"), TAPE12)
    assert image.mode == "1" and image.height == TAPE12.printable_pins
    assert mm(image.width, TAPE12) == pytest.approx(40 * TAPE12.printable_width_mm / 12, abs=1)


def test_a_portrait_page_is_turned_so_its_width_lies_across() -> None:
    image = fit_page(one(qr_pdf("x", size_mm=(50, 100)), "application/pdf"), ROLL62)
    assert image.height == ROLL62.printable_pins
    assert mm(image.width, ROLL62) == pytest.approx(100 * ROLL62.printable_width_mm / 50, abs=1)


def test_an_orientation_asked_for_is_kept() -> None:
    page = one(qr_pdf("x", size_mm=(40, 12)), "application/pdf")
    turned = fit_page(page, TAPE12, FitOptions(orientation=4))  # landscape: 90° turned, 12 mm along now
    assert mm(turned.width, TAPE12) < 10


def test_die_cut_labels_take_the_label_size() -> None:
    image = fit_page(one(qr_pdf("x", size_mm=(90, 29)), "application/pdf"), LABEL29X90)
    assert (image.width, image.height) == (LABEL29X90.length_limits_dots()[1], LABEL29X90.printable_pins)


def photo_jpeg() -> bytes:
    gradient = Image.linear_gradient("L").resize((300, 100))
    out = io.BytesIO()
    gradient.save(out, format="JPEG", dpi=(300, 300))
    return out.getvalue()


def runs(image: Image.Image) -> int:
    """How often neighbouring dots in the middle row differ: many in a dithered gray, few in a threshold."""
    row = [image.getpixel((x, image.height // 2)) for x in range(image.width)]
    return sum(1 for a, b in itertools.pairwise(row) if a != b)


def test_photographs_are_dithered_and_line_art_thresholded() -> None:
    photo = fit_page(one(photo_jpeg(), "image/jpeg"), TAPE12)
    line_art = fit_page(one(label_png(), "image/png"), TAPE12)
    assert runs(photo) > 20
    assert runs(line_art) < 12
    forced = fit_page(one(photo_jpeg(), "image/jpeg"), TAPE12, FitOptions(dither=False))
    assert runs(forced) <= 2  # a gradient thresholded: one edge


def test_transparent_png_prints_on_white() -> None:
    image = Image.new("RGBA", (200, 60), (0, 0, 0, 0))
    ImageDraw.Draw(image).rectangle((10, 10, 40, 40), fill=(0, 0, 0, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    fitted = fit_page(one(out.getvalue(), "image/png"), TAPE12).convert("L")
    inked = fitted.histogram()[0]
    assert 0 < inked < fitted.width * fitted.height // 4


def test_a_png_named_jpeg_is_refused() -> None:
    with pytest.raises(DocumentError, match="holds PNG"):
        one(label_png(), "image/jpeg")


def test_pages_for_a_usb_printer_ask_for_its_status_blocks() -> None:
    """On USB the queue confirms each label by the printer's "printing completed" block: a QL sends them only
    when the job asks (ESC i ! 00), so an IPP page for it must ask as print.submit's labels do."""
    import io as _io

    from appliance.ipp.fit import FitOptions
    from appliance.ipp.rendering import render_pages
    from appliance.printer.media import media_for
    from appliance.printer.models import get_model
    from appliance.printer.raster import ESC_NOTIFY_OFF, ESC_NOTIFY_ON

    from .client import label_png

    model = get_model("QL-820NWB")
    media = media_for(model, "62mm")
    cases = ((True, ESC_NOTIFY_ON, ESC_NOTIFY_OFF), (False, ESC_NOTIFY_OFF, ESC_NOTIFY_ON))
    for notifications, wanted, unwanted in cases:
        (raster, _, _), = render_pages(_io.BytesIO(label_png()), "image/png", "none", 1 << 20, model, media,
                                       FitOptions(), 1, notifications=notifications)
        assert wanted in raster and unwanted not in raster
