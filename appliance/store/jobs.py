"""SQL for jobs, their artifacts and their timeline.

Each state change is one transaction that also writes the timeline steps that led to
it, so a job costs three transactions when all goes well: queued, processing, completed.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..clock import now_text
from ..printer.media import media_words
from ..reasons import describe_all
from .db import Database
from .printers import final_successor

ACTIVE = ("pending", "held", "processing", "stopped")
TERMINAL = ("canceled", "aborted", "completed")
WAITING = ("pending", "held", "stopped")  # a job with a place in its printer's queue (`position`)

Step = tuple[str, str, str | None, dict[str, Any] | None]  # (at, event, state, detail)


@dataclass(frozen=True)
class NewJob:
    printer_id: str
    state: str
    template: str
    template_version: int
    fields: dict[str, Any]
    copies: int
    media: str
    length_mm: float
    raster: bytes
    preview: bytes
    idempotency_key: str | None = None
    request_digest: str | None = None
    origin_job_id: int | None = None
    reasons: tuple[str, ...] = ()
    options: dict[str, Any] | None = None  # print options that differ from the defaults
    source: str = "rpc"  # rpc or ipp (migration 0007; its comment's "cli" is not stored by anything)
    user_name: str | None = None
    document_name: str | None = None
    document_job_id: int | None = None  # an IPP document's first page (its IPP job-id); None for others
    page: int | None = None


def step(event: str, state: str | None = None, **detail: Any) -> Step:
    return (now_text(), event, state, detail or None)


def reasons_of(row: sqlite3.Row) -> list[str]:
    """A stored job's reasons (its `reasons` on the wire)."""
    return list(json.loads(row["reasons"]))


