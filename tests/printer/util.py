"""Helpers shared by the printer tests: where the test vectors are, and label images to encode."""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw

from tests.support import TESTDATA

CAPTURES = TESTDATA / "brother-captures"
STATUS_BLOCKS = TESTDATA / "status-blocks.json"


def capture_paths() -> list[Path]:
    return sorted(CAPTURES.glob("*.prn"))


def capture_media_id(prn: Path) -> str:
    """Which media each capture was printed on (from its file name)."""
    if "Label-29x90" in prn.name:
        return "29x90"
    if "Tape-29" in prn.name:
        return "29mm"
    return "12mm"


def capture_model(prn: Path) -> str:
    return prn.name.split("_")[0]


def make_label(width: int, height: int, seed: int) -> Image.Image:
    """A 1-bit label with what real labels have: noise, solid bars, blank stretches, a frame, text."""
    rng = random.Random(seed)
    image = Image.frombytes("1", (width, height), rng.randbytes((width + 7) // 8 * height))
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x0 = rng.randrange(width)
        x1 = min(width - 1, x0 + rng.randrange(1, max(2, width // 4)))
        draw.rectangle((x0, 0, x1, height - 1), fill=rng.choice((0, 1)))
    draw.rectangle((0, 0, width - 1, height - 1), outline=0)
    draw.text((2, 1), f"#{seed}", fill=0)
    return image
