"""`python -m bench`: every performance figure of the appliance in one table.

    python -m bench            the full run (a few minutes on a 2-core machine)
    python -m bench --quick    a smoke run: the same rows on small counts and short windows
    python -m bench --json F   also write the rows as JSON

Each row: the figure, its value, its target on this machine, the baseline measured in the
same run and the ratio to it, and whether the target is met. Servers are real `appliance
serve` processes on loopback with temporary state directories; every load stops by itself.
A Raspberry Pi is 6–10× slower than the machine these targets are set for.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import discovery, ipp, jobs, render, rpc_load, simulator_start, startup, tls_metrics, usb
from bench.common import row


@dataclass(frozen=True)
class Profile:
    rpc_seconds: float
    rpc_warmup: float
    rpc_rounds: int
    repeat: int
    first_byte_jobs: int
    burst_jobs: int
    start_runs: int
    idle_s: float
    tui_repeats: int
    batch_rows: int = 1000
    ipp_jobs: int = 30
    ipp_pages: int = 100


FULL = Profile(
    rpc_seconds=3.0,
    rpc_warmup=0.5,
    rpc_rounds=3,
    repeat=31,
    first_byte_jobs=200,
    burst_jobs=1000,
    start_runs=5,
    idle_s=3.0,
    tui_repeats=5,
)
QUICK = Profile(
    rpc_seconds=0.5,
    rpc_warmup=0.2,
    rpc_rounds=1,
    repeat=7,
    first_byte_jobs=30,
    burst_jobs=100,
    start_runs=1,
    idle_s=1.0,
    tui_repeats=1,
    batch_rows=100,
    ipp_jobs=5,
    ipp_pages=20,
)


def tui_rows(repeats: int) -> list[dict[str, Any]]:
    """bench/tui_start.py (the TUI's own bench) when it exists: TUI start → first painted status."""
    try:
        from bench import tui_start
    except ImportError:
        return [
            row(
                "TUI start to first painted status",
                None,
                "s",
                target="< 1 s",
                note="not measured: bench/tui_start.py is not there yet (the TUI is being built)",
            )
        ]
    note = (
        "bench/tui_start.py: `appliance tui` in an 80×24 pty against `appliance serve`; median of "
        f"{repeats} after one warm-up start"
    )
    return [normalize(found, note) for found in tui_start.run(repeats=repeats)]


def batch_rows(count: int) -> list[dict[str, Any]]:
    """bench/batches.py: print.batch of `count` rows, the server's RSS and printer.status meanwhile."""
    from bench import batches

    return batches.run(count)


def normalize(found: dict[str, Any], note: str = "") -> dict[str, Any]:
    """A row from another bench module in this table's shape; a target of N or "< N" means below N."""
    target = found.get("target")
    value = found.get("value")
    unit = found.get("unit", "")
    ok = found.get("ok")
    limit: float | None = None
    if isinstance(target, (int, float)) and not isinstance(target, bool):
        limit = float(target)
    elif isinstance(target, str) and target.strip().startswith("<"):
        try:
            limit = float(target.strip().lstrip("<").split()[0])
        except (ValueError, IndexError):
            limit = None
    if limit is not None:
        if ok is None and isinstance(value, (int, float)):
            ok = value < limit
        target = f"< {limit:g} {unit}".strip()
    elif not target or str(target).strip() in ("-", "—"):
        target = "—"
    return row(
        found.get("figure", "?"),
        value,
        unit,
        target=str(target),
        ok=ok,
        baseline=found.get("baseline"),
        ratio=found.get("ratio"),
        note=found.get("note") or note,
    )


def sections(profile: Profile) -> list[tuple[str, Callable[[], list[dict[str, Any]]]]]:
    return [
        (
            "printer.status over TCP vs aiohttp + jsonrpcserver",
            lambda: rpc_load.run(seconds=profile.rpc_seconds, warmup=profile.rpc_warmup, rounds=profile.rpc_rounds),
        ),
        (
            "printer.status over TLS vs plain, handshake, /metrics",
            lambda: tls_metrics.run(
                seconds=profile.rpc_seconds, warmup=profile.rpc_warmup, rounds=profile.rpc_rounds,
                handshakes=20 if profile is QUICK else 100, scrapes=20 if profile is QUICK else 200,
            ),
        ),
        ("label.preview, render+encode, encode vs ptouch", lambda: render.run(repeat=profile.repeat)),
        ("submit → first byte", lambda: jobs.first_byte_rows(profile.first_byte_jobs)),
        ("USB: job write → first byte, label out → confirmed", lambda: usb.run(profile.first_byte_jobs)),
        (f"{profile.burst_jobs} jobs, RSS, transactions, bytes", lambda: jobs.burst_rows(profile.burst_jobs)),
        (f"print.batch of {profile.batch_rows} rows", lambda: batch_rows(profile.batch_rows)),
        ("cold start, idle RSS", lambda: startup.run(runs=profile.start_runs, idle_s=profile.idle_s)),
        ("virtual printer start, SNMP agent",
         lambda: simulator_start.run(runs=profile.start_runs, repeat=profile.repeat)),
        ("TUI start", lambda: tui_rows(profile.tui_repeats)),
        ("IPP: Print-Job first byte, Get-Printer-Attributes, RSS over a long PDF",
         lambda: ipp.run(count=profile.ipp_jobs, pages=profile.ipp_pages)),
        ("printer.discover of a loopback /24", lambda: discovery.run(repeat=profile.rpc_rounds)),
    ]


def collect(profile: Profile, progress: Callable[[str], None] = lambda _: None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for title, measure in sections(profile):
        started = time.perf_counter()
        progress(f"bench: {title} …")
        try:
            rows += measure()
        except Exception as exc:  # one broken section must not hide the others
            rows.append(row(title, None, "", ok=False, note=f"FAILED: {type(exc).__name__}: {exc}"[:300]))
        progress(f"bench: {title} done in {time.perf_counter() - started:.1f} s")
    return rows


# --- the table ---------------------------------------------------------------------------------------


def _number(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, (tuple, list)):
        return " / ".join(_number(v) for v in value)
    if isinstance(value, float):
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}".rstrip("0").rstrip(".")
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def cells(r: dict[str, Any]) -> list[str]:
    unit = f" {r['unit']}" if r.get("unit") and r["value"] is not None else ""
    baseline = _number(r["baseline"]) + (f" {r['unit']}" if r["baseline"] is not None and r.get("unit") else "")
    ratio = "—" if r["ratio"] is None else f"{r['ratio']:g}×"
    verdict = {True: "pass", False: "FAIL", None: ""}[r["ok"]]
    return [r["figure"], _number(r["value"]) + unit, r["target"], baseline, ratio, verdict]


LEGEND = (
    "ratio > 1 means better than the baseline: rates are ours ÷ baseline, times are baseline ÷ ours "
    '(so the encoder rows read as "× faster than ptouch").'
)
HEADER = ["figure", "value", "target", "baseline (same run)", "ratio", ""]


def table(rows: list[dict[str, Any]], *, markdown: bool = False) -> str:
    body = [cells(r) for r in rows]
    notes: dict[str, int] = {}
    for r, line in zip(rows, body, strict=True):
        if r.get("note"):
            number = notes.setdefault(r["note"], len(notes) + 1)
            line[0] += f" [{number}]"
    if markdown:
        lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in line) + " |" for line in body]
    else:
        widths = [max(len(line[i]) for line in [HEADER, *body]) for i in range(len(HEADER))]
        fmt = lambda line: "  ".join(  # noqa: E731
            c.ljust(w) if i in (0, 2) else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True))
        )
        lines = [fmt(HEADER), "  ".join("-" * w for w in widths), *[fmt(line) for line in body]]
    lines.append("")
    lines.append(("- " if markdown else "") + LEGEND)
    prefix = "- " if markdown else ""
    lines += [f"{prefix}[{i}] {note}" for note, i in notes.items()]
    return "\n".join(lines)