def to_wire(row: sqlite3.Row, family: str | None) -> dict[str, Any]:
    """The job as every caller sees it; `descriptions`: a sentence per reason, as printer.status has them
    for its printer's `family` (the media words: tape cassette or DK roll; None: unknown, neutral words);
    `media_description`: its media as that printer takes it ("12mm tape", "62mm roll", "29×90 mm labels")."""
    reasons = json.loads(row["reasons"])
    job = {
        "id": row["id"],
        "state": row["state"],
        "reasons": reasons,
        "descriptions": describe_all(reasons, family),
        "printer_id": row["printer_id"],
        "template": row["template"],
        "template_version": row["template_version"],
        "fields": json.loads(row["fields"]),
        "copies": row["copies"],
        "media": row["media"],
        "media_description": media_words(row["media"], family),
        "length_mm": row["length_mm"],
        "origin_job_id": row["origin_job_id"],
        "attempts": row["attempts"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "started_at": row["started_at"],
        "completed_at": row["completed_at"],
    }
    if row["idempotency_key"] is not None:
        job["idempotency_key"] = row["idempotency_key"]
    if row["options"]:
        job["options"] = json.loads(row["options"])
    if row["batch_id"] is not None:  # a row of a print.batch (row 1 = the first data row)
        job["batch_id"] = row["batch_id"]
        job["row"] = row["row"]
    job["source"] = row["source"]
    job["user_name"] = row["user_name"]
    job["document_name"] = row["document_name"]
    if row["document_job_id"] is not None:
        job["document_job_id"] = row["document_job_id"]
        job["page"] = row["page"]
    return job


async def _write_steps(conn: Any, job_id: int, steps: Iterable[Step]) -> None:
    rows = [(job_id, at, event, state, json.dumps(detail) if detail else None) for at, event, state, detail in steps]
    if rows:
        await conn.executemany("INSERT INTO job_events (job_id, at, event, state, detail) VALUES (?, ?, ?, ?, ?)", rows)


async def insert(db: Database, job: NewJob, steps: list[Step]) -> sqlite3.Row:
    """The job, its artifact and its first timeline steps, in one transaction."""
    stamp = now_text()
    async with db.transaction() as conn:
        (row,) = await conn.execute_fetchall(
            "INSERT INTO jobs (printer_id, state, reasons, template, template_version, fields, copies, media,"
            " length_mm, origin_job_id, idempotency_key, request_digest, options, created_at, updated_at,"
            " source, user_name, document_name, document_job_id, page)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
            (job.printer_id, job.state, json.dumps(list(job.reasons)), job.template, job.template_version,
             json.dumps(job.fields, ensure_ascii=False), job.copies, job.media, job.length_mm, job.origin_job_id,
             job.idempotency_key, job.request_digest, json.dumps(job.options) if job.options else None, stamp, stamp,
             job.source, job.user_name, job.document_name, job.document_job_id, job.page),
        )
        await conn.execute(
            "INSERT INTO job_artifacts (job_id, raster, preview, sha256) VALUES (?, ?, ?, ?)",
            (row["id"], job.raster, job.preview, hashlib.sha256(job.raster).hexdigest()),
        )
        await _write_steps(conn, row["id"], steps)
    return row


async def get(db: Database, job_id: int) -> sqlite3.Row | None:
    return await db.fetchone("SELECT * FROM jobs WHERE id = ?", (job_id,))


async def by_idempotency_key(db: Database, key: str) -> sqlite3.Row | None:
    """The job stored under `key`; committed only: a retry that reads a twin's insert still in its
    transaction would be told of a job that a full disk can roll back, and never print."""
    return await db.fetchone_committed("SELECT * FROM jobs WHERE idempotency_key = ?", (key,))


async def artifact(db: Database, job_id: int) -> sqlite3.Row | None:
    return await db.fetchone("SELECT raster, preview, sha256 FROM job_artifacts WHERE job_id = ?", (job_id,))


async def transition(
    db: Database,
    job_id: int,
    *,
    allowed_from: Iterable[str],
    to: str,
    reasons: Iterable[str] = (),
    steps: Iterable[Step] = (),
    started: bool = False,
    completed: bool = False,
    attempts: int | None = None,
    printer_id: str | None = None,
) -> sqlite3.Row | None:
    """Move a job to `to` if it is in one of `allowed_from` (and still on `printer_id`, when given: a
    worker must not send a job that job.move gave to another printer meanwhile); None when it was not
    (nothing written)."""
    allowed = tuple(allowed_from)
    stamp = now_text()
    sets = ["state = ?", "reasons = ?", "updated_at = ?"]
    values: list[Any] = [to, json.dumps(list(reasons)), stamp]
    if started:
        sets.append("started_at = COALESCE(started_at, ?)")
        values.append(stamp)
    if completed:
        sets.append("completed_at = ?")
        values.append(stamp)
    if attempts is not None:
        sets.append("attempts = ?")
        values.append(attempts)
    marks = ",".join("?" * len(allowed))
    where, keys = f"id = ? AND state IN ({marks})", [job_id, *allowed]
    if printer_id is not None:
        where += " AND printer_id = ?"
        keys.append(printer_id)
    async with db.transaction() as conn:
        rows = await conn.execute_fetchall(
            f"UPDATE jobs SET {', '.join(sets)} WHERE {where} RETURNING *", (*values, *keys))
        row = next(iter(rows), None)
        if row is not None:
            await _write_steps(conn, job_id, steps)
    return row


async def save_attempts(db: Database, job_id: int, attempts: int, steps: Iterable[Step] = ()) -> None:
    """A resend's attempt count, with the steps that led to it (`sent`, `printing`, …: they are kept
    in memory until the job's next write, and would be lost with the process otherwise)."""
    async with db.transaction() as conn:
        await conn.execute("UPDATE jobs SET attempts = ? WHERE id = ?", (attempts, job_id))
        await _write_steps(conn, job_id, steps)


async def add_steps(db: Database, job_id: int, steps: list[Step]) -> None:
    if steps:
        async with db.transaction() as conn:
            await _write_steps(conn, job_id, steps)


async def next_pending(db: Database, printer_id: str) -> sqlite3.Row | None:
    """The printer's next committed job, with its stored raster as `raster` (None when pruned)."""
    return await db.fetchone_committed(
        "SELECT jobs.*, job_artifacts.raster AS raster FROM jobs"
        " LEFT JOIN job_artifacts ON job_artifacts.job_id = jobs.id"
        " WHERE jobs.printer_id = ? AND jobs.state = 'pending' ORDER BY jobs.id LIMIT 1",
        (printer_id,),
    )


@dataclass(frozen=True, slots=True)
class Queued:
    """A job in its printer's queue: what the jobs behind it wait for."""

    id: int
    state: str
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Places:
    """Where jobs stand in their printers' queues, which the worker takes oldest first: the pending,
    processing and stopped jobs (a held job waits for nobody and nobody waits for it)."""

    ahead: dict[int, int]  # job id → how many of its printer's jobs go out before it
    heads: dict[str, Queued]  # printer id → the first job of its queue


_QUEUED = "state IN ('pending', 'processing', 'stopped')"


async def places(db: Database, job_ids: Iterable[int]) -> Places:
    """The places of jobs `job_ids` (see Places), counted by SQLite in the index jobs_by_state.

    Nothing of the queue is built in Python: a burst of submits reads its growing queue on every
    answer, and building every queued job for each was quadratic in the burst (1,500 jobs: a fifth of
    the server's time)."""
    wanted = sorted(set(job_ids))
    if not wanted:
        return Places({}, {})
    marks = ",".join("?" * len(wanted))
    rows = await db.fetchall(
        f"SELECT r.id, r.printer_id, (SELECT COUNT(*) FROM jobs q WHERE q.{_QUEUED} AND q.printer_id = r.printer_id"
        f" AND q.id < r.id) AS ahead FROM jobs r WHERE r.id IN ({marks})", wanted)
    ahead = {row["id"]: row["ahead"] for row in rows}
    printers = sorted({row["printer_id"] for row in rows})
    heads = await db.fetchall(
        f"SELECT id, printer_id, state, reasons FROM jobs WHERE id IN (SELECT MIN(id) FROM jobs WHERE {_QUEUED}"
        f" AND printer_id IN ({','.join('?' * len(printers))}) GROUP BY printer_id)", printers) if printers else []
    return Places(ahead, {row["printer_id"]: Queued(row["id"], row["state"], tuple(json.loads(row["reasons"])))
                          for row in heads})


async def listing(db: Database, *, state: str | None, printer_id: str | None, since: str | None, limit: int,
                  before_id: int | None, batch_id: int | None = None) -> list[sqlite3.Row]:
    where, values = [], []
    for clause, value in (("state = ?", state), ("printer_id = ?", printer_id), ("created_at >= ?", since),
                          ("id < ?", before_id), ("batch_id = ?", batch_id)):
        if value is not None:
            where.append(clause)
            values.append(value)
    sql = "SELECT * FROM jobs" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id DESC LIMIT ?"
    return await db.fetchall(sql, (*values, limit))


def _detail(event: str, stored: str | None) -> dict[str, Any]:
    """A step's detail as every reader gets it. The `queued` step's warnings are a list ([] for none), as
    print.submit answers them: older versions stored null for none, and before that a reprint's step had none."""
    detail: dict[str, Any] = json.loads(stored) if stored else {}
    if event == "queued":
        warnings = detail.get("warnings")
        detail["warnings"] = list(warnings) if isinstance(warnings, list) else []
    return detail


async def timeline(db: Database, job_id: int) -> list[dict[str, Any]]:
    rows = await db.fetchall("SELECT at, event, state, detail FROM job_events WHERE job_id = ? ORDER BY id", (job_id,))
    return [{"at": r["at"], "event": r["event"], "state": r["state"], "detail": _detail(r["event"], r["detail"])}
            for r in rows]


async def queued_warnings(db: Database, job_id: int) -> list[dict[str, Any]]:
    """The label's warnings recorded when the job was queued (its first step; [] for none, also in old rows):
    what an idempotent retry answers, and what a byte-for-byte reprint carries over."""
    row = await db.fetchone("SELECT detail FROM job_events WHERE job_id = ? ORDER BY id LIMIT 1", (job_id,))
    return list(_detail("queued", row["detail"])["warnings"]) if row is not None else []


async def counts(db: Database) -> dict[str, dict[str, int]]:
    rows = await db.fetchall(
        "SELECT printer_id, state, COUNT(*) AS n FROM jobs WHERE state IN ('pending','held','processing','stopped')"
        " GROUP BY printer_id, state")
    found: dict[str, dict[str, int]] = {}
    for row in rows:
        found.setdefault(row["printer_id"], {})[row["state"]] = row["n"]
    return found


async def stopped_reasons(db: Database) -> dict[str, dict[str, int]]:
    """printer id → {reason: stopped jobs}; a stopped job without a reason counts under ""."""
    rows = await db.fetchall(
        "SELECT printer_id, j.value AS reason, COUNT(*) AS n FROM jobs LEFT JOIN json_each(jobs.reasons) AS j"
        " WHERE state = 'stopped' GROUP BY printer_id, j.value")
    found: dict[str, dict[str, int]] = {}
    for row in rows:
        found.setdefault(row["printer_id"], {})[row["reason"] or ""] = row["n"]
    return found


async def recover(db: Database, printer_ids: Iterable[str]) -> list[int]:
    """At start-up: decide what becomes of the jobs the last run left unfinished.

    A job at the printer (`processing`, or `stopped` after sending began) on a configured printer
    whose page counter was read before sending stays as it is: its worker follows it again, and
    the counter tells whether the label came out (`completed`) or it is sent again. Without a
    counter (or with its printer gone from the configuration) nobody can tell: it becomes
    `aborted/interrupted`, for a person to check and reprint. A job stopped before anything was
    sent goes back to `pending`. Returns the ids of the interrupted jobs.
    """
    known = set(printer_ids)
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "SELECT id, printer_id FROM jobs"
            " WHERE state = 'processing' OR (state = 'stopped' AND started_at IS NOT NULL)")
        started = [(row["id"], row["printer_id"]) for row in await cursor.fetchall()]
        await cursor.close()
        interrupted = [job_id for job_id, printer_id in started
                       if printer_id not in known or await _page_count_before(conn, job_id) is None]
        stamp = now_text()
        for job_id in interrupted:
            await conn.execute("UPDATE jobs SET state='aborted', reasons='[\"interrupted\"]', updated_at=?,"
                               " completed_at=? WHERE id=?", (stamp, stamp, job_id))
        await conn.executemany(
            "INSERT INTO job_events (job_id, at, event, state, detail) VALUES (?, ?, 'interrupted', 'aborted', ?)",
            [(job_id, stamp, json.dumps({"why": "the appliance stopped while this job was at the printer, and the "
                                                "printer has no page counter to tell whether it came out; check "
                                                "the printer and reprint it if it did not"}))
             for job_id in interrupted])
        await conn.execute("UPDATE jobs SET state='pending', reasons='[]', updated_at=? WHERE state='stopped'"
                           " AND started_at IS NULL", (stamp,))
    return interrupted


