"""Shared plumbing for `python -m bench`: rows, statistics, /proc readings, server processes.

A row is a dict: figure, value, unit, target (text, e.g. "< 5 ms"), ok (True/False/None when
there is no target), baseline, ratio, note. Servers run as real `appliance serve` processes on
loopback with their own temporary state directory; every load is bounded in count or time.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PYTHON = sys.executable
REPO = Path(__file__).resolve().parent.parent

# The load rows measure capacity, not policy: the default rate limit (auth.rate_per_s = 50 per
# address and per token) and connection cap (64 per address) would cap them, so bench servers
# raise both. Everything else is the default configuration.
BENCH_AUTH = {"rate_per_s": 1_000_000.0, "rate_burst": 1_000_000, "max_connections_per_address": 1024}


def row(
    figure: str,
    value: float | None,
    unit: str,
    *,
    target: str = "—",
    ok: bool | None = None,
    baseline: float | None = None,
    ratio: float | None = None,
    note: str = "",
) -> dict[str, Any]:
    return {
        "figure": figure,
        "value": value,
        "unit": unit,
        "target": target,
        "ok": ok,
        "baseline": baseline,
        "ratio": ratio,
        "note": note,
    }


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (p99 of 100 samples is the 99th smallest)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.ceil(pct / 100 * len(ordered))))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# --- /proc -------------------------------------------------------------------------------------


def rss_mb(pid: int) -> float:
    """VmRSS of a process in MB (MiB), from /proc/PID/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def io_counters(pid: int) -> dict[str, int]:
    """/proc/PID/io (write_bytes: bytes the process caused to be written to storage)."""
    counters: dict[str, int] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/io").read_text().splitlines():
            key, _, value = line.partition(":")
            counters[key.strip()] = int(value)
    return counters


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- config ------------------------------------------------------------------------------------


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_config(path: Path, sections: dict[str, dict[str, Any]], printers: list[dict[str, Any]] = ()) -> Path:
    """A small TOML writer for the settings the bench uses (scalars, one nested table per printer)."""
    lines: list[str] = []
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{key} = {_toml_value(value)}" for key, value in values.items()]
        lines.append("")
    for printer in printers:
        lines.append("[[printers]]")
        nested = {k: v for k, v in printer.items() if isinstance(v, dict)}
        lines += [f"{key} = {_toml_value(value)}" for key, value in printer.items() if key not in nested]
        for key, values in nested.items():
            lines.append(f"[printers.{key}]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in values.items()]
        lines.append("")
    path.write_text("\n".join(lines))
    return path


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPLIANCE_") and k != "NOTIFY_SOCKET"}
    env.update(extra)
    return env


# --- tokens ------------------------------------------------------------------------------------


def create_token(state_dir: Path, name: str = "bench") -> tuple[str | None, str]:
    """`appliance token create NAME --scope admin --state-dir DIR`; (token, note). None when unavailable."""
    try:
        done = subprocess.run(
            [PYTHON, "-m", "appliance.cli", "token", "create", name, "--scope", "admin", "--state-dir", str(state_dir)],
            capture_output=True,
            text=True,
            timeout=60,
            env=clean_env(),
            cwd=REPO,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"no token (token CLI failed: {exc})"
    token = done.stdout.strip().splitlines()[-1] if done.returncode == 0 and done.stdout.strip() else ""
    if not token.startswith("la_"):
        return None, "no token: `appliance token create` is not available; requests went without one"
    return token, ""


# --- server processes --------------------------------------------------------------------------


class NotifySocket:
    """A $NOTIFY_SOCKET for one child: records when READY=1 arrives (as systemd would see it)."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "notify.sock"
        self.path.unlink(missing_ok=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.path))

    def wait_ready(self, deadline: float, process: subprocess.Popen[Any]) -> float | None:
        """perf_counter time of READY=1, or None when the process died or the deadline passed."""
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return None
            self.sock.settimeout(0.05)
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            if b"READY=1" in data.split(b"\n"):
                return time.perf_counter()
        return None

    def close(self) -> None:
        self.sock.close()
        self.path.unlink(missing_ok=True)


@dataclass
class Server:
    """A running `appliance serve` process and what the bench needs to talk to it."""

    process: subprocess.Popen[Any]
    state_dir: Path
    url: str
    token: str | None
    token_note: str
    ready_s: float
    log_path: Path
    counters_path: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def socket_path(self) -> Path:
        return self.state_dir / "rpc.sock"

    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def counters(self, timeout: float = 5.0) -> dict[str, Any]:
        """The server's own counters (db.transactions), from bench/_served.py on SIGUSR1."""
        import json

        if self.counters_path is None:
            return {}
        self.counters_path.unlink(missing_ok=True)
        self.process.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.counters_path.exists():
                return json.loads(self.counters_path.read_text())
            time.sleep(0.01)
        return {}

    def stop(self, timeout: float = 30.0) -> int | None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_server(
    state_dir: Path,
    *,
    config: Path | None = None,
    env: dict[str, str] | None = None,
    token: bool = True,
    counters: bool = False,
    timeout: float = 60.0,
) -> Server:
    """`appliance serve` on a free loopback port; returns once it said READY=1 (sd_notify).

    With `counters`, the server runs through bench/_served.py, which is `appliance serve`
    plus a SIGUSR1 handler that dumps db.transactions to a file (nothing on the request path).
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    token_value, token_note = create_token(state_dir) if token else (None, "")
    notify = NotifySocket(state_dir)
    ready_file = state_dir / "ready-url"
    ready_file.unlink(missing_ok=True)
    counters_path = state_dir / "bench-counters.json" if counters else None
    entry = [PYTHON, "-m", "bench._served"] if counters else [PYTHON, "-m", "appliance.cli"]
    args = [*entry, "serve", "--state-dir", str(state_dir), "--listen", "127.0.0.1:0", "--ready-file", str(ready_file)]
    if config is not None:
        args += ["--config", str(config)]
    child_env = clean_env(APPLIANCE_LOG_FORMAT="json", NOTIFY_SOCKET=str(notify.path), **(env or {}))
    if counters_path is not None:
        child_env["BENCH_COUNTERS"] = str(counters_path)
    log_path = state_dir / "server.log"
    with log_path.open("wb") as log:  # a file, never a pipe nobody reads (a full pipe would stall the server)
        started = time.perf_counter()
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=child_env, cwd=REPO)
    try:
        ready_at = notify.wait_ready(time.monotonic() + timeout, process)
        deadline = time.monotonic() + timeout
        while ready_at is not None and not ready_file.exists() and time.monotonic() < deadline:
            time.sleep(0.005)
        if ready_at is None or not ready_file.exists():
            process.kill()
            process.wait()
            raise RuntimeError(f"server did not start; its log ends: {log_path.read_text()[-2000:]}")
        url = ready_file.read_text().strip()
    finally:
        notify.close()
    return Server(process, state_dir, url, token_value, token_note, ready_at - started, log_path, counters_path)


@contextlib.contextmanager
def temp_dir(prefix: str) -> Any:
    with tempfile.TemporaryDirectory(prefix=prefix) as name:
        yield Path(name)
