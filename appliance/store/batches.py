"""SQL for batches: many jobs from one print.batch call, stored in one transaction.

A batch's jobs are ordinary jobs that carry `batch_id` and `row` (1 = the first data row). They are
inserted in row order while the one writer holds the database, so their ids, and with them the
order the printer's worker takes them in, follow the rows.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..clock import now_text
from .db import Database
from .jobs import ACTIVE, NewJob, Step


@dataclass(frozen=True)
class NewBatch:
    printer_id: str
    template: str
    copies: int
    idempotency_key: str | None
    request_digest: str | None


async def insert(db: Database, batch: NewBatch, rows: Sequence[tuple[NewJob, list[Step]]]) -> int:
    """The batch, its jobs (in row order, row numbers from 1), their artifacts and first steps: all or nothing."""
    stamp = now_text()
    async with db.transaction() as conn:
        (head,) = await conn.execute_fetchall(
            "INSERT INTO batches (printer_id, template, rows, copies, idempotency_key, request_digest, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (batch.printer_id, batch.template, len(rows), batch.copies, batch.idempotency_key,
             batch.request_digest, stamp))
        batch_id = head["id"]
        await conn.executemany(
            "INSERT INTO jobs (printer_id, state, reasons, template, template_version, fields, copies, media,"
            " length_mm, options, batch_id, row, created_at, updated_at)"
            " VALUES (?, ?, '[]', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(job.printer_id, job.state, job.template, job.template_version,
              json.dumps(job.fields, ensure_ascii=False), job.copies, job.media, job.length_mm,
              json.dumps(job.options) if job.options else None, batch_id, number, stamp, stamp)
             for number, (job, _) in enumerate(rows, start=1)])
        ids = [r["id"] for r in await conn.execute_fetchall(
            "SELECT id FROM jobs WHERE batch_id = ? ORDER BY row", (batch_id,))]
        await conn.executemany(
            "INSERT INTO job_artifacts (job_id, raster, preview, sha256) VALUES (?, ?, ?, ?)",
            [(job_id, job.raster, job.preview, hashlib.sha256(job.raster).hexdigest())
             for job_id, (job, _) in zip(ids, rows, strict=True)])
        await conn.executemany(
            "INSERT INTO job_events (job_id, at, event, state, detail) VALUES (?, ?, ?, ?, ?)",
            [(job_id, at, event, state, json.dumps(detail) if detail else None)
             for job_id, (_, steps) in zip(ids, rows, strict=True) for at, event, state, detail in steps])
    return int(batch_id)


async def get(db: Database, batch_id: int) -> sqlite3.Row | None:
    return await db.fetchone("SELECT * FROM batches WHERE id = ?", (batch_id,))


async def by_idempotency_key(db: Database, key: str) -> sqlite3.Row | None:
    """The batch stored under `key` (committed only, as jobs.by_idempotency_key says why)."""
    return await db.fetchone_committed("SELECT * FROM batches WHERE idempotency_key = ?", (key,))


async def job_ids(db: Database, batch_id: int) -> list[sqlite3.Row]:
    """(id, row, state) of a batch's jobs, in row order."""
    return await db.fetchall("SELECT id, row, state FROM jobs WHERE batch_id = ? ORDER BY row", (batch_id,))


async def counts(db: Database, batch_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """batch id → {state: jobs} and the labels printed (copies of its completed jobs)."""
    if not batch_ids:
        return {}
    marks = ",".join("?" * len(batch_ids))
    rows = await db.fetchall(
        f"SELECT batch_id, state, COUNT(*) AS n, SUM(copies) AS labels FROM jobs WHERE batch_id IN ({marks})"
        " GROUP BY batch_id, state", list(batch_ids))
    found: dict[int, dict[str, Any]] = {b: {"states": {}, "labels": 0} for b in batch_ids}
    for row in rows:
        found[row["batch_id"]]["states"][row["state"]] = row["n"]
        if row["state"] == "completed":
            found[row["batch_id"]]["labels"] = row["labels"]
    return found


async def first_problem(db: Database, batch_id: int) -> sqlite3.Row | None:
    """The first row (in row order) whose job is stopped, aborted or canceled: what a person looks at first."""
    return await db.fetchone(
        "SELECT * FROM jobs WHERE batch_id = ? AND state IN ('stopped', 'aborted', 'canceled') ORDER BY row LIMIT 1",
        (batch_id,))


async def active(db: Database) -> list[int]:
    """The batches with a job still to print (pending, held, processing or stopped), oldest first."""
    marks = ",".join("?" * len(ACTIVE))
    rows = await db.fetchall(
        f"SELECT DISTINCT batch_id FROM jobs WHERE state IN ({marks}) AND batch_id IS NOT NULL ORDER BY batch_id",
        ACTIVE)
    return [row["batch_id"] for row in rows]


async def cancel(db: Database, batch_id: int) -> list[sqlite3.Row]:
    """Cancel the batch's jobs that nothing was sent of (pending, held, or stopped before sending), in one
    transaction; the canceled jobs. A job at its printer is left to finish."""
    stamp = now_text()
    async with db.transaction() as conn:
        rows = await conn.execute_fetchall(
            "UPDATE jobs SET state = 'canceled', reasons = '[\"canceled-by-user\"]', updated_at = ?,"
            " completed_at = ? WHERE batch_id = ? AND (state IN ('pending', 'held')"
            " OR (state = 'stopped' AND started_at IS NULL)) RETURNING *", (stamp, stamp, batch_id))
        canceled = list(rows)
        await conn.executemany(
            "INSERT INTO job_events (job_id, at, event, state, detail) VALUES (?, ?, 'canceled', 'canceled', ?)",
            [(row["id"], stamp, json.dumps({"by": "batch.cancel", "batch_id": batch_id})) for row in canceled])
    return canceled