@dataclass(frozen=True, slots=True)
class Redrawn:
    """A job drawn again for another printer (job.move to another model, or to another tape)."""

    template_version: int
    media: str
    length_mm: float
    raster: bytes
    preview: bytes


async def move(db: Database, job_id: int, *, from_printer: str, to_printer: str, redrawn: Redrawn | None,
               **detail: Any) -> sqlite3.Row | None:
    """Give a job nothing was sent of to another printer, in one transaction; None when it is no longer
    waiting on `from_printer` (its worker took it, or it was canceled or moved meanwhile).

    A stopped job goes back to pending (what stopped it was its printer's); its reasons are cleared.
    """
    stamp = now_text()
    async with db.transaction() as conn:
        rows = await conn.execute_fetchall(
            "UPDATE jobs SET printer_id = ?, state = CASE state WHEN 'stopped' THEN 'pending' ELSE state END,"
            " reasons = '[]', updated_at = ? WHERE id = ? AND printer_id = ? AND started_at IS NULL"
            " AND state IN ('pending', 'held', 'stopped') RETURNING *", (to_printer, stamp, job_id, from_printer))
        row = next(iter(rows), None)
        if row is None:
            return None
        if redrawn is not None:
            rows = await conn.execute_fetchall(
                "UPDATE jobs SET template_version = ?, media = ?, length_mm = ? WHERE id = ? RETURNING *",
                (redrawn.template_version, redrawn.media, round(redrawn.length_mm, 2), job_id))
            row = next(iter(rows))
            await conn.execute(
                "INSERT INTO job_artifacts (job_id, raster, preview, sha256) VALUES (?, ?, ?, ?) ON CONFLICT (job_id)"
                " DO UPDATE SET raster = excluded.raster, preview = excluded.preview, sha256 = excluded.sha256",
                (job_id, redrawn.raster, redrawn.preview, hashlib.sha256(redrawn.raster).hexdigest()))
        await _write_steps(conn, job_id, [step("moved", row["state"], from_printer_id=from_printer,
                                               to_printer_id=to_printer, redrawn=redrawn is not None, **detail)])
    return row


