"""SQL for IPP documents: a job that is still coming in, its pages, and the IPP view of them.

An IPP job is the appliance job of its document's first page; further pages are jobs of their
own (one page, one label, each confirmed by the page counter) that name it in document_job_id.
While a document is read its pages wait as `held` with the reason `job-incoming`; when the last
page is drawn they become `pending` together, in one transaction, so nothing prints of a
document that turns out broken, and a broken one leaves no job behind (`discard`).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable

from ..clock import now_text
from .db import Database
from .jobs import Step, _write_steps

INCOMING = "job-incoming"
INCOMING_REASONS = json.dumps([INCOMING])


async def fill(db: Database, job_id: int, *, media: str, length_mm: float, copies: int, raster: bytes,
               preview: bytes, document_name: str | None) -> bool:
    """The first page's label for a job made by Create-Job (stored with no label yet); False when the
    job is no longer coming in (canceled meanwhile)."""
    async with db.transaction() as conn:
        rows = await conn.execute_fetchall(
            "UPDATE jobs SET media = ?, length_mm = ?, copies = ?, document_name = COALESCE(?, document_name),"
            " updated_at = ? WHERE id = ? AND state = 'held' AND reasons = ? RETURNING id",
            (media, length_mm, copies, document_name, now_text(), job_id, INCOMING_REASONS))
        if not rows:
            return False
        await conn.execute("INSERT OR REPLACE INTO job_artifacts (job_id, raster, preview, sha256) VALUES (?, ?, ?, ?)",
                           (job_id, raster, preview, hashlib.sha256(raster).hexdigest()))
    return True


async def without_label(db: Database, job_id: int) -> None:
    """A Create-Job's job has no label until its document comes: no artifact, so that a job.release of it
    by hand ends `aborted/document-unprintable` at the worker instead of sending nothing to the printer."""
    async with db.transaction() as conn:
        await conn.execute("DELETE FROM job_artifacts WHERE job_id = ?", (job_id,))


async def release(db: Database, head: int, steps: list[Step]) -> list[sqlite3.Row]:
    """Every page of the document `head` that is coming in becomes pending, together."""
    async with db.transaction() as conn:
        rows = await conn.execute_fetchall(
            "UPDATE jobs SET state = 'pending', reasons = '[]', updated_at = ?"
            " WHERE (id = ? OR document_job_id = ?) AND state = 'held' AND reasons = ? RETURNING *",
            (now_text(), head, head, INCOMING_REASONS))
        for row in rows:
            await _write_steps(conn, row["id"], steps)
    return sorted(rows, key=lambda r: r["id"])


async def discard(db: Database, head: int, *, keep_head: bool = False) -> None:
    """A document that could not be read: its pages go, leaving nothing (or, for a Create-Job whose
    client has its job-id already, the head, which the caller then aborts)."""
    async with db.transaction() as conn:
        ids = [r["id"] for r in await conn.execute_fetchall(
            "SELECT id FROM jobs WHERE (id = ? OR document_job_id = ?) AND state = 'held' AND reasons = ?",
            (head, head, INCOMING_REASONS))]
        if keep_head:
            ids = [i for i in ids if i != head]
        if not ids:
            return
        marks = ",".join("?" * len(ids))
        for table, column in (("job_events", "job_id"), ("job_artifacts", "job_id"), ("jobs", "id")):
            await conn.execute(f"DELETE FROM {table} WHERE {column} IN ({marks})", ids)


async def pages_of(db: Database, head: int) -> list[sqlite3.Row]:
    """The jobs of the IPP job `head` (one per page), in page order; [] when there is no such job."""
    return list(await db.fetchall("SELECT * FROM jobs WHERE id = ? OR document_job_id = ? ORDER BY id",
                                  (head, head)))


async def heads(db: Database, printer_id: str, *, which: str, user: str | None, limit: int) -> list[sqlite3.Row]:
    """The IPP jobs of a printer (a document's first page stands for it; other jobs for themselves), newest
    first: `which` is completed, not-completed or all (Get-Jobs)."""
    where = ["printer_id = ?", "document_job_id IS NULL"]
    args: list[object] = [printer_id]
    if which == "completed":
        where.append("state IN ('canceled', 'aborted', 'completed')")
    elif which == "not-completed":
        where.append("state IN ('pending', 'held', 'processing', 'stopped')")
    if user is not None:
        where.append("user_name = ?")
        args.append(user)
    args.append(limit)
    return list(await db.fetchall(f"SELECT * FROM jobs WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?",
                                  tuple(args)))


async def abandon_incoming(db: Database, ids: Iterable[str]) -> int:
    """At start-up: documents the last run was still reading never finished; their pages go (a
    Create-Job's head is aborted, its client has its id). Returns how many jobs were touched."""
    printers = list(ids)
    if not printers:
        return 0
    async with db.transaction() as conn:
        rows = await conn.execute_fetchall(
            "SELECT id, document_job_id FROM jobs WHERE state = 'held' AND reasons = ?", (INCOMING_REASONS,))
        stamp = now_text()
        for row in rows:
            await conn.execute("UPDATE jobs SET state = 'aborted', reasons = ?, updated_at = ?, completed_at = ?"
                               " WHERE id = ?", (json.dumps(["document-unprintable"]), stamp, stamp, row["id"]))
    return len(rows)
