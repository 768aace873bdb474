"""Shared fixtures: a real appliance server in-process on loopback and a temp unix socket."""

from __future__ import annotations

import io
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import structlog

from appliance import logs
from appliance.app import Appliance
from rpc.client import RpcClient
from tests.support import make_settings, running

# printer.discover stays on loopback in every test, also in the servers tests start as processes (they inherit
# the environment): a call without `network` would otherwise broadcast on the machine's networks
os.environ["LA_DISCOVERY_LOOPBACK_ONLY"] = "1"


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    # unix socket paths are limited to ~107 bytes; pytest's tmp paths can be long
    short = Path(f"/tmp/la-{os.getpid()}-{tmp_path.name[-12:]}")
    short.mkdir(parents=True, exist_ok=True)
    yield short
    import shutil

    shutil.rmtree(short, ignore_errors=True)


@pytest.fixture
async def appliance(state_dir: Path) -> AsyncIterator[Appliance]:
    async with running(make_settings(state_dir)) as app:
        yield app


@pytest.fixture
async def client(appliance: Appliance) -> AsyncIterator[RpcClient]:
    async with RpcClient(socket_path=str(appliance.settings.socket_path)) as rpc:
        yield rpc


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Every log line of the test, as JSON at debug level, in a string; the log setup is restored after."""
    saved = structlog.get_config()
    stream = io.StringIO()
    logs.configure("json", level="debug", stream=stream)
    yield stream
    structlog.configure(**saved)
