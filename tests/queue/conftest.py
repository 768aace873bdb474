"""Fixtures for the queue tests."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from appliance.store import migrate
from appliance.store.db import Database
from tests.fast_fixtures import fast, printed, rpc, settle, wait_job

__all__ = ["db", "fast", "printed", "rpc", "settle", "wait_job"]


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A real SQLite file at the schema's head, opened as the server opens it (no server around it)."""
    path = tmp_path / "appliance.db"
    migrate.ensure_head(path)
    db = Database(path)
    await db.open()
    try:
        yield db
    finally:
        await db.close()
