"""Safe mode: a start that never reached ready makes the next one keep queues paused and printers
uncontacted, and say so everywhere, until a person resumes."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

from appliance.app import Appliance
from appliance.systemd import Notifier
from rpc.client import RpcClient
from tests.ops.helpers import NotifySocket, call, entries, get_unix, spawn, terminate, wait_ready
from tests.support import damage_page, make_settings


def printed(state_dir: Path) -> list[Path]:
    return sorted((state_dir / "printed").glob("*.png"))


async def test_marker_means_safe_mode_until_resume(state_dir: Path) -> None:
    (state_dir / "starting.marker").write_text("2026-11-22T03:00:00Z 2\n")  # two starts in a row died before ready
    notify = NotifySocket(state_dir)
    app = Appliance(make_settings(state_dir), notifier=Notifier(str(notify.path)))
    await app.start()
    try:
        assert app.safe_mode
        assert not (state_dir / "starting.marker").exists()  # this start did get ready
        monitor = app.printers[0].monitor
        async with RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
            info = await rpc.call("server.info")
            assert info["safe_mode"] is True and "printer.resume" in info["safe_mode_reason"]
            status, _, body = await get_unix(app.settings.socket_path, "/readiness")
            assert status == 200 and body["status"] == "warn"
            safe = entries(body, "appliance:safeMode")[0]
            assert safe["status"] == "warn" and "printer.resume" in safe["output"]
            assert "not contacted" in entries(body, "printer:status")[0]["output"]

            await asyncio.to_thread(notify.drain, 0.3)
            ready = [m for _, m in notify.messages if "READY=1" in m.splitlines()]
            assert ready and "SAFE MODE" in ready[0]
            assert any("SAFE MODE" in line and "printer.resume" in line for _, line in notify.lines("STATUS="))

            job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "wait"}})
            await asyncio.sleep(0.5)
            assert (await rpc.call("job.get", {"job_id": job["id"]}))["state"] == "pending"
            assert monitor.probes == 0 and printed(state_dir) == []  # the printer was never contacted

            await rpc.call("printer.resume")
            deadline = time.monotonic() + 10
            while (await rpc.call("job.get", {"job_id": job["id"]}))["state"] != "completed":
                assert time.monotonic() < deadline, "the job never printed after printer.resume"
                await asyncio.sleep(0.05)
            assert len(printed(state_dir)) == 1 and monitor.probes >= 1
            info = await rpc.call("server.info")
            assert info["safe_mode"] is False and info["safe_mode_reason"] is None
            assert (await rpc.call("readiness.check"))["status"] == "pass"
    finally:
        await app.stop()
        notify.close()


def _kill_a_start(state_dir: Path, nth: int) -> None:
    """Start `appliance serve` and kill it before it gets ready, as the `nth` such start in a row."""
    marker = state_dir / "starting.marker"
    for _ in range(5):  # the kill must land inside start-up; if the start won the race, try again
        (state_dir / "ready").unlink(missing_ok=True)
        process = spawn(state_dir)
        while process.poll() is None and not (marker.exists() and marker.read_text().split()[1:] == [str(nth)]):
            time.sleep(0.001)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=10)
        if marker.exists() and marker.read_text().split()[1:] == [str(nth)] and not (state_dir / "ready").exists():
            return
        marker.unlink(missing_ok=True)  # that start got ready: begin the row again
        for earlier in range(1, nth):
            _kill_a_start(state_dir, earlier)
    raise AssertionError("could not kill a start before it got ready")


def _safe_mode_of_the_next_start(state_dir: Path) -> bool:
    process = spawn(state_dir)
    try:
        wait_ready(process, state_dir)
        safe = bool(asyncio.run(call(state_dir / "rpc.sock", "server.info"))["safe_mode"])
    finally:
        code, err = terminate(process)
    assert code == 0 and "Traceback" not in err
    assert ('"appliance.safe_mode"' in err) is safe  # the journal says why, in the log line's event
    return safe


def test_one_start_cut_short_comes_back_by_itself_and_two_in_a_row_leave_safe_mode(state_dir: Path) -> None:
    # a power cut while the box boots is not a crash loop: it must come back without a person
    _kill_a_start(state_dir, 1)
    assert _safe_mode_of_the_next_start(state_dir) is False
    assert not (state_dir / "starting.marker").exists()
    _kill_a_start(state_dir, 1)
    _kill_a_start(state_dir, 2)  # the start after a cut short one dies too: something kills it each time
    assert _safe_mode_of_the_next_start(state_dir) is True
    assert _safe_mode_of_the_next_start(state_dir) is False  # that start reached ready: the next is normal


async def test_a_start_that_finds_its_address_taken_leaves_no_safe_mode_behind(state_dir: Path) -> None:
    # a busy port is a setting to change, not a crash: the next start must not come up paused
    import errno
    import socket

    import pytest

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        app = Appliance(make_settings(state_dir, server={"listen": f"127.0.0.1:{port}"}))
        with pytest.raises(OSError) as caught:
            await app.start()
        await app.stop()
        assert caught.value.errno == errno.EADDRINUSE
    assert not (state_dir / "starting.marker").exists()
    app = Appliance(make_settings(state_dir))
    await app.start()
    try:
        assert app.safe_mode is False
    finally:
        await app.stop()


def test_a_database_damaged_past_its_first_pages_is_said_in_one_line_and_leaves_no_safe_mode(
        state_dir: Path) -> None:
    process = spawn(state_dir)  # a database as a running box has it, with a job in it
    wait_ready(process, state_dir)
    job = asyncio.run(call(state_dir / "rpc.sock", "print.submit", {"template": "text", "fields": {"text": "a"}}))
    assert job["id"] == 1
    assert terminate(process)[0] == 0
    db = state_dir / "appliance.db"
    damage_page(db, "jobs")
    process = spawn(state_dir)
    _, err = process.communicate(timeout=30)
    # before: a traceback from recovering the jobs, and the marker left, so the restored box came up paused
    assert process.returncode == 1 and "Traceback" not in err, err[-2000:]
    assert "the file is damaged; restore a backup" in err
    assert not (state_dir / "starting.marker").exists()
    db.unlink()  # moved aside, as the message says
    assert _safe_mode_of_the_next_start(state_dir) is False
