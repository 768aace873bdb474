"""A database with a damaged page is refused at start, in one line that says to restore a backup.

Before, only the pages a start happened to read were looked at: a damaged page in an index or in
yoyo's migration log started, passed readiness and failed later, in the middle of a job (found by
a power-cut trial). Now every start runs `PRAGMA quick_check` first (bounded on large files).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.ops.helpers import call, entries, get_unix, spawn, terminate
from tests.support import damage_page, grow_history, make_settings, running


async def _database_with_a_job(state_dir: Path) -> None:
    async with running(make_settings(state_dir)) as app:
        await call(app.settings.socket_path, "print.submit", {"template": "text", "fields": {"text": "kept"}})


@pytest.mark.parametrize("page", ["jobs_by_created", "_yoyo_log"])
def test_a_damaged_index_or_migration_log_page_stops_the_start_with_the_way_back(state_dir: Path, page: str) -> None:
    asyncio.run(_database_with_a_job(state_dir))
    db = state_dir / "appliance.db"
    damage_page(db, page)
    process = spawn(state_dir)
    while process.poll() is None and not (state_dir / "ready").exists():
        time.sleep(0.01)
    if process.poll() is None:  # it got ready on a damaged file, as before: the failure of this test
        terminate(process)
        pytest.fail(f"the server started on a database with a damaged {page} page")
    _, err = process.communicate(timeout=30)
    said = [line for line in err.splitlines() if not line.startswith("{")]
    assert process.returncode == 1 and len(said) == 1, err[-2000:]
    assert said[0].startswith(f"appliance: {db} cannot be read (")
    assert said[0].endswith("the file is damaged; restore a backup made with `appliance backup` (the steps are "
                            "under Restore in docs/install-pi.md §7), or move it aside with its -wal and -shm "
                            "files to start afresh")
    assert not (state_dir / "starting.marker").exists()  # an explained failure: the next start is not safe mode


async def test_a_damaged_history_page_of_a_large_file_is_said_when_read_and_fails_readiness(state_dir: Path) -> None:
    # a large file's job history is not checked at start (it would cost seconds on a Pi after a power cut):
    # the call that reads a damaged page says so, and readiness fails from then on, instead of an internal error
    from appliance.store.db import FULL_CHECK_MAX_BYTES
    from rpc.errors import RpcError

    async with running(make_settings(state_dir)):
        pass
    db = state_dir / "appliance.db"
    grow_history(db, FULL_CHECK_MAX_BYTES)
    damage_page(db, "job_events_by_job")
    async with running(make_settings(state_dir)) as app:
        status, _, body = await get_unix(app.settings.socket_path, "/readiness")
        assert status == 200
        with pytest.raises(RpcError) as damaged:
            await call(app.settings.socket_path, "job.timeline", {"job_id": 1})
        assert damaged.value.code == -32003 and damaged.value.data == {"reason": "storage-damaged"}
        assert "restore a backup made with `appliance backup`" in damaged.value.message
        assert str(state_dir) not in damaged.value.message
        status, _, body = await get_unix(app.settings.socket_path, "/readiness")
        assert status == 503
        assert entries(body, "sqlite:responseTime")[0]["output"] == damaged.value.message
