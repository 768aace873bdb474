"""bench/raster.py produces a row per reference label, with the ptouch baseline where ptouch has the model.

The speed itself is reported by the bench, never asserted here (no wall-clock figures in tests)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from appliance.printer.models import get_model

BENCH = Path(__file__).resolve().parents[2] / "bench" / "raster.py"


def test_bench_rows_and_speedup_over_ptouch() -> None:
    spec = importlib.util.spec_from_file_location("bench_raster", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)

    rows = bench.run(repeat=3)
    assert len(rows) == len(bench.REFERENCES)
    for row in rows:
        assert set(row) == {"figure", "value", "unit", "baseline", "ratio"}
        assert row["value"] > 0 and row["unit"] == "ms"
    compared = [row for row in rows if row["baseline"] is not None]
    assert len(compared) == 4, "ptouch (the bench extra) must be installed for the baseline"
    assert all(row["baseline"] > 0 and row["ratio"] > 0 for row in compared)


def test_min_length_dots() -> None:
    assert get_model("PT-P750W").min_length_dots == 31
