"""print.batch: N rows validated, rendered and stored in one call; the server's memory and loop meanwhile.

A real `appliance serve` (its embedded virtual PT-P750W, 12 mm) takes one print.batch of N
`text` labels, held (so the printer's work does not mix into the figure: what is measured is
validate + render + encode + store). While the call runs, one client asks printer.status over
and over (the event loop must keep answering while the rows are drawn on the drawing thread)
and the server's RSS is sampled every 20 ms; the growth is the peak during the call over the
RSS before it (after a warm-up batch of 20 rows).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp

from .common import BENCH_AUTH, percentile, row, rss_mb, start_server, temp_dir, write_config
from .jobs import Rpc

SECONDS_TARGET = 2.0
RSS_GROWTH_MB = 60.0
STATUS_P99_MS = 20.0


def rows_of(count: int, offset: int = 0) -> list[dict[str, str]]:
    return [{"text": f"Regal {i // 40 + 1} Fach {i % 40 + 1}", "line2": f"Lieferung {i:05d}"}
            for i in range(offset, offset + count)]


async def _measure(server: Any, count: int) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session:
        rpc = Rpc(server, session)
        await rpc.call("print.batch", {"template": "text", "rows": rows_of(20), "hold": True})  # warm-up
        await rpc.call("printer.status")
        await asyncio.sleep(0.3)
        before = rss_mb(server.pid)
        peak = before
        status_ms: list[float] = []
        done = asyncio.Event()

        async def poll_status() -> None:
            while not done.is_set():
                started = time.perf_counter()
                await rpc.call("printer.status")
                status_ms.append((time.perf_counter() - started) * 1000)
                await asyncio.sleep(0.005)

        async def sample_rss() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, rss_mb(server.pid))
                await asyncio.sleep(0.02)

        helpers = [asyncio.ensure_future(poll_status()), asyncio.ensure_future(sample_rss())]
        started = time.perf_counter()
        answer = await rpc.call("print.batch", {"template": "text", "rows": rows_of(count, 20), "hold": True})
        seconds = time.perf_counter() - started
        done.set()
        await asyncio.gather(*helpers)
        peak = max(peak, rss_mb(server.pid))
    return {"seconds": seconds, "before": before, "peak": peak, "status_ms": status_ms, "jobs": len(answer["jobs"])}


def run(count: int = 1000) -> list[dict[str, Any]]:
    with temp_dir("bench-batch-") as tmp:
        config = write_config(tmp / "bench.toml", {"auth": BENCH_AUTH, "simulator": {"speed": "instant"}})
        server = start_server(tmp / "state", config=config)
        try:
            found = asyncio.run(_measure(server, count))
        finally:
            server.stop()
    growth = found["peak"] - found["before"]
    p99 = percentile(found["status_ms"], 99)
    note = (f"{count} rows of the text template for a PT-P750W with 12 mm tape, held; {found['jobs']} jobs stored "
            "in one transaction")
    return [
        row(f"print.batch of {count:,} rows (validate + render + store)", round(found["seconds"], 2), "s",
            target=f"< {SECONDS_TARGET:g} s", ok=found["seconds"] < SECONDS_TARGET and found["jobs"] == count,
            note=note),
        row(f"RSS growth of the server during a {count:,}-row print.batch", round(growth, 1), "MB",
            target=f"< {RSS_GROWTH_MB:g} MB", ok=growth < RSS_GROWTH_MB,
            note=f"{found['before']:.1f} MB before → peak {found['peak']:.1f} MB, sampled every 20 ms"),
        row("printer.status p99 while a batch renders", round(p99, 2), "ms", target=f"< {STATUS_P99_MS:g} ms",
            ok=p99 < STATUS_P99_MS,
            note=f"{len(found['status_ms'])} printer.status calls over TCP during the print.batch call"),
    ]


if __name__ == "__main__":
    for r in run():
        print(r)
