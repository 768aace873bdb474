"""Jobs: submit → first raster byte at the printer, and a burst of jobs through an instant printer.

First byte: a virtual printer (appliance.simulator, instant, with its SNMP agent) runs in this
process, its raster sink wrapped so the arrival time of each connection's first byte is
recorded; the server (a separate `appliance serve` process) has one [[printers]] entry pointing
at it. One job at a time on an idle server: time print.submit is sent → first byte arrives,
then wait for the job to complete before the next.

Burst: the server points at a standalone `appliance simulate --speed instant` (a third
process, so printer work is neither in the server nor in the load generator). N jobs are
submitted by a few concurrent clients over TCP with a token; the rate is N / (first submit →
last job completed). Around the burst (after a warm-up) the bench reads the server's RSS,
its write transactions (db.transactions, via bench/_served.py), /proc/PID/io write_bytes
(minus what the server wrote to its log) and the growth of appliance.db + WAL.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp

from appliance.simulator.cli import announced_ports

from .common import (
    BENCH_AUTH,
    PYTHON,
    REPO,
    Server,
    clean_env,
    io_counters,
    median,
    percentile,
    row,
    rss_mb,
    start_server,
    temp_dir,
    write_config,
)

FIRST_BYTE_P50_MS = 15.0
FIRST_BYTE_P99_MS = 50.0
JOBS_PER_S_TARGET = 100.0
RSS_GROWTH_LIMIT = 0.10
TRANSACTIONS_PER_JOB = 3.0


class Rpc:
    """A tiny keep-alive JSON-RPC client for the bench (the token goes in every request)."""

    def __init__(self, server: Server, session: aiohttp.ClientSession) -> None:
        self.endpoint = server.url + "/rpc"
        self.session = session
        self.headers = server.headers()
        self.ids = 0

    def body(self, method: str, params: dict[str, Any] | None = None) -> bytes:
        self.ids += 1
        return json.dumps({"jsonrpc": "2.0", "id": self.ids, "method": method, "params": params or {}}).encode()

    async def send(self, body: bytes) -> Any:
        async with self.session.post(self.endpoint, data=body, headers=self.headers) as response:
            answer = await response.json(content_type=None)
        if "error" in answer:
            raise RuntimeError(f"RPC error: {answer['error']}")
        return answer["result"]

    async def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        return await self.send(self.body(method, params))


def printer_entry(raster_port: int, snmp_port: int) -> dict[str, Any]:
    return {
        "name": "bench",
        "model": "PT-P750W",
        "uri": f"tcp://127.0.0.1:{raster_port}",
        "media": "12mm",
        "snmp": {"enabled": True, "host": "127.0.0.1", "port": snmp_port},
    }


def fields(i: int) -> dict[str, Any]:
    return {"template": "text", "fields": {"text": f"Bin A-{i:04d}", "line2": "bench"}}


# --- submit → first byte --------------------------------------------------------------------------


@contextlib.contextmanager
def first_byte_sinks(arrivals: list[float]) -> Iterator[None]:
    """While active, every new simulator raster sink appends perf_counter() at each connection's first byte."""
    from appliance.simulator import runner
    from appliance.simulator.tcp import RasterSink

    class Reader:
        def __init__(self, reader: asyncio.StreamReader) -> None:
            self.reader = reader
            self.seen = False

        async def read(self, n: int = -1) -> bytes:
            chunk = await self.reader.read(n)
            if chunk and not self.seen:
                self.seen = True
                arrivals.append(time.perf_counter())
            return chunk

    class TimedSink(RasterSink):
        async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await super()._handle(Reader(reader), writer)  # type: ignore[arg-type]

    original = runner.RasterSink
    runner.RasterSink = TimedSink  # type: ignore[misc]
    try:
        yield
    finally:
        runner.RasterSink = original  # type: ignore[misc]


