"""One server per state directory: a second start is refused before it touches anything."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from pathlib import Path

import pytest

from appliance.state_lock import StateDirInUse, StateLock
from tests.ops.helpers import call, spawn, terminate, wait_ready
from tests.support import PYTHON, cli_env


async def test_a_second_server_on_the_same_state_dir_leaves_the_first_alone(state_dir: Path) -> None:
    first = spawn(state_dir)
    try:
        wait_ready(first, state_dir)
        job = await call(state_dir / "rpc.sock", "print.submit",
                         {"template": "text", "fields": {"text": "mine"}, "hold": True})
        second = spawn(state_dir, ready_file=False)
        _, err = second.communicate(timeout=60)  # it exits on its own
        assert second.returncode == 1
        assert f"another appliance (pid {first.pid})" in err and "--state-dir" in err
        assert "Traceback" not in err
        # the first server still owns everything: its socket answers, no safe-mode marker, the job as it was
        assert not (state_dir / "starting.marker").exists()
        assert (await call(state_dir / "rpc.sock", "job.get", {"job_id": job["id"]}))["state"] == "held"
        assert (await call(state_dir / "rpc.sock", "server.info"))["safe_mode"] is False
        # nor may a migration run under it: `down` would drop the tables it is using
        down = await asyncio.to_thread(
            subprocess.run, [PYTHON, "-m", "appliance.cli", "migrate", "down", "--state-dir", str(state_dir)],
            capture_output=True, text=True, timeout=60, env=cli_env())
        assert down.returncode == 1 and "another appliance" in down.stderr and "Traceback" not in down.stderr
        assert (await call(state_dir / "rpc.sock", "job.get", {"job_id": job["id"]}))["state"] == "held"
    finally:
        terminate(first)
    third = spawn(state_dir)  # a clean stop released the lock
    try:
        wait_ready(third, state_dir)
    finally:
        os.kill(third.pid, signal.SIGKILL)  # a killed server holds nothing either: the kernel drops the lock
        third.communicate()
    fourth = spawn(state_dir)
    try:
        wait_ready(fourth, state_dir)
    finally:
        terminate(fourth)


def test_the_lock_names_its_holder_and_is_released(tmp_path: Path) -> None:
    one, two = StateLock(tmp_path), StateLock(tmp_path)
    one.acquire()
    with pytest.raises(StateDirInUse, match=f"pid {os.getpid()}"):
        two.acquire()
    one.release()
    two.acquire()
    assert two.held and not one.held
    two.release()
