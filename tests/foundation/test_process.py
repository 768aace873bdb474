"""The real `appliance` process: `appliance call` over the socket, /healthz without a database, SIGTERM."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from pathlib import Path

import pytest

from appliance import heap
from tests import support
from tests.support import PYTHON, cli_env


def start_server(state_dir: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    return support.start_server(state_dir, *extra)


def stop(process: subprocess.Popen[str]) -> tuple[int, str]:
    return support.stop_server(process)


def call(state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PYTHON, "-m", "appliance.cli", "call", *args, "--state-dir", str(state_dir)],
                          capture_output=True, text=True, timeout=30, env=cli_env())


def test_call_end_to_end_and_clean_sigterm(state_dir: Path) -> None:
    process, _ = start_server(state_dir)
    try:
        result = call(state_dir, "server.info")
        assert result.returncode == 0, result.stderr
        info = json.loads(result.stdout)
        assert info["name"] == "Label Appliance"
        assert info["caller"] == {"transport": "unix", "scope": "trusted"}
        assert oct(os.stat(state_dir / "rpc.sock").st_mode & 0o777) == "0o660"

        bad = call(state_dir, "job.get", "job_id=abc")
        assert bad.returncode == 1
        assert "error -32602" in bad.stderr and '"field": "job_id"' in bad.stderr

        missing = call(state_dir, "no.such")
        assert missing.returncode == 1 and "-32601" in missing.stderr
    finally:
        code, err = stop(process)
    assert code == 0
    assert "Traceback" not in err
    assert not (state_dir / "rpc.sock").exists()
    records = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    events = [record["event"] for record in records]
    assert "appliance.ready" in events and events[-1] == "appliance.stopped"
    # the server keeps label-sized bitmaps in its heap (appliance/heap.py), where the C library can
    assert records[events.index("appliance.heap")]["bitmaps_in_heap"] is heap.supported()


def test_call_without_server_says_how_to_fix(tmp_path: Path) -> None:
    result = call(tmp_path, "server.info")
    assert result.returncode == 1
    assert "appliance serve" in result.stderr and "Traceback" not in result.stderr


def test_healthz_answers_when_the_database_is_gone(state_dir: Path) -> None:
    process, url = start_server(state_dir)
    try:
        for name in ("appliance.db", "appliance.db-wal", "appliance.db-shm"):
            (state_dir / name).unlink(missing_ok=True)
        os.chmod(state_dir, 0o500)
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=5) as response:
                body = json.loads(response.read())
                assert response.status == 200
            assert body["status"] == "pass" and body["version"]
        finally:
            os.chmod(state_dir, 0o700)
    finally:
        code, _ = stop(process)
    assert code == 0


def test_body_over_the_limit_gets_a_jsonrpc_error(state_dir: Path) -> None:
    created = subprocess.run([PYTHON, "-m", "appliance.cli", "token", "create", "limit-test", "--state-dir",
                              str(state_dir)], capture_output=True, text=True, timeout=30, env=cli_env())
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    process, url = start_server(state_dir)
    try:
        body = b'{"jsonrpc":"2.0","method":"server.info","id":1,"pad":"' + b"x" * (1024 * 1024 + 10) + b'"}'
        request = urllib.request.Request(url + "/rpc", data=body, headers={"Content-Type": "application/json",
                                                                         "Authorization": f"Bearer {token}"})
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(request, timeout=10)
        assert info.value.code == 413
        answer = json.loads(info.value.read())
        assert answer["error"]["code"] == -32600 and answer["error"]["data"]["field"] == "body"
    finally:
        stop(process)
