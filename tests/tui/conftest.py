from __future__ import annotations

import pytest

from tests.rpc_ws import shim


@pytest.fixture(autouse=True)
def _ws_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    shim.install(monkeypatch)
