"""Kill the server with SIGKILL while 200 jobs drain, start it again: none lost, none printed twice."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path
from typing import Any

from rpc.client import RpcClient
from tests.support import start_server, start_simulator, stop_server

JOBS = 200


def config(path: Path, raster: int, snmp: int) -> Path:
    path.write_text(f"""
[queue]
lost_after_idle_s = 1.0
[[printers]]
name = "shelf"
model = "PT-P750W"
uri = "tcp://127.0.0.1:{raster}"
media = "12mm"
poll_interval_s = 0.5
busy_poll_interval_s = 0.02
[printers.snmp]
port = {snmp}
timeout = 0.5
""")
    return path


async def counts(socket: Path) -> dict[str, int]:
    async with RpcClient(socket_path=str(socket)) as rpc:
        totals: dict[str, int] = {}
        cursor = None
        while True:
            page = await rpc.call("job.list", {"limit": 500, **({"cursor": cursor} if cursor else {})})
            for job in page["jobs"]:
                key = job["state"] + ("/" + job["reasons"][0] if job["reasons"] else "")
                totals[key] = totals.get(key, 0) + 1
            cursor = page["next_cursor"]
            if cursor is None:
                return totals


async def submit_all(socket: Path) -> None:
    async with RpcClient(socket_path=str(socket)) as rpc:
        for start in range(0, JOBS, 20):
            await asyncio.gather(*(rpc.call("print.submit", {"template": "text", "fields": {"text": f"bin {n}"}})
                                   for n in range(start, start + 20)))


def test_sigkill_mid_drain_loses_nothing_and_prints_nothing_twice(state_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "labels"
    simulator, raster, snmp = start_simulator(out, "--speed", "400")  # ~0.1 s a label: the kill lands mid-drain
    try:
        cfg = config(tmp_path / "appliance.toml", raster, snmp)
        server, _ = start_server(state_dir, "--config", str(cfg))
        socket = state_dir / "rpc.sock"
        asyncio.run(submit_all(socket))
        deadline = time.monotonic() + 60
        while asyncio.run(counts(socket)).get("completed", 0) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        code, _ = stop_server(server, signal.SIGKILL)
        assert code == -signal.SIGKILL
        before = asyncio.run(_offline_counts(state_dir))
        assert 0 < before.get("completed", 0) < JOBS  # the kill really landed mid-way

        server, _ = start_server(state_dir, "--config", str(cfg))
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                totals = asyncio.run(counts(socket))
                if not any(k.startswith(("pending", "processing", "stopped")) for k in totals):
                    break
                time.sleep(0.2)
        finally:
            stop_server(server)
    finally:
        simulator.send_signal(signal.SIGTERM)
        simulator.communicate(timeout=20)
    completed = totals.get("completed", 0)
    interrupted = totals.get("aborted/interrupted", 0)
    assert completed + interrupted == JOBS, totals  # every acknowledged job is accounted for
    assert interrupted <= 1, totals  # at most the one in flight
    labels = len(list(out.glob("*.png")))
    assert completed <= labels <= completed + interrupted, (labels, totals)


async def _offline_counts(state_dir: Path) -> dict[str, int]:
    import sqlite3

    with sqlite3.connect(state_dir / "appliance.db") as conn:
        return dict(conn.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall())


def test_after_a_restart_a_new_job_waits_for_the_label_still_printing(state_dir: Path, tmp_path: Path) -> None:
    # the label of the killed server's job is still coming out when the new server starts; the next
    # job used to be sent at once and marked completed by that label's page count, without its own
    out = tmp_path / "labels"
    simulator, raster, snmp = start_simulator(out, "--speed", "8")  # a few seconds a label
    try:
        cfg = config(tmp_path / "appliance.toml", raster, snmp)
        server, _ = start_server(state_dir, "--config", str(cfg))
        socket = state_dir / "rpc.sock"
        first = asyncio.run(_submit(socket, "the killed server's label"))
        asyncio.run(_wait_state(socket, first, "processing"))
        time.sleep(0.3)  # the raster is at the printer, which is printing it
        stop_server(server, signal.SIGKILL)
        server, _ = start_server(state_dir, "--config", str(cfg))
        try:
            second = asyncio.run(_submit(socket, "next"))
            asyncio.run(_wait_state(socket, second, "completed", timeout=60))
            labels_when_completed = len(list(out.glob("*.png")))
            first_job, first_events = asyncio.run(_job_and_events(socket, first))
        finally:
            stop_server(server)
    finally:
        simulator.send_signal(signal.SIGTERM)
        simulator.communicate(timeout=20)
    assert labels_when_completed == 2  # the first label, then the second job's own
    # the killed server's job was followed again, and its label counted for it: not "interrupted"
    assert first_job["state"] == "completed" and first_job["attempts"] == 1, first_job
    assert "following" in first_events and "resending" not in first_events


def test_power_cut_to_box_and_printer_sends_the_lost_label_again(state_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "labels"
    simulator, raster, snmp = start_simulator(out, "--speed", "8")
    try:
        cfg = config(tmp_path / "appliance.toml", raster, snmp)
        server, _ = start_server(state_dir, "--config", str(cfg))
        socket = state_dir / "rpc.sock"
        job_id = asyncio.run(_submit(socket, "lost with the power"))
        asyncio.run(_wait_state(socket, job_id, "processing"))
        time.sleep(0.3)  # the raster is at the printer, which is printing it
        stop_server(server, signal.SIGKILL)  # the power goes: the appliance and the printer with it
        simulator.kill()
        simulator.communicate(timeout=20)
        assert not list(out.glob("*.png"))  # the label never came out
        server, _ = start_server(state_dir, "--config", str(cfg))  # the appliance is back first
        try:
            asyncio.run(_wait_state(socket, job_id, "stopped", timeout=30))  # not "completed": nothing is known
            waiting, _ = asyncio.run(_job_and_events(socket, job_id))
            assert waiting["reasons"] == ["status-lost"], waiting  # the label was sent: it may come out
            # the printer comes back at the same address, its page counter kept (like NVRAM)
            simulator, _, _ = start_simulator(out, "--speed", "400", "--listen", f"127.0.0.1:{raster}",
                                              "--snmp", f"127.0.0.1:{snmp}")
            asyncio.run(_wait_state(socket, job_id, "completed", timeout=60))
            job, events = asyncio.run(_job_and_events(socket, job_id))
        finally:
            stop_server(server)
    finally:
        simulator.send_signal(signal.SIGTERM)
        simulator.communicate(timeout=20)
    assert len(list(out.glob("*.png"))) == 1  # sent again, printed once
    assert job["attempts"] == 2 and "following" in events and "resending" in events, (job, events)


async def _job_and_events(socket: Path, job_id: int) -> tuple[dict[str, object], list[str]]:
    async with RpcClient(socket_path=str(socket)) as rpc:
        job = await rpc.call("job.get", {"job_id": job_id})
        return job, [step["event"] for step in await rpc.call("job.timeline", {"job_id": job_id})]


async def _submit(socket: Path, text: str) -> int:
    async with RpcClient(socket_path=str(socket)) as rpc:
        return (await rpc.call("print.submit", {"template": "text", "fields": {"text": text}}))["id"]


async def _wait_state(socket: Path, job_id: int, state: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    async with RpcClient(socket_path=str(socket)) as rpc:
        while (job := await rpc.call("job.get", {"job_id": job_id}))["state"] != state:
            assert time.monotonic() < deadline, job
            await asyncio.sleep(0.02)


def test_a_resends_steps_survive_a_kill_of_the_server(state_dir: Path, tmp_path: Path) -> None:
    # The printer loses its power mid-label and comes back with the label lost: the job is sent again
    # (attempt 2). The server is killed then. Its timeline after the restart still has the first send,
    # the stop, and the resend that said why: they were stored with the attempt count, not kept in
    # memory for the job's end.
    out = tmp_path / "labels"
    simulator, raster, snmp = start_simulator(out, "--speed", "8")
    try:
        cfg = config(tmp_path / "appliance.toml", raster, snmp)
        server, _ = start_server(state_dir, "--config", str(cfg))
        socket = state_dir / "rpc.sock"
        job_id = asyncio.run(_submit(socket, "sent twice, printed once"))
        asyncio.run(_wait_state(socket, job_id, "processing"))
        time.sleep(0.3)  # the raster is at the printer, which is printing it
        simulator.kill()  # the printer's power goes, and the label with it
        simulator.communicate(timeout=20)
        asyncio.run(_wait_state(socket, job_id, "stopped"))
        simulator, _, _ = start_simulator(out, "--speed", "8", "--listen", f"127.0.0.1:{raster}",
                                          "--snmp", f"127.0.0.1:{snmp}")
        asyncio.run(_wait_attempts(socket, job_id, 2))  # idle, its counter unmoved: sent again
        code, _ = stop_server(server, signal.SIGKILL)
        assert code == -signal.SIGKILL
        stored = _offline_events(state_dir, job_id)  # what the file holds after the kill
        server, _ = start_server(state_dir, "--config", str(cfg))
        try:
            asyncio.run(_wait_state(socket, job_id, "completed", timeout=60))
            steps = asyncio.run(_timeline(socket, job_id))
        finally:
            stop_server(server)
    finally:
        simulator.send_signal(signal.SIGTERM)
        simulator.communicate(timeout=20)
    before_kill = ["queued", "processing", "sent", "printer-error", "resumed", "resending"]
    assert [e for e in stored if e in before_kill] == before_kill, stored  # "printing" may come between
    events = [step["event"] for step in steps]
    assert events[:len(stored)] == stored, events  # and the timeline after the restart shows them
    resend = next(step for step in steps if step["event"] == "resending")  # stored before the kill
    assert resend["detail"]["attempt"] == 2 and "page counter did not move" in resend["detail"]["why"], resend
    assert events.index("resending") < events.index("following"), events  # then the restart
    assert len(list(out.glob("*.png"))) == 1  # printed once, whatever was in flight at the kill


async def _wait_attempts(socket: Path, job_id: int, attempts: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with RpcClient(socket_path=str(socket)) as rpc:
        while (job := await rpc.call("job.get", {"job_id": job_id}))["attempts"] < attempts:
            assert time.monotonic() < deadline, job
            await asyncio.sleep(0.02)


async def _timeline(socket: Path, job_id: int) -> list[dict[str, Any]]:
    async with RpcClient(socket_path=str(socket)) as rpc:
        return list(await rpc.call("job.timeline", {"job_id": job_id}))


def _offline_events(state_dir: Path, job_id: int) -> list[str]:
    import sqlite3

    with sqlite3.connect(state_dir / "appliance.db") as conn:
        return [e for (e,) in conn.execute("SELECT event FROM job_events WHERE job_id = ? ORDER BY id", (job_id,))]
