"""The worker reads only committed jobs: one connection serves every task, so a read between the
statements of another task's open transaction would see a job whose raster is not written yet."""

from __future__ import annotations

import asyncio
from typing import Any

from appliance.store import jobs
from appliance.store import printers as printer_store
from appliance.store.db import Database


async def _printers(db: Database, *ids: str) -> None:
    await printer_store.upsert(db, [{"id": p, "name": p, "model": "PT-P750W", "uri": f"virtual://{p}", "media": "12mm"}
                                    for p in ids])


async def _insert_job(conn: Any, printer_id: str, state: str, *, reasons: str = "[]", key: str | None = None) -> None:
    """A job row as jobs.insert writes it (its artifact aside), in the open transaction `conn`."""
    await conn.execute(
        "INSERT INTO jobs (printer_id, state, reasons, template, template_version, fields, copies, media, length_mm,"
        " idempotency_key, created_at, updated_at) VALUES (?, ?, ?, 'text', 1, '{}', 1, '12mm', 20, ?, 'now', 'now')",
        (printer_id, state, reasons, key))


async def test_next_pending_waits_for_the_submit_to_commit(db: Database) -> None:
    await _printers(db, "p1")
    inserted = asyncio.Event()
    release = asyncio.Event()

    async def submit_halfway() -> None:  # what jobs.insert does, held between its statements
        async with db.transaction() as conn:
            await _insert_job(conn, "p1", "pending")
            inserted.set()
            await release.wait()
            await conn.execute("INSERT INTO job_artifacts (job_id, raster, preview, sha256)"
                               " VALUES (1, x'1b40', x'', 'x')")

    writer = asyncio.create_task(submit_halfway())
    await inserted.wait()
    reader = asyncio.create_task(jobs.next_pending(db, "p1"))
    await asyncio.sleep(0.1)
    assert not reader.done()  # it waits for the transaction instead of seeing half of it
    release.set()
    await writer
    row = await reader
    assert row is not None and row["raster"] == b"\x1b@"


async def test_a_retry_is_not_told_of_a_job_whose_insert_rolls_back(db: Database) -> None:
    # a submit with an idempotency key is being stored when its retry arrives; the store then fills
    # up and the insert rolls back: the retry must not be answered with that job (it never exists)
    await _printers(db, "p1")
    inserted = asyncio.Event()
    fail = asyncio.Event()

    async def submit_that_fails() -> None:
        async with db.transaction() as conn:
            await _insert_job(conn, "p1", "pending", key="k-1")
            inserted.set()
            await fail.wait()
            raise OSError("database or disk is full")

    writer = asyncio.create_task(submit_that_fails())
    await inserted.wait()
    retry = asyncio.create_task(jobs.by_idempotency_key(db, "k-1"))
    await asyncio.sleep(0.1)
    assert not retry.done()  # it waits for the first submit's transaction to end
    fail.set()
    await asyncio.gather(writer, return_exceptions=True)
    assert await retry is None


async def test_a_write_canceled_while_it_begins_leaves_no_transaction_open(db: Database) -> None:
    # a client gone mid-request cancels its handler; the BEGIN still runs in aiosqlite's thread
    for _ in range(20):  # cancel at the first await of the transaction, many times over
        async def write() -> None:
            async with db.transaction() as conn:
                await conn.execute("UPDATE printers SET paused = 0")

        task = asyncio.create_task(write())
        await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert not db.conn.in_transaction
    async with db.transaction() as conn:  # the writer is not stuck "within a transaction"
        await conn.execute("UPDATE printers SET paused = 0")


async def test_each_commit_is_on_the_disk_before_it_returns(db: Database) -> None:
    # WAL with synchronous=NORMAL lets a commit roll back at a power cut: the "processing" written
    # before a raster goes out could vanish, and the label be sent again after the cut
    assert (await db.fetchone("PRAGMA journal_mode"))[0] == "wal"
    assert (await db.fetchone("PRAGMA synchronous"))[0] == 2  # FULL: the WAL is synced at each commit


async def test_places_count_each_printers_queue_and_skip_held_and_finished_jobs(db: Database) -> None:
    # the queue a worker takes, oldest first: pending, processing and stopped; held and finished jobs are
    # in nobody's way, and each printer's queue is its own
    await _printers(db, "p1", "p2")
    layout = [("p1", "completed"), ("p1", "stopped"), ("p2", "pending"), ("p1", "held"), ("p1", "pending"),
              ("p2", "processing"), ("p1", "pending"), ("p1", "canceled"), ("p2", "held")]
    async with db.transaction() as conn:
        for printer_id, state in layout:
            await _insert_job(conn, printer_id, state, reasons='["media-empty"]' if state == "stopped" else "[]")
    found = await jobs.places(db, range(1, len(layout) + 1))
    assert found.ahead == {1: 0, 2: 0, 3: 0, 4: 1, 5: 1, 6: 1, 7: 2, 8: 3, 9: 2}
    assert found.heads == {"p1": jobs.Queued(2, "stopped", ("media-empty",)), "p2": jobs.Queued(3, "pending", ())}
    assert (await jobs.places(db, [])).ahead == {}
