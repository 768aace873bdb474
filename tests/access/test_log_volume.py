"""Polling leaves the journal alone: passing reads and health checks are debug lines, changes and errors info."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import structlog

from appliance import logs
from tests.access.helpers import post_rpc, running, unix_session


@pytest.fixture
def capture() -> Iterator[Any]:
    saved = structlog.get_config()
    stream = io.StringIO()

    def configure(level: str) -> io.StringIO:
        logs.configure("json", level=level, stream=stream)
        return stream

    yield configure
    structlog.configure(**saved)


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]


async def _session_of_a_poller(state_dir: Path) -> None:
    """Reads that pass, one read that fails, one change, and health polls over TCP."""
    async with running(state_dir) as app, unix_session(app) as unix, aiohttp.ClientSession() as tcp:
        for method, params in [("printer.status", {}), ("queue.status", {}), ("job.get", {"job_id": 999999}),
                               ("print.submit", {"template": "text", "fields": {"text": "A-1"}})]:
            await post_rpc("http://localhost", {"jsonrpc": "2.0", "method": method, "params": params, "id": 1},
                           session=unix)
        for path in ("/healthz", "/readiness", "/no-such-page"):
            async with tcp.get(app.listeners.url + path) as response:
                await response.read()


async def test_at_info_only_changes_errors_and_failed_polls_are_logged(state_dir: Path, capture: Any) -> None:
    stream = capture("info")
    await _session_of_a_poller(state_dir)
    lines = _lines(stream)
    calls = [(line["method"], line["outcome"]) for line in lines if line["event"] == "rpc.call"]
    assert calls == [("job.get", "error -32002"), ("print.submit", "ok")]
    requests = [(line["path"], line["status"]) for line in lines if line["event"] == "http.request"]
    assert [path for path, _ in requests] == ["/no-such-page"]
    assert requests[0][1] >= 400  # 401 over TCP without a token


async def test_at_debug_every_call_and_poll_is_logged(state_dir: Path, capture: Any) -> None:
    stream = capture("debug")
    await _session_of_a_poller(state_dir)
    lines = _lines(stream)
    calls = [line["method"] for line in lines if line["event"] == "rpc.call"]
    assert calls == ["printer.status", "queue.status", "job.get", "print.submit"]
    paths = [line["path"] for line in lines if line["event"] == "http.request"]
    assert paths == ["/healthz", "/readiness", "/no-such-page"]


def test_the_server_side_logging_does_not_load_rich_and_leaves_it_importable() -> None:
    """rich comes with textual, for the TUI; structlog would import it into the server (≈30 ms of start-up)."""
    import subprocess
    import sys

    code = ("import sys, appliance.logs, appliance.web.middleware; loaded = 'rich' in sys.modules; "
            "import rich.console; print(loaded, appliance.logs.structlog.dev.rich is None)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]
