"""What becomes of a printer's unfinished jobs when it is removed or changed at run time (printer.remove,
printer.update), by the rules the configuration follows between two runs (jobs.recover, jobs.rehome):
the jobs nothing was sent of move to its successor when it is of the same model (their raster fits its
head); otherwise they end `aborted/printer-removed`. A job that was at the printer when its worker stopped
ends `aborted/printer-removed` too, since nobody follows it any more. Their history is kept.
"""

from __future__ import annotations

import json
from typing import Any

from ..clock import now_text
from .db import Database

UNSENT = "state IN ('pending', 'held') OR (state = 'stopped' AND started_at IS NULL)"
AT_PRINTER = "state = 'processing' OR (state = 'stopped' AND started_at IS NOT NULL)"


async def leave(db: Database, printer_id: str, *, successor: str | None, why: str) -> tuple[list[int], list[int]]:
    """Move (to `successor`, of the same model, or None) or end the unfinished jobs of `printer_id`, in one
    transaction. Returns (moved, aborted) job ids."""
    stamp = now_text()
    moved: list[int] = []
    aborted: list[int] = []
    async with db.transaction() as conn:
        unsent = [row["id"] for row in await conn.execute_fetchall(
            f"SELECT id FROM jobs WHERE printer_id = ? AND ({UNSENT}) ORDER BY id", (printer_id,))]
        at_printer = [row["id"] for row in await conn.execute_fetchall(
            f"SELECT id FROM jobs WHERE printer_id = ? AND ({AT_PRINTER}) ORDER BY id", (printer_id,))]
        events: list[tuple[Any, ...]] = []
        if successor is not None:
            for job_id in unsent:
                await conn.execute("UPDATE jobs SET printer_id = ?, state = CASE state WHEN 'stopped' THEN 'pending'"
                                   " ELSE state END, reasons = CASE state WHEN 'stopped' THEN '[]' ELSE reasons END,"
                                   " updated_at = ? WHERE id = ?", (successor, stamp, job_id))
                events.append((job_id, stamp, "moved", None, json.dumps(
                    {"from_printer_id": printer_id, "to_printer_id": successor, "why": why})))
            moved = unsent
            ending = at_printer
        else:
            ending = unsent + at_printer
        for job_id in ending:
            await conn.execute("UPDATE jobs SET state = 'aborted', reasons = '[\"printer-removed\"]', updated_at = ?,"
                               " completed_at = ? WHERE id = ?", (stamp, stamp, job_id))
            detail = {"reason": "printer-removed", "why": why}
            if job_id in at_printer:
                detail["note"] = "it was at the printer: check whether its labels came out, and reprint it if not"
            events.append((job_id, stamp, "failed", "aborted", json.dumps(detail)))
        aborted = sorted(ending)
        await conn.executemany("INSERT INTO job_events (job_id, at, event, state, detail) VALUES (?, ?, ?, ?, ?)",
                               events)
    return moved, aborted