async def _wait_job(rpc: Rpc, job_id: int, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = await rpc.call("job.get", {"job_id": job_id})
        if job["state"] in ("completed", "aborted", "canceled", "stopped"):
            return job
        if time.monotonic() > deadline:
            raise RuntimeError(f"job {job_id} still {job['state']} after {timeout:g} s")
        await asyncio.sleep(0.005)


async def _first_bytes(count: int, tmp: Path) -> tuple[list[float], str, list[str]]:
    from appliance.simulator.runner import Simulator

    arrivals: list[float] = []
    with first_byte_sinks(arrivals):
        sim = Simulator("PT-P750W", "12mm", snmp=("127.0.0.1", 0), out_dir=None, speed=None)
        await sim.start()
    try:
        config = write_config(
            tmp / "bench.toml", {"auth": BENCH_AUTH}, [printer_entry(sim.tcp_address[1], sim.snmp_port or 0)]
        )
        server = await asyncio.to_thread(start_server, tmp / "state", config=config)
        latencies: list[float] = []
        problems: list[str] = []
        try:
            async with aiohttp.ClientSession() as session:
                rpc = Rpc(server, session)
                warm = await rpc.call("print.submit", fields(-1))
                await _wait_job(rpc, warm["id"])
                for i in range(count):
                    await asyncio.sleep(0.02)  # an idle server, as when a person presses print
                    arrivals.clear()
                    body = rpc.body("print.submit", fields(i))
                    sent = time.perf_counter()
                    job = await rpc.send(body)
                    deadline = time.monotonic() + 10
                    while not arrivals and time.monotonic() < deadline:
                        await asyncio.sleep(0.0005)
                    if not arrivals:
                        problems.append(f"job {job['id']}: no byte within 10 s")
                        continue
                    latencies.append(arrivals[0] - sent)
                    done = await _wait_job(rpc, job["id"])
                    if done["state"] != "completed":
                        problems.append(f"job {job['id']} {done['state']}")
        finally:
            await asyncio.to_thread(server.stop)
    finally:
        await sim.stop()
    return latencies, server.token_note, problems


def first_byte_rows(count: int) -> list[dict[str, Any]]:
    with temp_dir("bench-firstbyte-") as tmp:
        latencies, token_note, problems = asyncio.run(_first_bytes(count, tmp))
    p50, p99 = median(latencies) * 1000, percentile(latencies, 99) * 1000
    note = f"{len(latencies)} jobs, one at a time; virtual printer in the bench process (instant, SNMP)"
    if token_note:
        note += f"; {token_note}"
    if problems:
        note += f"; problems: {', '.join(problems[:3])}"
    return [
        row(
            "submit → first raster byte p50",
            round(p50, 2),
            "ms",
            target=f"< {FIRST_BYTE_P50_MS:g} ms",
            ok=p50 < FIRST_BYTE_P50_MS and not problems,
            note=note,
        ),
        row(
            "submit → first raster byte p99",
            round(p99, 2),
            "ms",
            target=f"< {FIRST_BYTE_P99_MS:g} ms",
            ok=p99 < FIRST_BYTE_P99_MS and not problems,
            note=f"max {max(latencies) * 1000:.1f} ms",
        ),
    ]


# --- a burst of jobs -----------------------------------------------------------------------------------


def start_simulate(tmp: Path) -> tuple[subprocess.Popen[str], int, int]:
    """`appliance simulate --speed instant` (no PNG output) on free ports: (process, raster port, SNMP port)."""
    process = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "appliance.cli",
            "simulate",
            "--listen",
            "127.0.0.1:0",
            "--snmp",
            "127.0.0.1:0",
            "--speed",
            "instant",
        ],
        stdout=subprocess.PIPE,
        stderr=(tmp / "simulate.log").open("wb"),
        text=True,
        env=clean_env(),
        cwd=REPO,
    )
    assert process.stdout is not None
    raster, snmp = announced_ports(process.stdout.readline, timeout=30)
    if raster is None or snmp is None:
        process.kill()
        raise RuntimeError("`appliance simulate` did not start")
    # nobody reads its stdout from here on; it prints nothing per job
    return process, raster, snmp


async def _submit_all(rpc: Rpc, count: int, clients: int, offset: int) -> None:
    numbers = iter(range(offset, offset + count))

    async def client() -> None:
        for i in numbers:
            await rpc.call("print.submit", fields(i))

    await asyncio.gather(*(client() for _ in range(clients)))


async def _drained(rpc: Rpc, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        totals = (await rpc.call("queue.status"))["totals"]
        if totals["pending"] == 0 and totals["processing"] == 0:
            return True
        await asyncio.sleep(0.05)
    return False


def _db_bytes(state_dir: Path) -> int:
    return sum(p.stat().st_size for p in state_dir.glob("appliance.db*") if p.is_file())


async def _burst(server: Server, count: int, clients: int, warmup: int) -> dict[str, Any]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=clients + 2)) as session:
        rpc = Rpc(server, session)
        await _submit_all(rpc, warmup, clients, 0)  # lazy imports, caches, the SNMP session: before measuring
        if not await _drained(rpc, 60):
            raise RuntimeError("the warm-up jobs did not drain")
        await asyncio.sleep(0.5)
        before = {
            "rss": rss_mb(server.pid),
            "io": io_counters(server.pid).get("write_bytes", 0),
            "log": server.log_path.stat().st_size,
            "db": _db_bytes(server.state_dir),
            **(await asyncio.to_thread(server.counters)),
        }
        started = time.perf_counter()
        await _submit_all(rpc, count, clients, warmup)
        submitted = time.perf_counter()
        drained = await _drained(rpc, max(60.0, count / 10))
        finished = time.perf_counter()
        await asyncio.sleep(0.5)  # the coalesced queue notification, then quiet
        after = {
            "rss": rss_mb(server.pid),
            "io": io_counters(server.pid).get("write_bytes", 0),
            "log": server.log_path.stat().st_size,
            "db": _db_bytes(server.state_dir),
            **(await asyncio.to_thread(server.counters)),
        }
        summary = await rpc.call("stats.summary", {"days": 1})
    states: dict[str, int] = {}
    for day in summary["per_day"]:
        for state, n in day["jobs"].items():
            states[state] = states.get(state, 0) + n
    return {
        "before": before,
        "after": after,
        "seconds": finished - started,
        "submit_s": submitted - started,
        "drained": drained,
        "states": states,
    }


