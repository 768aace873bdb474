"""Fixtures for the labels tests: real tape canvases, the real registry, a real decoder."""

from __future__ import annotations

import pytest
import zxingcpp
from PIL import Image, ImageOps

from appliance.labels import Canvas, TemplateRegistry, pt_canvas, ql_canvas

# Field values used for every built-in in the decode and golden tests.
SAMPLES: dict[str, dict[str, object]] = {
    "text": {"text": "Hello Wörld", "line2": "Kabel 3 – €12"},
    "asset-tag": {"name": "Laptop 7", "asset_id": "IT-000123", "url_prefix": "https://inv.example/a/"},
    "cable-flag": {"text": "SW1 P12", "cable_diameter_mm": 8},
    "bin-label": {"text": "A-01-03", "code": "BIN-A-01-03"},
}

CANVASES: dict[str, Canvas] = {
    "pt12": pt_canvas(12, 70),
    "ql62": ql_canvas(62, 696),
}


@pytest.fixture(scope="session")
def registry() -> TemplateRegistry:
    return TemplateRegistry()


@pytest.fixture
def pt12() -> Canvas:
    return CANVASES["pt12"]


@pytest.fixture
def ql62() -> Canvas:
    return CANVASES["ql62"]


def decode(img: Image.Image, factor: int = 3) -> list[tuple[str, str]]:
    """(text, format) of every code zxing finds, after a white border and an integer upscale."""
    grey = ImageOps.expand(img.convert("L"), border=40, fill=255)
    if factor > 1:
        grey = grey.resize((grey.width * factor, grey.height * factor), Image.Resampling.NEAREST)
    return [(r.text, r.format.name) for r in zxingcpp.read_barcodes(grey)]


def ink(img: Image.Image) -> int:
    """Number of black dots in a mode "1" image."""
    return img.convert("L").histogram()[0]
