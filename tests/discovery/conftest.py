"""Fixtures for discovery and runtime printers: virtual printers on loopback, an appliance with none set up."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from appliance.simulator.runner import Simulator
from tests.fast_fixtures import wait_job

__all__ = ["free_udp_port", "pt", "ql", "wait_job"]


def free_udp_port() -> int:
    """A loopback UDP port nothing listens on (bound, then closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _sim(tmp_path: Path, model: str, tape: str, serial: str) -> Simulator:
    sim = Simulator(model, tape, out_dir=tmp_path / f"printed-{serial}", speed=None, serial=serial)
    await sim.start()
    return sim


@pytest.fixture
async def pt(tmp_path: Path) -> AsyncIterator[Simulator]:
    sim = await _sim(tmp_path, "PT-P750W", "12mm", "E7Z100001")
    try:
        yield sim
    finally:
        await sim.stop()


@pytest.fixture
async def ql(tmp_path: Path) -> AsyncIterator[Simulator]:
    sim = await _sim(tmp_path, "QL-820NWB", "62mm", "K8Q200002")
    try:
        yield sim
    finally:
        await sim.stop()
