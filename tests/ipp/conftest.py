"""Fixtures for the IPP tests: the real appliance with its embedded virtual printer, IPP over the unix socket."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from appliance.app import Appliance
from tests.fast_fixtures import fast, printed, rpc, settle, wait_job

from .client import IppClient

__all__ = ["fast", "ipp", "printed", "rpc", "settle", "wait_job"]


@pytest.fixture
async def ipp(fast: Appliance) -> AsyncIterator[IppClient]:
    yield IppClient(socket=str(fast.settings.socket_path))