def burst_rows(count: int, clients: int = 8, warmup: int = 20) -> list[dict[str, Any]]:
    with temp_dir("bench-burst-") as tmp:
        simulate, raster_port, snmp_port = start_simulate(tmp)
        try:
            config = write_config(tmp / "bench.toml", {"auth": BENCH_AUTH}, [printer_entry(raster_port, snmp_port)])
            server = start_server(tmp / "state", config=config, counters=True)
            try:
                result = asyncio.run(_burst(server, count, clients, warmup))
            finally:
                server.stop()
        finally:
            simulate.terminate()
            simulate.wait(10)
    before, after = result["before"], result["after"]
    rate = count / result["seconds"]
    completed = result["states"].get("completed", 0) - warmup
    other = {k: v for k, v in result["states"].items() if k != "completed"}
    note = (
        f"{count} jobs from {clients} concurrent clients over TCP; all submitted after "
        f"{result['submit_s']:.1f} s; {completed} completed"
    )
    if other:
        note += f"; not completed: {other}"
    if not result["drained"]:
        note += "; the queue did not drain in time"
    if server.token_note:
        note += f"; {server.token_note}"
    growth = (after["rss"] - before["rss"]) / before["rss"]
    rows = [
        row(
            f"{count} jobs through an instant virtual printer",
            round(rate, 1),
            "jobs/s",
            target=f"≥ {JOBS_PER_S_TARGET:g} jobs/s",
            ok=rate >= JOBS_PER_S_TARGET and completed == count,
            note=note,
        ),
        row(
            f"server RSS growth over {count} jobs",
            round(growth * 100, 1),
            "%",
            target=f"≤ {RSS_GROWTH_LIMIT:.0%}",
            ok=growth <= RSS_GROWTH_LIMIT,
            note=f"{before['rss']:.1f} MB → {after['rss']:.1f} MB (before = after {warmup} warm-up jobs)",
        ),
    ]
    if "transactions" in before and "transactions" in after:
        per_job = (after["transactions"] - before["transactions"]) / count
        rows.append(
            row(
                "SQLite write transactions per job",
                round(per_job, 2),
                "tx",
                target=f"≤ {TRANSACTIONS_PER_JOB:g}",
                ok=per_job <= TRANSACTIONS_PER_JOB,
                note="db.transactions (COMMITs) over the burst / jobs",
            )
        )
    else:
        rows.append(
            row(
                "SQLite write transactions per job",
                None,
                "tx",
                target=f"≤ {TRANSACTIONS_PER_JOB:g}",
                note="the server's counter could not be read",
            )
        )
    if "snmp_probes" in before and "snmp_probes" in after:
        rows.append(
            row(
                "SNMP probes per job",
                round((after["snmp_probes"] - before["snmp_probes"]) / count, 2),
                "GETs",
                note="the worker reads the printer's page counter as it sends each job, then confirms the label "
                "by it; the monitor polls too",
            )
        )
    written = (after["io"] - before["io"]) - (after["log"] - before["log"])
    db_growth = after["db"] - before["db"]
    rows.append(
        row(
            "bytes written per job",
            round(written / count / 1024, 1),
            "KiB",
            note=f"/proc/PID/io write_bytes minus the server's log; appliance.db + WAL grew "
            f"{db_growth / count / 1024:.1f} KiB/job (raster + preview PNG + timeline are kept)",
        )
    )
    return rows


def run(first_byte_jobs: int = 200, burst_jobs: int = 1000) -> list[dict[str, Any]]:
    return [*first_byte_rows(first_byte_jobs), *burst_rows(burst_jobs)]


if __name__ == "__main__":
    for r in run():
        print(r)
