"""Helpers for the operations tests: HTTP over the unix socket, a notify socket, a subprocess server."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support import PYTHON, cli_env


async def get_unix(socket_path: Path, path: str) -> tuple[int, str, dict[str, Any]]:
    """GET over the trusted unix socket: (HTTP status, content type, JSON body)."""
    async with aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=str(socket_path))) as session, \
            session.get(f"http://appliance{path}", timeout=aiohttp.ClientTimeout(total=5)) as response:
        return response.status, response.content_type, json.loads(await response.text())


async def get_tcp(url: str, path: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, \
            session.get(url + path, timeout=aiohttp.ClientTimeout(total=5)) as response:
        return response.status, json.loads(await response.text())


def entries(document: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return list(document["checks"][name])


class NotifySocket:
    """A datagram socket the test owns, standing in for systemd's $NOTIFY_SOCKET."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "notify.sock"
        self.path.unlink(missing_ok=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.path))
        self.sock.settimeout(0.05)
        self.messages: list[tuple[float, str]] = []  # (monotonic time received, datagram)

    def drain(self, seconds: float = 0.0) -> list[tuple[float, str]]:
        """Collect datagrams for `seconds` (at least everything already queued)."""
        deadline = time.monotonic() + seconds
        while True:
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                if time.monotonic() >= deadline:
                    return self.messages
                continue
            self.messages.append((time.monotonic(), data.decode()))

    def wait_for(self, needle: str, timeout: float = 30.0,
                 process: subprocess.Popen[str] | None = None) -> tuple[float, str]:
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                raise AssertionError(f"the server exited ({process.returncode}) before {needle!r}: "
                                     f"{process.communicate()[1][-2000:]}")
            self.drain()
            for stamp, message in self.messages[seen:]:
                if needle in message.splitlines():
                    return stamp, message
            seen = len(self.messages)
        raise AssertionError(f"{needle!r} never arrived; got {[m for _, m in self.messages][-5:]}")

    def lines(self, prefix: str) -> list[tuple[float, str]]:
        return [(t, line) for t, m in self.messages for line in m.splitlines() if line.startswith(prefix)]

    def close(self) -> None:
        self.sock.close()
        self.path.unlink(missing_ok=True)


def spawn(state_dir: Path, *, ready_file: bool = True, **env: str) -> subprocess.Popen[str]:
    """`appliance serve` as a real process on a free loopback port, logging JSON to stderr."""
    args = [PYTHON, "-m", "appliance.cli", "serve", "--state-dir", str(state_dir), "--listen", "127.0.0.1:0"]
    if ready_file:
        (state_dir / "ready").unlink(missing_ok=True)
        args += ["--ready-file", str(state_dir / "ready")]
    environment = cli_env(APPLIANCE_SIMULATOR_SPEED="instant", APPLIANCE_LOG_FORMAT="json", PYTHONUNBUFFERED="1")
    environment.update(env)
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)


def wait_ready(process: subprocess.Popen[str], state_dir: Path, timeout: float = 30.0) -> str:
    ready = state_dir / "ready"
    deadline = time.monotonic() + timeout
    while not ready.exists() or not ready.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            _, err = process.communicate()
            pytest.fail(f"server did not start: {err[-3000:]}")
        time.sleep(0.02)
    return ready.read_text()


def terminate(process: subprocess.Popen[str], timeout: float = 30.0) -> tuple[int, str]:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=timeout)
    return process.returncode, err


def log_events(stderr: str) -> list[dict[str, Any]]:
    found = []
    for line in stderr.splitlines():
        if line.startswith("{"):
            try:
                found.append(json.loads(line))
            except ValueError:
                pass
    return found


async def call(socket_path: Path, method: str, params: dict[str, Any] | None = None) -> Any:
    from rpc.client import RpcClient

    async with RpcClient(socket_path=str(socket_path), timeout=10) as client:
        return await client.call(method, params or {})


async def wait_job(socket_path: Path, job_id: int, states: tuple[str, ...], timeout: float = 15.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = await call(socket_path, "job.get", {"job_id": job_id})
        if job["state"] in states:
            return job  # type: ignore[no-any-return]
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} is {job['state']} {job['reasons']}, not {states}")
        await asyncio.sleep(0.05)


def kill_group(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
        process.communicate(timeout=10)