async def rehome(db: Database, configured: Mapping[str, str]) -> tuple[list[int], list[int]]:
    """At start-up, after :func:`recover`: the pending and held jobs of printers no longer configured.

    `configured` maps each configured printer's id to its model. A printer given a new address
    under the same name is a new printer (ids are UUIDv5 of model and uri): its old one's jobs
    move to it when the model is the same, since their raster fits its head. Otherwise nothing
    will ever print them: they become `aborted/printer-removed` (reprint them where they belong).
    Returns (moved, removed) job ids.
    """
    async with db.transaction() as conn:
        rows = await conn.execute_fetchall("SELECT id, printer_id FROM jobs WHERE state IN ('pending', 'held')")
        waiting = [row for row in rows if row["printer_id"] not in configured]
        if not waiting:
            return [], []
        printers = {row["id"]: row for row in await conn.execute_fetchall(
            "SELECT id, model, replaced_by FROM printers")}
        stamp = now_text()
        moved: list[int] = []
        removed: list[int] = []
        for job_id, old in ((row["id"], row["printer_id"]) for row in waiting):
            model = printers[old]["model"] if old in printers else None
            new = final_successor(printers, old, configured)
            if new is not None and configured[new] == model:
                await conn.execute("UPDATE jobs SET printer_id = ?, updated_at = ? WHERE id = ?", (new, stamp, job_id))
                await _write_steps(conn, job_id, [(stamp, "moved", None, {
                    "from_printer_id": old, "to_printer_id": new,
                    "why": "the configuration gave this printer's name to a printer of the same model at another "
                           "address"})])
                moved.append(job_id)
                continue
            why = ("the configuration gave this printer's name to a printer of another model "
                   f"({configured[new]}): reprint the job with rerender to print it there") if new is not None else \
                "its printer is no longer in the configuration"
            await conn.execute("UPDATE jobs SET state = 'aborted', reasons = '[\"printer-removed\"]', updated_at = ?,"
                               " completed_at = ? WHERE id = ?", (stamp, stamp, job_id))
            await _write_steps(conn, job_id, [(stamp, "failed", "aborted", {"reason": "printer-removed", "why": why})])
            removed.append(job_id)
    return moved, removed


