"""TLS and /metrics: `printer.status` over TLS against plain HTTP in the same run, the TLS handshake,
and the cost of a /metrics scrape.

Two `appliance serve` processes, one with `[server] tls = "self-signed"`, one plain, driven by the same
load generator (bench/rpc_load.py's Side) in alternating windows, so a noisy moment hurts both alike.
The TLS client pins the server's certificate as `appliance call` does (aiohttp.Fingerprint).
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from typing import Any

import aiohttp

from .common import BENCH_AUTH, median, percentile, row, rss_mb, start_server, temp_dir, write_config
from .rpc_load import TURN_WARMUP_S, Side

CLIENTS = 16
TLS_RATIO_TARGET = 0.7
SCRAPE_P50_TARGET_MS = 10.0
STATUS = json.dumps({"jsonrpc": "2.0", "method": "printer.status", "id": 1}).encode()


async def _load(plain: Any, tls: Any, pin: Any, seconds: float, warmup: float, rounds: int) -> tuple[dict, dict]:
    ours = Side(tls.url + "/rpc", STATUS, tls.headers(), CLIENTS, tls.pid, ssl=pin)
    base = Side(plain.url + "/rpc", STATUS, plain.headers(), CLIENTS, plain.pid)
    try:
        for side in (ours, base):
            await side.measure(0.0, warmup)
        for _ in range(rounds):
            for side in (ours, base):
                await side.measure(seconds / rounds, TURN_WARMUP_S)
    finally:
        await ours.session.close()
        await base.session.close()
    return ours.result(), base.result()


async def _connect_times(host: str, port: int, tls: bool, count: int) -> list[float]:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    times = []
    for _ in range(count):
        started = time.perf_counter()
        _, writer = await asyncio.open_connection(host, port, ssl=context if tls else None)
        times.append(time.perf_counter() - started)
        writer.close()
        await writer.wait_closed()
    return times


async def _scrapes(server: Any, count: int) -> tuple[float, list[float], float, float]:
    """(first scrape s, later scrapes s, RSS before the first, RSS after all) over TCP with the token."""
    before = rss_mb(server.pid)
    times = []
    async with aiohttp.ClientSession(headers=server.headers()) as session:
        for _ in range(count + 1):
            started = time.perf_counter()
            async with session.get(server.url + "/metrics") as response:
                await response.read()
                assert response.status == 200, response.status
            times.append(time.perf_counter() - started)
    return times[0], times[1:], before, rss_mb(server.pid)


def _cpu_us(result: dict[str, Any]) -> float:
    """The server's CPU time per answered call, in µs: TLS's cost on the appliance itself."""
    return result["server_cpu"] / max(1e-9, result["rps"]) * 1e6


def run(seconds: float = 3.0, warmup: float = 0.5, rounds: int = 3, handshakes: int = 100,
        scrapes: int = 200) -> list[dict[str, Any]]:
    from rpc.trust import fingerprint_of_pem, parse_fingerprint

    with temp_dir("bench-tls-") as tmp:
        config = write_config(tmp / "bench.toml", {"auth": BENCH_AUTH})
        env = {"APPLIANCE_SIMULATOR_SPEED": "instant"}
        plain = start_server(tmp / "plain", config=config, env=env)
        tls = start_server(tmp / "tls", config=config, env={**env, "APPLIANCE_SERVER_TLS": "self-signed"})
        try:
            pin = aiohttp.Fingerprint(parse_fingerprint(fingerprint_of_pem((tmp / "tls" / "tls" / "cert.pem")
                                                                            .read_text())))
            ours, base = asyncio.run(_load(plain, tls, pin, seconds, warmup, rounds))
            host, port = tls.url.removeprefix("https://").rsplit(":", 1)
            plain_host, plain_port = plain.url.removeprefix("http://").rsplit(":", 1)
            shakes = asyncio.run(_connect_times(host, int(port), True, handshakes))
            connects = asyncio.run(_connect_times(plain_host, int(plain_port), False, handshakes))
            first, later, rss_before, rss_after = asyncio.run(_scrapes(plain, scrapes))
        finally:
            plain.stop()
            tls.stop()
    ratio = ours["rps"] / max(1e-9, base["rps"])
    errors = f"; errors: TLS {ours['errors']}, plain {base['errors']}" if ours["errors"] or base["errors"] else ""
    return [
        row(f"printer.status over TLS req/s, {CLIENTS} clients", round(ours["rps"]), "req/s",
            target=f"≥ {TLS_RATIO_TARGET:g}× plain", ok=ratio >= TLS_RATIO_TARGET and not ours["errors"],
            baseline=round(base["rps"]), ratio=round(ratio, 2),
            note="keep-alive connections, the certificate pinned as `appliance call` pins it; baseline: the same "
                 f"calls over plain HTTP to another server in the same run; p50 {ours['p50_ms']:.2f} ms vs "
                 f"{base['p50_ms']:.2f} ms; server CPU per call {_cpu_us(ours):.0f} µs vs {_cpu_us(base):.0f} µs "
                 f"(the load generator pays for TLS too, on the same cores){errors}"),
        row("TLS handshake (ECDSA P-256, TLS 1.3), p50 / p99",
            (round(median(shakes) * 1000, 2), round(percentile(shakes, 99) * 1000, 2)), "ms",
            baseline=(round(median(connects) * 1000, 2), round(percentile(connects, 99) * 1000, 2)),
            ratio=round(median(connects) / max(1e-9, median(shakes)), 2),
            note=f"{handshakes} new connections one after another, client and server on the same 2 cores; "
                 "baseline: a plain TCP connect"),
        row("/metrics scrape p50 / p99", (round(median(later) * 1000, 2), round(percentile(later, 99) * 1000, 2)),
            "ms", target=f"< {SCRAPE_P50_TARGET_MS:g} ms", ok=median(later) * 1000 < SCRAPE_P50_TARGET_MS,
            note=f"{scrapes} scrapes over TCP with a token, after the first; the first (which imports "
                 f"prometheus_client) took {first * 1000:.0f} ms and grew the server's RSS "
                 f"{rss_before:.1f} → {rss_after:.1f} MB"),
    ]


if __name__ == "__main__":
    for r in run():
        print(r)
