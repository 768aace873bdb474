"""`appliance token` end to end against real processes, including revoke while the server runs; logs hold no token."""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.support import PYTHON, cli_env, start_server, stop_server

TOKEN = re.compile(r"^la_[A-Za-z0-9_-]{43}$")


def token_cli(state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PYTHON, "-m", "appliance.cli", "token", *args, "--state-dir", str(state_dir)],
                          capture_output=True, text=True, timeout=30, env=cli_env())


def call(url: str, token: str | None, method: str, params: dict[str, object] | None = None) -> tuple[int, dict]:
    body = json.dumps({"jsonrpc": "2.0", "method": method, "params": params or {}, "id": 1}).encode()
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    try:
        with urllib.request.urlopen(urllib.request.Request(url + "/rpc", data=body, headers=headers),
                                    timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def wait_status(url: str, token: str, want: int, within: float) -> float:
    started = time.monotonic()
    while True:
        status, _ = call(url, token, "printer.status")
        if status == want:
            return time.monotonic() - started
        assert time.monotonic() - started < within, f"still {status} after {within} s"
        time.sleep(0.05)


def test_token_cli_end_to_end_with_a_running_server(state_dir: Path) -> None:
    created = token_cli(state_dir, "create", "ops")  # before the server ever ran: migrates first
    assert created.returncode == 0, created.stderr
    admin = created.stdout.strip()
    assert TOKEN.match(admin) and "only this once" in created.stderr

    duplicate = token_cli(state_dir, "create", "ops", "--scope", "read")
    assert duplicate.returncode == 1 and "already exists" in duplicate.stderr and not duplicate.stdout
    assert token_cli(state_dir, "create", "bad name!").returncode == 1
    unknown = token_cli(state_dir, "revoke", "nobody")
    assert unknown.returncode == 1 and "no token named 'nobody'" in unknown.stderr
    assert "Traceback" not in duplicate.stderr + unknown.stderr

    listed = token_cli(state_dir, "list")
    assert listed.returncode == 0 and "ops" in listed.stdout and "admin" in listed.stdout and "never" in listed.stdout
    stored = b"".join(p.read_bytes() for p in state_dir.glob("appliance.db*"))
    assert admin.encode() not in stored and admin[3:].encode() not in stored  # only the hash is kept

    process, url = start_server(state_dir)
    try:
        assert call(url, None, "server.info")[0] == 401
        status, answer = call(url, admin, "server.info")
        assert status == 200 and answer["result"]["caller"]["scope"] == "admin"
        assert admin not in json.dumps(answer)

        reader = token_cli(state_dir, "create", "dashboard", "--scope", "read")  # while the server runs
        assert reader.returncode == 0, reader.stderr
        read_token = reader.stdout.strip()
        wait_status(url, read_token, 200, within=2.0)
        status, answer = call(url, read_token, "print.submit", {"template": "text", "fields": {"text": "x"}})
        assert answer["error"]["code"] == -32001

        revoked = token_cli(state_dir, "revoke", "ops")  # while the server runs
        assert revoked.returncode == 0 and "revoked" in revoked.stdout
        took = wait_status(url, admin, 401, within=1.5)
        print(f"revoked token refused after {took:.3f} s")

        rows = json.loads(token_cli(state_dir, "list", "--json").stdout)
        assert [r["name"] for r in rows] == ["dashboard"]
        assert rows[0]["scope"] == "read" and rows[0]["last_used_at"] is not None
        assert "la_" not in json.dumps(rows)
    finally:
        code, err = stop_server(process)
    assert code == 0
    assert "auth.denied" in err  # the log was captured ...
    for token in (admin, read_token):
        assert token not in err and token[3:] not in err  # ... and holds no token
