"""Bad jobs fail with a RasterError that says why, before any byte is produced."""

from __future__ import annotations

import pytest
from PIL import Image

from appliance.printer.media import media_for
from appliance.printer.models import get_model
from appliance.printer.raster import RasterError, encode_job

from .util import make_label

P750W = get_model("PT-P750W")
TAPE12 = media_for(P750W, "12mm")


def _label(width: int, height: int = 70) -> Image.Image:
    return make_label(width, height, 0)


@pytest.mark.parametrize(
    ("kwargs", "pages", "message"),
    [
        ({}, [_label(200, 64)], r"the image is 9\.0 mm \(64 dots\) across; 12mm on PT-P750W prints exactly "
                                r"9\.9 mm \(70 dots\) across"),
        ({}, [_label(200, 71)], r"exactly 9\.9 mm \(70 dots\)"),
        ({}, [_label(30)], r"the label is 4\.2 mm \(30 dots\) long; the shortest on 12mm is 4\.4 mm \(31 dots at "
                           r"180 dpi\)"),
        ({}, [_label(7088)], r"the label is 1000\.2 mm \(7088 dots\) long; the longest on 12mm is 1000 mm \(7086 dots "
                             r"at 180 dpi\)"),
        ({}, [_label(200).convert("L")], "image mode is 'L'"),
        ({}, [], "at least one label"),
        ({"copies": 0}, [_label(200)], "copies"),
        ({"cut": "zigzag"}, [_label(200)], "cut must be"),
        ({"compress": False}, [_label(200)], "prints blank labels without compression"),
        ({"margin_dots": 5}, [_label(200)], r"the feed margin must be 2\.0 mm to 127\.0 mm \(14\.\.900 dots at 180 "
                                            r"dpi\) on PT-P750W, not 0\.7 mm \(5 dots\)"),
        ({"cut_every": 0}, [_label(200)], "cut_every"),
        ({}, [_label(200), _label(200, 66)], "label 2"),
    ],
)
def test_bad_jobs_raise_before_encoding(kwargs: dict, pages: list[Image.Image], message: str) -> None:
    with pytest.raises(RasterError, match=message):
        encode_job(P750W, TAPE12, pages, **kwargs)


def test_model_limits() -> None:
    p700 = get_model("PT-P700")
    with pytest.raises(RasterError, match="no high-resolution mode"):
        encode_job(p700, media_for(p700, "12mm"), [_label(100)], high_res=True)
    with pytest.raises(RasterError, match="no half-cutter"):
        encode_job(p700, media_for(p700, "12mm"), [_label(100)], cut="half")
    with pytest.raises(RasterError, match="cannot cut every"):
        encode_job(p700, media_for(p700, "12mm"), [_label(100)], cut_every=2)
    ql700 = get_model("QL-700")
    with pytest.raises(RasterError, match="does not take compressed"):
        encode_job(ql700, media_for(ql700, "62mm"), [_label(200, 696)], compress=True)
    with pytest.raises(RasterError, match="is for pt560 heads"):
        encode_job(P750W, media_for(get_model("PT-P900W"), "12mm"), [_label(200, 150)])


def test_die_cut_needs_the_exact_length() -> None:
    ql = get_model("QL-820NWB")
    media = media_for(ql, "29x90")
    with pytest.raises(RasterError, match=r"the image is 83\.8 mm \(990 dots\) long; die-cut 29x90 labels print "
                                          r"exactly 83\.9 mm \(991 dots at 300 dpi\)"):
        encode_job(ql, media, [_label(990, 306)])
    with pytest.raises(RasterError, match=r"exactly 83\.9 mm \(1982 dots at 600 dpi\)"):
        encode_job(ql, media, [_label(991, 306)], high_res=True)
    with pytest.raises(RasterError, match="no feed margin"):
        encode_job(ql, media, [_label(991, 306)], margin_dots=35)


def test_high_res_doubles_the_length_limits() -> None:
    # 31 dots is the minimum at 180 dpi; at 360 dpi the same 4.4 mm is 62 dots.
    with pytest.raises(RasterError, match=r"the shortest on 12mm is 4\.4 mm \(62 dots at 360 dpi\)"):
        encode_job(P750W, TAPE12, [_label(40)], high_res=True)
    assert encode_job(P750W, TAPE12, [_label(62)], high_res=True)