def summary(rows: list[dict[str, Any]]) -> str:
    passed = sum(r["ok"] is True for r in rows)
    failed = [r["figure"] for r in rows if r["ok"] is False]
    text = f"{passed} targets met, {len(failed)} missed"
    return text + (": " + "; ".join(failed) if failed else "")


def context() -> str:
    cpus = os.cpu_count()
    return (
        f"Python {sys.version.split()[0]}, {cpus} CPU(s). Load generator, servers and virtual printers share "
        f"these CPUs: on 2 cores the client competes with the server, so read the RPC rows as ratios to the "
        f"baseline (same client, same machine). Load rows run with the rate limit and per-address connection cap "
        f"raised (defaults: 50 req/s, 64 connections); everything else is the default configuration."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short windows and small counts (a smoke run)")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    args = parser.parse_args(argv)
    profile = QUICK if args.quick else FULL
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    rows = collect(profile, progress=lambda text: print(text, file=sys.stderr, flush=True))
    print(table(rows, markdown=args.markdown))
    print()
    print(context())
    print(
        f"Load average (1 min) before the run {load_before:.2f}, after it {os.getloadavg()[0]:.2f}: anything else "
        "running on the machine skews every figure."
    )
    print(f"{'quick' if args.quick else 'full'} run in {time.perf_counter() - started:.0f} s; {summary(rows)}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
