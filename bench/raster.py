"""Raster encoder benchmark: our encoder against the ``ptouch`` package on the same 1-bit images.

``python bench/raster.py`` prints a table; ``run()`` returns the rows for ``python -m bench``.
Each row: figure, value (median ms), unit, baseline (ptouch's median ms; for QL models, which ptouch
lacks, our own encoder without its C part: Pillow and libtiff), baseline_of ("ptouch" or "without C"),
ratio (baseline / value: how many times faster we are).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from appliance.printer import raster
from appliance.printer.media import Media, media_for
from appliance.printer.models import Model, get_model
from appliance.printer.raster import encode_job

# (model, media, label length in mm, ptouch printer class name, ptouch tape class name)
REFERENCES: list[tuple[str, str, float, str | None, str | None]] = [
    ("PT-P750W", "12mm", 50, "PTP750W", "Tape12mm"),
    ("PT-P750W", "24mm", 100, "PTP750W", "Tape24mm"),
    ("PT-P900W", "12mm", 50, "PTP900W", "Tape12mm"),
    ("PT-P950NW", "36mm", 100, "PTP950NW", "Tape36mm"),
    ("QL-820NWB", "62mm", 100, None, None),
    ("QL-820NWB", "62x100", 100, None, None),
]


def text_label(model: Model, media: Media, length_mm: float) -> Image.Image:
    """A text-like 1-bit label: a frame and a few lines of text filling the printable height."""
    width = media.printable_length_dots or model.mm_to_dots(length_mm)
    height = media.printable_pins
    image = Image.new("1", (width, height), 1)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width - 1, height - 1), outline=0, width=2)
    rows = max(1, height // 40)
    size = max(8, height // rows - 6)
    font = ImageFont.load_default(size=size)
    for row in range(rows):
        draw.text((6, 3 + row * (height // rows)), f"ASSET-{row:02d} 4711 Label Appliance", font=font, fill=0)
    return image


def _median_ms(func: Callable[[], object], repeat: int) -> float:
    func()  # warm caches and lazy imports
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def _import_ptouch_without_pyusb() -> None:
    """ptouch imports pyusb at module level although pyusb is only its optional "usb" extra.

    Its encoder never touches USB, so empty stand-ins let it load; nothing timed runs through them.
    """
    import importlib.util
    import sys
    import types

    if "usb" not in sys.modules and importlib.util.find_spec("usb") is None:
        for name in ("usb", "usb.core", "usb.util"):
            sys.modules.setdefault(name, types.ModuleType(name))


def _ptouch_encoder(printer_name: str, tape_name: str, image: Image.Image) -> Callable[[], object] | None:
    _import_ptouch_without_pyusb()
    try:
        import ptouch
        from ptouch.connection import Connection
        from ptouch.label import Label
    except ImportError:
        return None

    class Collect(Connection):
        def __init__(self) -> None:
            self.chunks: list[bytes] = []

        def connect(self, printer: Any) -> None:
            pass

        def write(self, payload: bytes) -> None:
            self.chunks.append(payload)

        def close(self) -> None:
            pass

    printer_class = getattr(ptouch, printer_name, None) or getattr(ptouch.printers, printer_name)
    tape_class = getattr(ptouch, tape_name, None) or getattr(ptouch.tape, tape_name)
    printer = printer_class(Collect(), use_compression=True)
    return lambda: printer.print(Label(image, tape_class))


def _without_c_ms(model: Model, media: Media, image: Image.Image, repeat: int) -> float:
    """Our encoder's median ms on a machine where its C part was not built."""
    built = raster._native_lines
    raster._native_lines = None
    try:
        return _median_ms(lambda: encode_job(model, media, [image]), repeat)
    finally:
        raster._native_lines = built


def run(repeat: int = 21) -> list[dict[str, Any]]:
    """Time every reference label; returns one row per label."""
    rows: list[dict[str, Any]] = []
    for model_name, media_id, length_mm, ptouch_printer, ptouch_tape in REFERENCES:
        model = get_model(model_name)
        media = media_for(model, media_id)
        image = text_label(model, media, length_mm)
        ours = _median_ms(lambda m=model, t=media, i=image: encode_job(m, t, [i]), repeat)
        baseline, baseline_of = None, None
        if ptouch_printer and ptouch_tape:
            theirs = _ptouch_encoder(ptouch_printer, ptouch_tape, image)
            if theirs is not None:
                baseline, baseline_of = _median_ms(theirs, max(3, repeat // 3)), "ptouch"
        elif raster._native_lines is not None:
            baseline, baseline_of = _without_c_ms(model, media, image, repeat), "without C"
        rows.append(
            {
                "figure": f"encode {model_name} {media_id} {image.width}x{image.height} px",
                "value": round(ours, 3),
                "unit": "ms",
                "baseline": None if baseline is None else round(baseline, 3),
                "baseline_of": baseline_of,
                "ratio": None if baseline is None else round(baseline / ours, 1),
            }
        )
    return rows


def main() -> None:
    rows = run()
    print(f"{'figure':<44} {'ours':>10} {'baseline':>10} {'ratio':>8}")
    for row in rows:
        baseline = "—" if row["baseline"] is None else f"{row['baseline']:.2f}"
        ratio = "—" if row["ratio"] is None else f"{row['ratio']:.1f}×"
        print(f"{row['figure']:<44} {row['value']:>8.2f}{row['unit']} {baseline:>10} {ratio:>8}")


if __name__ == "__main__":
    main()
