"""sd_notify from a real server process to a datagram socket the test owns: READY, STATUS, WATCHDOG, STOPPING.

Timing bounds here are deliberately loose (a ping every ~100 ms is checked as "between 20 ms and
400 ms apart"); they prove the cadence and the silence of a blocked loop, not speed.
"""

from __future__ import annotations

import itertools
import signal
import socket
import sqlite3
import statistics
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.app import Appliance
from appliance.store.migrate import migration_ids
from appliance.systemd import Notifier, block_loop_hook
from tests.ops.helpers import NotifySocket, log_events, spawn, terminate


@pytest.fixture
def notify(state_dir: Path) -> Iterator[NotifySocket]:
    sock = NotifySocket(state_dir)
    yield sock
    sock.close()


def gaps(stamps: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(stamps)]


def test_ready_status_watchdog_stopping(state_dir: Path, notify: NotifySocket) -> None:
    process = spawn(state_dir, ready_file=False, NOTIFY_SOCKET=str(notify.path), WATCHDOG_USEC="200000")
    try:
        ready_at, ready = notify.wait_for("READY=1", process=process)
        # everything READY promises is already there: the socket answers, the schema is at head
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        probe.connect(str(state_dir / "rpc.sock"))
        probe.close()
        with sqlite3.connect(state_dir / "appliance.db") as db:
            applied = db.execute("SELECT migration_id FROM _yoyo_migration ORDER BY migration_id").fetchall()
            assert [m for (m,) in applied] == migration_ids()  # every migration file, the newest included
        assert not (state_dir / "starting.marker").exists()
        assert any(line.startswith("STATUS=") and "printer(s) ready" in line for line in ready.splitlines())
        before_ready = [m for t, m in notify.messages if t < ready_at]
        assert all(m == "WATCHDOG=1" for m in before_ready)  # nothing but pings before READY

        notify.drain(1.2)
        status = [line for _, line in notify.lines("STATUS=")]
        assert any("virtual:" in s and "jobs: 0 pending, 0 stopped" in s for s in status), status
        pings = [t for t, line in notify.lines("WATCHDOG=1") if t > ready_at]
        assert len(pings) >= 5
        assert 0.02 < statistics.median(gaps(pings)) < 0.4
    finally:
        code, err = terminate(process)
    notify.drain()
    assert code == 0, err[-2000:]
    stopping = [m for _, m in notify.messages if "STOPPING=1" in m.splitlines()]
    assert stopping and "STATUS=shutting down" in stopping[0]
    assert "Traceback" not in err


def test_blocked_loop_stops_the_pings_and_dumps_where_it_hung(state_dir: Path, notify: NotifySocket) -> None:
    process = spawn(state_dir, ready_file=False, NOTIFY_SOCKET=str(notify.path), WATCHDOG_USEC="200000",
                    LABEL_APPLIANCE_TEST_BLOCK_LOOP="0.3:1.0")
    try:
        ready_at, _ = notify.wait_for("READY=1", process=process)
        notify.drain(2.0)
    finally:
        code, err = terminate(process)
    pings = [t for t, line in notify.lines("WATCHDOG=1") if t > ready_at]
    longest = max(gaps(pings))
    assert longest > 0.9, f"the pings went on while the loop was blocked (longest gap {longest:.2f} s)"
    assert sorted(gaps(pings))[-2] < 0.5  # only the block made a long gap: pings resumed after it
    # faulthandler, re-armed by each ping, dumped the stacks before systemd would have acted
    assert "Timeout (0:00:00.16" in err
    assert "_block_loop_for_test" in err
    assert code == 0  # the loop came back; the process then stopped cleanly on SIGTERM


def test_sigabrt_from_the_watchdog_dumps_every_thread(state_dir: Path, notify: NotifySocket) -> None:
    process = spawn(state_dir, ready_file=False, NOTIFY_SOCKET=str(notify.path))
    notify.wait_for("READY=1", process=process)
    process.send_signal(signal.SIGABRT)  # what WatchdogSignal=SIGABRT delivers
    _, err = process.communicate(timeout=20)
    assert process.returncode == -signal.SIGABRT
    assert "Fatal Python error: Aborted" in err
    assert "most recent call first" in err and "Thread 0x" in err


def test_no_notify_socket_means_no_datagrams_and_no_watchdog() -> None:
    silent = Notifier(address="")
    assert not silent.enabled and silent.send("READY=1") is False
    assert Notifier.watchdog_interval({"WATCHDOG_USEC": "200000"}) == pytest.approx(0.1)
    assert Notifier.watchdog_interval({"WATCHDOG_USEC": "200000", "WATCHDOG_PID": "1"}) is None
    assert Notifier.watchdog_interval({}) is None
    assert Notifier("@abstract").address == "\0abstract"
    assert block_loop_hook({"LABEL_APPLIANCE_TEST_BLOCK_LOOP": "0.5:2"}) == (0.5, 2.0)
    assert block_loop_hook({"LABEL_APPLIANCE_TEST_BLOCK_LOOP": "soon"}) is None
    assert block_loop_hook({}) is None


def test_status_lines_reach_the_socket_from_the_log(state_dir: Path, notify: NotifySocket) -> None:
    """The log's ready line and the READY datagram agree on the printer count."""
    process = spawn(state_dir, ready_file=False, NOTIFY_SOCKET=str(notify.path))
    try:
        notify.wait_for("READY=1", process=process)
    finally:
        code, err = terminate(process)
    ready = next(e for e in log_events(err) if e.get("event") == "appliance.ready")
    assert ready["printers"] == 1 and ready["safe_mode"] is False
    assert code == 0


async def test_status_line_names_printers_jobs_and_the_last_problem(appliance: Appliance) -> None:
    await appliance.printers[0].monitor.probe_now()
    line = await appliance.status_text()
    assert line == "virtual: idle, 12mm tape; jobs: 0 pending, 0 stopped"
    appliance.simulator.printer.update(cover_open=True)
    await appliance.printers[0].monitor.probe_now()
    line = await appliance.status_text()
    assert line.startswith("virtual: stopped") and "; last problem: virtual: Cover open" in line


def test_hangs_are_dumped_only_once_asked(notify: NotifySocket) -> None:
    """Before `dump_hangs()` (the server calls it at READY) a long block dumps nothing; after it, one does."""
    import os
    import subprocess
    import sys

    script = """
import asyncio, time
from appliance.systemd import Notifier
async def main():
    notifier = Notifier()
    assert notifier.start_watchdog(0.05)
    await asyncio.sleep(0.12)
    time.sleep(0.4)  # a start-up step that holds the loop
    print("started", flush=True)
    notifier.dump_hangs()
    await asyncio.sleep(0.12)
    time.sleep(0.4)  # a hang after READY
    await notifier.close()
asyncio.run(main())
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30,
                          env={**os.environ, "NOTIFY_SOCKET": str(notify.path)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "started"
    assert done.stderr.count("Timeout (0:00:00.08") == 1, done.stderr  # 80 % of a 0.1 s watchdog, once