_PAGE_COUNT_BEFORE = ("SELECT detail FROM job_events WHERE job_id = ? AND event = 'processing'"
                      " ORDER BY id DESC LIMIT 1")


def _count_in(row: Any) -> int | None:
    count = json.loads(row["detail"]).get("page_count") if row is not None and row["detail"] else None
    return count if isinstance(count, int) else None


async def _page_count_before(conn: Any, job_id: int) -> int | None:
    cursor = await conn.execute(_PAGE_COUNT_BEFORE, (job_id,))
    row = await cursor.fetchone()
    await cursor.close()
    return _count_in(row)


async def page_count_before(db: Database, job_id: int) -> int | None:
    """The printer's page counter as read just before the job's last send (its `processing` step)."""
    return (await sent_to(db, job_id))[0]


async def sent_to(db: Database, job_id: int) -> tuple[int | None, str | None]:
    """(page counter, serial number) of the printer as read just before the job's last send: the
    serial says whose counter it was, when the printer's SNMP agent told it."""
    row = await db.fetchone(_PAGE_COUNT_BEFORE, (job_id,))
    serial = json.loads(row["detail"]).get("serial") if row is not None and row["detail"] else None
    return _count_in(row), serial if isinstance(serial, str) else None


async def last_started_on(db: Database, printer_id: str) -> sqlite3.Row | None:
    """The job sent to the printer last (by when it was first sent), whatever its state now."""
    return await db.fetchone("SELECT * FROM jobs WHERE printer_id = ? AND started_at IS NOT NULL"
                             " ORDER BY started_at DESC, id DESC LIMIT 1", (printer_id,))


async def started_on(db: Database, printer_id: str) -> list[sqlite3.Row]:
    """The printer's jobs at the printer when the last run ended (see :func:`recover`), with their raster."""
    return await db.fetchall(
        "SELECT jobs.*, job_artifacts.raster AS raster FROM jobs"
        " LEFT JOIN job_artifacts ON job_artifacts.job_id = jobs.id"
        " WHERE jobs.printer_id = ? AND (jobs.state = 'processing' OR (jobs.state = 'stopped'"
        " AND jobs.started_at IS NOT NULL)) ORDER BY jobs.id",
        (printer_id,),
    )
