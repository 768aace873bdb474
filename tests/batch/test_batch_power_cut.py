"""SIGKILL the appliance half way through a 200-row batch, start it again: every row printed exactly once."""

from __future__ import annotations

import asyncio
import hashlib
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

from rpc.client import RpcClient
from tests.queue.test_power_cut import config
from tests.support import start_server, start_simulator, stop_server

ROWS = 200


async def call(socket: Path, method: str, params: dict[str, Any]) -> Any:
    async with RpcClient(socket_path=str(socket)) as rpc:
        return await rpc.call(method, params)


def test_sigkill_mid_batch_prints_every_row_exactly_once(state_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "labels"
    simulator, raster, snmp = start_simulator(out, "--speed", "1200")  # ~30 ms a label: the kill lands mid-batch
    try:
        cfg = config(tmp_path / "appliance.toml", raster, snmp)
        server, _ = start_server(state_dir, "--config", str(cfg))
        socket = state_dir / "rpc.sock"
        rows = [{"text": f"Regal {n}"} for n in range(1, ROWS + 1)]
        answer = asyncio.run(call(socket, "print.batch", {"template": "text", "rows": rows,
                                                          "idempotency_key": "rack-1"}))
        batch_id = answer["batch_id"]
        deadline = time.monotonic() + 60
        while asyncio.run(call(socket, "batch.get", {"batch_id": batch_id}))["counts"]["completed"] < 20:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        code, _ = stop_server(server, signal.SIGKILL)
        assert code == -signal.SIGKILL
        with sqlite3.connect(state_dir / "appliance.db") as conn:
            done_before = conn.execute("SELECT COUNT(*) FROM jobs WHERE state = 'completed'").fetchone()[0]
        assert 0 < done_before < ROWS  # the kill really landed half way

        server, _ = start_server(state_dir, "--config", str(cfg))
        try:
            # the script that lost its answer sends the batch again: the same batch, not a second one
            again = asyncio.run(call(socket, "print.batch", {"template": "text", "rows": rows,
                                                             "idempotency_key": "rack-1"}))
            assert again["batch_id"] == batch_id and again["duplicate"] is True
            deadline = time.monotonic() + 90
            while not (batch := asyncio.run(call(socket, "batch.get", {"batch_id": batch_id})))["done"]:
                assert time.monotonic() < deadline, batch
                time.sleep(0.2)
            jobs = asyncio.run(call(socket, "job.list", {"batch_id": batch_id, "limit": 500}))["jobs"]
        finally:
            stop_server(server)
    finally:
        simulator.send_signal(signal.SIGTERM)
        simulator.communicate(timeout=20)
    assert sorted(j["row"] for j in jobs) == list(range(1, ROWS + 1))  # one job per row, no more
    counts = batch["counts"]
    interrupted = sum(1 for j in jobs if j["reasons"] == ["interrupted"])
    assert counts["completed"] + interrupted == ROWS, counts  # every row accounted for
    assert interrupted <= 1, counts  # at most the one in flight at the kill, for a person to check
    labels = list(out.glob("*.png"))
    assert counts["completed"] <= len(labels) <= counts["completed"] + interrupted
    assert len({hashlib.sha256(p.read_bytes()).digest() for p in labels}) == len(labels)  # no row came out twice
