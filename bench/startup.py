"""Cold start to ready, and the idle RSS of the server.

`appliance serve` as shipped (no printer configured: the embedded virtual printer with its
SNMP agent), spawned with $NOTIFY_SOCKET pointing at a socket of ours: the time from spawn
to `READY=1` is what systemd sees. Once with a fresh state directory (migrations run, the
database is created) and again with the existing one. The baseline is `python -c pass` with
the same interpreter. Idle RSS: VmRSS a few seconds after ready, nothing asked of it.
"""

from __future__ import annotations

import subprocess
import time
from typing import Any

from .common import PYTHON, clean_env, median, row, rss_mb, start_server, temp_dir

START_TARGET_S = 1.0
IDLE_RSS_TARGET_MB = 70.0


def python_pass(runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([PYTHON, "-c", "pass"], check=True, env=clean_env())
        times.append(time.perf_counter() - started)
    return median(times)


def run(runs: int = 5, idle_s: float = 3.0) -> list[dict[str, Any]]:
    baseline = python_pass(runs)
    env = {"APPLIANCE_SIMULATOR_SPEED": "instant"}
    fresh: list[float] = []
    existing: list[float] = []
    idle_rss: float | None = None
    with temp_dir("bench-start-") as tmp:
        for i in range(runs):
            server = start_server(tmp / f"fresh-{i}", env=env, token=False)
            fresh.append(server.ready_s)
            server.stop()
        state = tmp / "fresh-0"
        for i in range(runs):
            server = start_server(state, env=env, token=False)
            existing.append(server.ready_s)
            if i == runs - 1:
                time.sleep(idle_s)
                idle_rss = rss_mb(server.pid)
            server.stop()
    cold, warm = median(fresh), median(existing)
    note = f"median of {runs}; spawn → READY=1 on $NOTIFY_SOCKET; embedded virtual printer (default install)"
    return [
        row(
            "cold start to ready, fresh state dir",
            round(cold, 3),
            "s",
            target=f"< {START_TARGET_S:g} s",
            ok=cold < START_TARGET_S,
            baseline=round(baseline, 3),
            ratio=round(baseline / cold, 3),
            note=note + "; migrations run; baseline: python -c pass",
        ),
        row(
            "cold start to ready, existing state dir",
            round(warm, 3),
            "s",
            target=f"< {START_TARGET_S:g} s",
            ok=warm < START_TARGET_S,
            baseline=round(baseline, 3),
            ratio=round(baseline / warm, 3),
            note=note,
        ),
        row(
            "idle RSS of the server",
            None if idle_rss is None else round(idle_rss, 1),
            "MB",
            target=f"< {IDLE_RSS_TARGET_MB:g} MB",
            ok=idle_rss is not None and idle_rss < IDLE_RSS_TARGET_MB,
            note=f"VmRSS {idle_s:g} s after ready; default install (embedded virtual printer + its SNMP agent)",
        ),
    ]


if __name__ == "__main__":
    for r in run():
        print(r)
