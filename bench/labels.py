"""Label rendering benchmark: median time to render each built-in template.

``python bench/labels.py`` prints a table; ``run()`` returns the rows for ``python -m bench``.
Each row: figure, value (median ms), unit, target (ms on this machine; a Raspberry Pi is
6–10× slower, so a few ms here keeps a Pi label well under 50 ms). When the raster encoder
(appliance.printer.raster) is importable, render + encode is timed as well, with the same 5 ms
target (issue 10: render+encode median < 5 ms).

Like the server (appliance/heap.py), this process keeps label-sized bitmaps in its heap; with
``--default-heap`` it leaves glibc's defaults. With ``--without-c`` the encoder runs as on a
machine where its C part (appliance/printer/_raster_lines.c) was not built: Pillow and libtiff.
That is how ``python -m bench`` measures the baseline of the QL rows, in a child process.
``--json`` prints the rows as JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from appliance.labels import Canvas, TemplateRegistry, pt_canvas, ql_canvas, render

TARGET_MS = 5.0
FIELDS: dict[str, list[dict[str, object]]] = {
    # several values per template so caches of one exact string do not flatter the figure
    "text": [{"text": f"Cable box {i}", "line2": "Keller – Regal 3"} for i in range(8)],
    "asset-tag": [{"name": f"Laptop {i}", "asset_id": f"IT-{i:06d}"} for i in range(8)],
    "cable-flag": [{"text": f"SW1 P{i}", "cable_diameter_mm": 6} for i in range(8)],
    "bin-label": [{"text": f"A-01-{i:02d}"} for i in range(8)],
}
TAPES: list[tuple[str, Canvas, str, str]] = [
    ("PT 12 mm", pt_canvas(12, 70), "PT-P750W", "12mm"),
    ("QL 62 mm", ql_canvas(62, 696), "QL-820NWB", "62mm"),
]


def _median_ms(fn: Callable[[int], object], repeat: int) -> float:
    fn(0)  # warm-up: font and template caches
    times = []
    for i in range(repeat):
        start = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _encoder(model_name: str, media_id: str) -> Callable[[Any], bytes] | None:
    try:
        from appliance.printer.media import media_for
        from appliance.printer.models import get_model
        from appliance.printer.raster import encode_job
    except ImportError:
        return None
    model = get_model(model_name)
    media = media_for(model, media_id)
    return lambda image: encode_job(model, media, [image])


def run(repeat: int = 31, *, heap: bool = True, c_encoder: bool = True) -> list[dict[str, Any]]:
    if heap:  # as the server does at start (irreversible in this process)
        from appliance.heap import keep_bitmaps_in_heap

        keep_bitmaps_in_heap()
    if not c_encoder:
        from appliance.printer import raster

        raster._native_lines = None  # for the rest of this process, as if it had not been built
    registry = TemplateRegistry()
    rows: list[dict[str, Any]] = []
    for tape_name, canvas, model_name, media_id in TAPES:
        encode = _encoder(model_name, media_id)
        for name, samples in FIELDS.items():
            template = registry.get(name)

            def one(i: int, t=template, s=samples, c=canvas) -> object:
                return render(t, s[i % len(s)], c)

            rows.append(
                {
                    "figure": f"render {name} ({tape_name})",
                    "value": round(_median_ms(one, repeat), 3),
                    "unit": "ms",
                    "target": TARGET_MS,
                }
            )
            if encode is not None:

                def both(i: int, one=one, encode=encode) -> object:
                    return encode(one(i).image)

                rows.append(
                    {
                        "figure": f"render+encode {name} ({tape_name}, {model_name})",
                        "value": round(_median_ms(both, repeat), 3),
                        "unit": "ms",
                        "target": TARGET_MS,
                    }
                )
    return rows


def child_run(*flags: str, repeat: int = 31) -> dict[str, float]:
    """figure → median ms, measured in a child process run with `flags` (``--default-heap``,
    ``--without-c``), so that nothing this process changed for itself carries over."""
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *flags, "--json", "--repeat", str(repeat)],
        capture_output=True, text=True, check=True, timeout=600,
    )  # fmt: skip
    return {r["figure"]: r["value"] for r in json.loads(done.stdout)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--default-heap", action="store_true", help="leave glibc's heap settings as they are")
    parser.add_argument("--without-c", action="store_true", help="encode without the C encoder (Pillow + libtiff)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.add_argument("--repeat", type=int, default=31)
    args = parser.parse_args()
    rows = run(args.repeat, heap=not args.default_heap, c_encoder=not args.without_c)
    if args.json:
        print(json.dumps(rows))
        return
    width = max(len(r["figure"]) for r in rows)
    print(f"{'figure':<{width}}  {'median':>9}  {'target':>8}")
    for r in rows:
        print(f"{r['figure']:<{width}}  {r['value']:>6.2f} {r['unit']}  {r['target']:>5.1f} {r['unit']}")


if __name__ == "__main__":
    main()
