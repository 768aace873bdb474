"""SQL for history: retention (rows and artifacts) and the stats summary."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from rpc.wirejson import rfc3339

from ..clock import now
from .db import Database

_TERMINAL = "('canceled', 'aborted', 'completed')"


def _ago(days: float) -> str:
    return rfc3339(now() - timedelta(days=days))


async def prune(db: Database, *, keep_days: int, keep_jobs: int, artifact_days: int) -> dict[str, int]:
    """Delete finished jobs older than keep_days or beyond the newest keep_jobs; artifacts after artifact_days."""
    async with db.transaction() as conn:
        old = await conn.execute(f"DELETE FROM jobs WHERE state IN {_TERMINAL} AND created_at < ?",
                                 (_ago(keep_days),))
        extra = await conn.execute(
            f"DELETE FROM jobs WHERE state IN {_TERMINAL} AND id <= "
            "(SELECT id FROM jobs ORDER BY id DESC LIMIT 1 OFFSET ?)", (keep_jobs,))
        artifacts = await conn.execute(
            f"DELETE FROM job_artifacts WHERE job_id IN (SELECT id FROM jobs WHERE state IN {_TERMINAL}"
            " AND created_at < ?)", (_ago(artifact_days),))
        counts = {"jobs": old.rowcount + extra.rowcount, "artifacts": artifacts.rowcount}
    return counts


async def summary(db: Database, days: int) -> dict[str, Any]:
    since = _ago(days)
    per_day_rows = await db.fetchall(
        "SELECT substr(created_at, 1, 10) AS day, state, COUNT(*) AS jobs, SUM(copies) AS labels,"
        " SUM(length_mm * copies) AS tape_mm FROM jobs WHERE created_at >= ? GROUP BY day, state ORDER BY day",
        (since,))
    per_day: dict[str, dict[str, Any]] = {}
    for row in per_day_rows:
        entry = per_day.setdefault(row["day"], {"date": row["day"], "jobs": {}, "labels": 0, "tape_mm": 0.0})
        entry["jobs"][row["state"]] = row["jobs"]
        if row["state"] == "completed":
            entry["labels"] += row["labels"] or 0
            entry["tape_mm"] = round(entry["tape_mm"] + (row["tape_mm"] or 0.0), 1)
    per_tape = await db.fetchall(
        "SELECT media, SUM(copies) AS labels, ROUND(SUM(length_mm * copies), 1) AS tape_mm FROM jobs"
        " WHERE state = 'completed' AND created_at >= ? GROUP BY media ORDER BY media", (since,))
    mean = await db.fetchone(
        "SELECT AVG((julianday(completed_at) - julianday(created_at)) * 86400.0) AS s, COUNT(*) AS n FROM jobs"
        " WHERE state = 'completed' AND created_at >= ?", (since,))
    return {
        "days": days,
        "since": since,
        "per_day": list(per_day.values()),
        "per_tape": [{"media": r["media"], "labels": r["labels"], "tape_mm": r["tape_mm"]} for r in per_tape],
        "completed": mean["n"] if mean else 0,
        "mean_submit_to_printed_s": round(mean["s"], 3) if mean and mean["s"] is not None else None,
    }
