"""`python -m bench` plumbing on tiny counts: every row is there and has a value. No wall-clock assertions."""

from __future__ import annotations

import pytest

from bench import __main__ as bench_main
from bench import labels as labels_bench
from bench import raster as raster_bench
from bench import rpc_load
from bench.common import percentile, write_config

TINY = bench_main.Profile(
    rpc_seconds=0.2,
    rpc_warmup=0.05,
    rpc_rounds=1,
    repeat=1,
    first_byte_jobs=3,
    burst_jobs=10,
    start_runs=1,
    idle_s=0.2,
    tui_repeats=1,
    batch_rows=10,
    ipp_jobs=2,
    ipp_pages=3,
)

EXPECTED = {  # figure prefix → how many rows
    "printer.status req/s": len(rpc_load.LEVELS),
    "printer.status p50 / p99": len(rpc_load.LEVELS),
    "label.preview ": len(labels_bench.FIELDS),
    "render+encode ": len(labels_bench.FIELDS) * len(labels_bench.TAPES),
    "encode ": len(raster_bench.REFERENCES),
    "submit → first raster byte": 2,
    "USB raw job write → first byte": 1,
    "USB label out → 'printing completed' read": 1,
    "10 jobs through an instant virtual printer": 1,
    "server RSS growth": 1,
    "SQLite write transactions per job": 1,
    "bytes written per job": 1,
    "cold start to ready": 2,
    "idle RSS of the server": 1,
    "print.batch of 10 rows": 1,
    "RSS growth of the server during a 10-row print.batch": 1,
    "printer.status p99 while a batch renders": 1,
    "IPP Print-Job (1-page PDF) → first raster byte p50": 1,
    "IPP Get-Printer-Attributes p50": 1,
    "IPP: server RSS growth printing a 3-page PDF": 1,
    "printer.status over TLS req/s": 1,
    "TLS handshake": 1,
    "/metrics scrape": 1,
    "printer.discover of 127.0.0.0/24": 2,
    "virtual printer start → ": 2,
    "SNMP agent: GET of ": 2,
}


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return bench_main.collect(TINY)


def test_every_row_is_there_with_a_value(rows: list[dict]) -> None:
    failed = [r for r in rows if "FAILED" in r["note"]]
    assert not failed, failed
    for prefix, count in EXPECTED.items():
        found = [r for r in rows if r["figure"].startswith(prefix)]
        assert len(found) == count, (prefix, [r["figure"] for r in rows])
        assert all(r["value"] is not None for r in found), found
    tui = [r for r in rows if r["figure"].lower().startswith("tui start")]
    assert tui, [r["figure"] for r in rows]


def test_rows_with_a_baseline_have_a_ratio(rows: list[dict]) -> None:
    for r in rows:
        if r["baseline"] is not None:
            assert r["ratio"] is not None and r["ratio"] > 0, r
        assert r["ok"] in (True, False, None)


def test_the_table_names_every_figure(rows: list[dict]) -> None:
    for markdown in (False, True):
        text = bench_main.table(rows, markdown=markdown)
        for r in rows:
            assert r["figure"] in text
    assert "targets met" in bench_main.summary(rows)


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([3.0], 99) == 3.0


def test_config_writer_round_trips(tmp_path) -> None:
    import tomllib

    path = write_config(
        tmp_path / "c.toml",
        {"auth": {"rate_per_s": 1.5, "trust_loopback": False}},
        [{"name": "p", "uri": "tcp://127.0.0.1:9100", "snmp": {"enabled": True, "port": 161}}],
    )
    data = tomllib.loads(path.read_text())
    assert data["auth"] == {"rate_per_s": 1.5, "trust_loopback": False}
    assert data["printers"][0]["snmp"] == {"enabled": True, "port": 161}


def test_the_validator_comparison_runs_and_schema_py_is_its_own_reference() -> None:
    from bench import validators

    rows = validators.in_process_rows(repeat=1)
    compared = [r for r in rows if r["figure"].startswith("params validation, ")]
    assert [r["figure"].split(",")[1].split(":")[0].strip() for r in compared] == list(validators.CANDIDATES)
    assert all(len(r["value"]) == 3 and min(r["value"]) > 0 for r in compared)
    total = len(validators.BAD)
    assert f"same field and reason in {total}/{total}" in compared[0]["note"]
