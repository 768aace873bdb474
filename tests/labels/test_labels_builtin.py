"""Built-in templates: every code scans back, previews match the golden PNGs, every tape works.

Golden previews live in tests/labels/golden/<template>-<canvas>.png and are compared pixel
for pixel. After a deliberate rendering change, regenerate them and review the diff:

    REGENERATE_GOLDEN=1 /work/venv/bin/pytest tests/labels -k golden
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from appliance.labels import Canvas, TemplateRegistry, preview_png, pt_canvas, ql_canvas, render
from appliance.labels.errors import LabelError
from tests.labels.conftest import CANVASES, SAMPLES, decode, ink

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("REGENERATE_GOLDEN") == "1"

EXPECTED_CODES = {
    "asset-tag": [("https://inv.example/a/IT-000123", "QRCode")],
    "bin-label": [("BIN-A-01-03", "Code128")],
    "text": [],
    "cable-flag": [],
}


def test_builtins_are_the_four_documented(registry: TemplateRegistry) -> None:
    assert {t.name for t in registry.list()} == set(SAMPLES) == set(EXPECTED_CODES)
    assert all(t.source == "builtin" and t.version >= 1 for t in registry.list())


@pytest.mark.parametrize("canvas_id", sorted(CANVASES))
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_codes_in_builtins_decode(registry: TemplateRegistry, name: str, canvas_id: str) -> None:
    result = render(registry.get(name), SAMPLES[name], CANVASES[canvas_id])
    assert result.image.mode == "1"
    factor = 3 if canvas_id == "pt12" else 1
    assert sorted(decode(result.image, factor)) == EXPECTED_CODES[name]


@pytest.mark.parametrize("asset_id", ["A1", "IT-99999999", "x/y.z_1"])
def test_asset_tag_qr_of_plain_id_decodes_on_12mm(registry: TemplateRegistry, pt12: Canvas, asset_id: str) -> None:
    result = render(registry.get("asset-tag"), {"name": "Printer", "asset_id": asset_id}, pt12)
    assert decode(result.image) == [(asset_id, "QRCode")]


@pytest.mark.parametrize("code", ["12345678", "SHELF 4/B", "a1"])
def test_bin_label_barcode_decodes_on_12mm(registry: TemplateRegistry, pt12: Canvas, code: str) -> None:
    result = render(registry.get("bin-label"), {"text": "X", "code": code}, pt12)
    assert decode(result.image) == [(code, "Code128")]


def test_bin_label_code_defaults_to_text(registry: TemplateRegistry, ql62: Canvas) -> None:
    result = render(registry.get("bin-label"), {"text": "C-7"}, ql62)
    assert result.fields["code"] == "C-7"
    assert decode(result.image, 1) == [("C-7", "Code128")]


@pytest.mark.parametrize("canvas_id", sorted(CANVASES))
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_golden_preview(registry: TemplateRegistry, name: str, canvas_id: str) -> None:
    result = render(registry.get(name), SAMPLES[name], CANVASES[canvas_id])
    png = preview_png(result)
    path = GOLDEN / f"{name}-{canvas_id}.png"
    if REGENERATE:
        path.write_bytes(png)
    assert path.exists(), f"missing {path.name}: run REGENERATE_GOLDEN=1 pytest tests/labels"
    got = Image.open(io.BytesIO(png)).convert("L")
    want = Image.open(path).convert("L")
    assert got.size == want.size
    assert ImageChops.difference(got, want).getbbox() is None, f"{path.name} differs"


TAPES = {
    "pt3.5": pt_canvas(3.5, 24),
    "pt6": pt_canvas(6, 32),
    "pt9": pt_canvas(9, 50),
    "pt12": pt_canvas(12, 70),
    "pt18": pt_canvas(18, 112),
    "pt24": pt_canvas(24, 128),
    "pt12-highres": pt_canvas(12, 70, high_res=True),
    "ql29": ql_canvas(29, 306),
    "ql62": ql_canvas(62, 696),
    "ql29x90": ql_canvas(29, 306, fixed_length_px=991),
}


@pytest.mark.parametrize("tape", sorted(TAPES))
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_builtin_renders_on_every_tape(registry: TemplateRegistry, name: str, tape: str) -> None:
    canvas = TAPES[tape]
    fields = dict(SAMPLES[name])
    if name == "asset-tag":
        fields.pop("url_prefix")  # a long URL cannot fit 9 mm tape; that error is tested elsewhere
    if name == "cable-flag" and tape == "ql29x90":  # two flags and the wrap need about 89 mm; 84 mm print
        with pytest.raises(LabelError) as short:
            render(registry.get(name), fields, canvas)
        assert short.value.field == "tape" and "use longer labels" in short.value.reason
        return
    result = render(registry.get(name), fields, canvas)
    assert result.image.size == (result.length_px, canvas.printable_px)
    assert canvas.min_length_px <= result.length_px <= canvas.max_length_px
    assert ink(result.image) > 50
    codes = {w.code for w in result.warnings}
    if name == "bin-label":
        assert ("barcode-omitted" in codes) == (canvas.tape_width_mm < 12)
    if name == "asset-tag":
        assert ("qr-omitted" in codes) == (canvas.tape_width_mm < 9)
    # two rows of text on 3.5 mm tape are under 1 mm high; on any wider tape ordinary input reads well
    assert ("text-small" in codes) == (canvas.tape_width_mm < 6 and name in ("text", "asset-tag")), result.warnings
    if canvas.fixed_length_px:
        assert result.length_px == canvas.fixed_length_px


@pytest.mark.parametrize("label", [(62, 696, 271), (23, 202, 202)])  # QL die-cut 62x29 and 23x23
def test_an_asset_tag_fits_a_short_die_cut_label(registry: TemplateRegistry, label: tuple[int, int, int]) -> None:
    # the QR code used to take the whole length and the name was refused as "does not fit in 1.4 mm"
    width_mm, pins, length = label
    canvas = ql_canvas(width_mm, pins, fixed_length_px=length)
    result = render(registry.get("asset-tag"), {"name": "Laptop 12", "asset_id": "MS-0042"}, canvas)
    assert result.length_px == length and not result.warnings  # no text-small either: 1 mm capitals at 300 dpi
    decoded = decode(result.image)
    assert [text for text, _ in decoded] == ["MS-0042"], decoded  # the QR code is there, and readable


def test_a_template_longer_than_a_die_cut_label_says_so(registry: TemplateRegistry) -> None:
    with pytest.raises(LabelError) as short:
        render(registry.get("cable-flag"), {"text": "ETH1"}, ql_canvas(62, 696, fixed_length_px=271))
    assert short.value.field == "tape", short.value  # not "text 'ETH1' does not fit in 0.0 mm"
    assert "needs about" in short.value.reason and "labels give 23 mm" in short.value.reason


def test_a_long_qr_code_on_a_short_label_takes_the_length_its_neighbours_leave(registry: TemplateRegistry) -> None:
    # an equal share (half the length) is too little for this QR code; the short text leaves it enough
    canvas = ql_canvas(23, 202, fixed_length_px=202)
    fields = {"name": "A", "asset_id": "MS-0042", "url_prefix": "x" * 120}
    result = render(registry.get("asset-tag"), fields, canvas)
    assert [text for text, _ in decode(result.image)] == ["x" * 120 + "MS-0042"]


@pytest.mark.parametrize("name, fields", [
    ("text", {"text": "Server rack 4, shelf B"}),
    ("text", {"text": "Kabel 3", "line2": "Patchfeld A – Port 12"}),
    ("asset-tag", {"name": "Dell Latitude 7440", "asset_id": "IT-000123"}),
    ("bin-label", {"text": "SHELF-12-B"}),
    ("cable-flag", {"text": "SW1 P12", "line2": "VLAN 20"}),
])
@pytest.mark.parametrize("tape", ["pt6", "pt9", "pt12", "pt24", "ql29", "ql62"])
def test_builtins_with_ordinary_input_do_not_call_their_text_small(registry: TemplateRegistry, name: str,
                                                                    fields: dict[str, object], tape: str) -> None:
    canvas = TAPES[tape]
    result = render(registry.get(name), fields, canvas)
    assert "text-small" not in {w.code for w in result.warnings}, result.warnings
