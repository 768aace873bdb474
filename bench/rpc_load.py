"""`printer.status` over TCP with a token, against a bare aiohttp + jsonrpcserver `ping` baseline.

Both servers are separate processes; the same load generator drives both from this process:
for each concurrency level, one aiohttp ClientSession (keep-alive, one connection per client)
and N tasks posting back to back for a fixed time. Requests/s counts answers that arrived in
the window; latency is per request, client side. On a 2-core machine the client competes with
the server for CPU, which is why the ratio to the baseline (same client, same machine) is the
figure to read, more than the absolute requests/s.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from typing import Any

import aiohttp

from .common import (
    BENCH_AUTH,
    PYTHON,
    REPO,
    clean_env,
    cpu_seconds,
    median,
    percentile,
    row,
    start_server,
    temp_dir,
    write_config,
)

LEVELS = (1, 16, 64)
TURN_WARMUP_S = 0.1  # each turn re-fills the pipeline before counting
P99_TARGET_MS = 5.0
LATENCY_NOTE = (
    "client-side latency; ratio on p99 (baseline ÷ ours); at 64 clients both servers are CPU-bound "
    "and latency is queueing"
)


async def window(
    session: aiohttp.ClientSession, url: str, body: bytes, clients: int, seconds: float, warmup: float
) -> tuple[list[float], int, float]:
    """N clients posting `body` back to back; counts what completes in `seconds` after `warmup`.

    Returns (latencies of good answers, errors, counted seconds).
    """
    latencies: list[float] = []
    errors = 0
    counting = False
    stop = False

    async def client() -> None:
        nonlocal errors
        while not stop:
            started = time.perf_counter()
            try:
                async with session.post(url, data=body) as response:
                    payload = await response.read()
                    good = response.status == 200 and b'"result"' in payload
            except aiohttp.ClientError:
                good = False
            if counting and not stop:
                if good:
                    latencies.append(time.perf_counter() - started)
                else:
                    errors += 1

    tasks = [asyncio.create_task(client()) for _ in range(clients)]
    await asyncio.sleep(warmup)
    counting = True
    window_start = time.perf_counter()
    await asyncio.sleep(seconds)
    stop = True
    counted = time.perf_counter() - window_start
    await asyncio.gather(*tasks)
    return latencies, errors, counted


class Side:
    """One server under load at one concurrency level: its keep-alive session and what was counted."""

    def __init__(self, url: str, body: bytes, headers: dict[str, str], clients: int, pid: int,
                 ssl: Any = True) -> None:
        self.url, self.body, self.clients, self.pid = url, body, clients, pid
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=clients, ssl=ssl), headers=headers)
        self.latencies: list[float] = []
        self.errors = 0
        self.seconds = 0.0  # counted
        self.wall = 0.0  # counted + warm-up, for the server's CPU share
        self.cpu = 0.0

    async def measure(self, seconds: float, warmup: float) -> None:
        cpu0, wall0 = cpu_seconds(self.pid), time.perf_counter()
        latencies, errors, counted = await window(self.session, self.url, self.body, self.clients, seconds, warmup)
        if seconds:
            self.cpu += cpu_seconds(self.pid) - cpu0
            self.wall += time.perf_counter() - wall0
            self.latencies += latencies
            self.errors += errors
            self.seconds += counted

    def result(self) -> dict[str, Any]:
        counted = len(self.latencies)
        return {
            "rps": counted / max(1e-9, self.seconds),
            "p50_ms": median(self.latencies) * 1000,
            "p99_ms": percentile(self.latencies, 99) * 1000,
            "errors": self.errors,
            "requests": counted,
            "server_cpu": self.cpu / max(1e-9, self.wall),
        }


def _baseline_process() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [PYTHON, "-m", "bench.baseline_server"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=clean_env(),
        cwd=REPO,
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line.startswith("http://"):
        process.kill()
        raise RuntimeError("the baseline server did not start")
    return process, line


def _rpc(method: str) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "method": method, "id": 1}).encode()


async def _measure_all(
    ours_url: str,
    ours_headers: dict[str, str],
    ours_pid: int,
    base_url: str,
    base_pid: int,
    seconds: float,
    warmup: float,
    rounds: int,
    levels: tuple[int, ...],
) -> list[Any]:
    """Per level, ours and the baseline take turns (`rounds` windows each), so a noisy moment on a shared
    machine hurts both sides alike; requests/s is what was counted over the summed windows."""
    results = []
    for clients in levels:
        ours = Side(ours_url + "/rpc", _rpc("printer.status"), ours_headers, clients, ours_pid)
        base = Side(base_url + "/rpc", _rpc("ping"), {"Content-Type": "application/json"}, clients, base_pid)
        try:
            for side in (ours, base):
                await side.measure(0.0, warmup)  # open the connections, warm both servers
            for _ in range(rounds):
                for side in (ours, base):
                    await side.measure(seconds / rounds, TURN_WARMUP_S)
        finally:
            await ours.session.close()
            await base.session.close()
        results.append((clients, ours.result(), base.result()))
    return results


def run(
    seconds: float = 3.0, warmup: float = 0.5, rounds: int = 3, levels: tuple[int, ...] = LEVELS
) -> list[dict[str, Any]]:
    with temp_dir("bench-rpc-") as tmp:
        config = write_config(tmp / "bench.toml", {"auth": BENCH_AUTH})
        server = start_server(tmp / "state", config=config, env={"APPLIANCE_SIMULATOR_SPEED": "instant"})
        baseline, base_url = _baseline_process()
        try:
            results = asyncio.run(
                _measure_all(
                    server.url, server.headers(), server.pid, base_url, baseline.pid, seconds, warmup, rounds, levels
                )
            )
        finally:
            server.stop()
            baseline.terminate()
            baseline.wait(10)
    rows = []
    token_note = server.token_note or "with a bearer token"
    for clients, ours, base in results:
        note = f"{token_note}; server CPU {ours['server_cpu']:.0%} of a core vs baseline {base['server_cpu']:.0%}"
        if ours["errors"] or base["errors"]:
            note += f"; errors: ours {ours['errors']}, baseline {base['errors']}"
        rows.append(
            row(
                f"printer.status req/s, {clients} client{'s' if clients > 1 else ''}",
                round(ours["rps"]),
                "req/s",
                target="≥ 1.0× baseline",
                ok=ours["rps"] >= base["rps"] and not ours["errors"],
                baseline=round(base["rps"]),
                ratio=round(ours["rps"] / base["rps"], 2),
                note=note,
            )
        )
        p99_target = f"< {P99_TARGET_MS:g} ms" if clients == 16 else "—"
        rows.append(
            row(
                f"printer.status p50 / p99, {clients} client{'s' if clients > 1 else ''}",
                (round(ours["p50_ms"], 2), round(ours["p99_ms"], 2)),
                "ms",
                target=p99_target,
                ok=(ours["p99_ms"] < P99_TARGET_MS) if clients == 16 else None,
                baseline=(round(base["p50_ms"], 2), round(base["p99_ms"], 2)),
                ratio=round(base["p99_ms"] / ours["p99_ms"], 2),
                note=LATENCY_NOTE,
            )
        )
    return rows


if __name__ == "__main__":
    for r in run():
        print(r)
