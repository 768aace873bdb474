"""bench/raster.py produces a row per reference label, with the ptouch baseline where ptouch has the model
(for the other models, our encoder without its C part).

The speed itself is reported by the bench, never asserted here (no wall-clock figures in tests)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from appliance.printer import raster
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
        assert set(row) == {"figure", "value", "unit", "baseline", "baseline_of", "ratio"}
        assert row["value"] > 0 and row["unit"] == "ms"
    compared = [row for row in rows if row["baseline_of"] == "ptouch"]
    assert len(compared) == 4, "ptouch (the bench extra) must be installed for the baseline"
    assert all(row["baseline"] > 0 and row["ratio"] > 0 for row in compared)
    # QL rows, which ptouch lacks, are held to our encoder without its C part where that was built
    own = [row for row in rows if row["baseline_of"] == "without C"]
    assert len(own) == (2 if raster._native_lines is not None else 0)
    assert all(row["baseline"] > 0 and row["ratio"] > 0 and "QL" in row["figure"] for row in own)
    assert raster._native_lines is not None or all(row["baseline"] is None for row in rows if "QL" in row["figure"])


def test_min_length_dots() -> None:
    assert get_model("PT-P750W").min_length_dots == 31
