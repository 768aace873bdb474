"""SQL for history: retention (rows and artifacts) and the stats summary."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from rpc.wirejson import rfc3339

from ..clock import now
from ..printer.media import media_words
from ..printer.models import UnknownModelError, get_model
from ..printer.status import MEDIA_NOUN, series_of, worded
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


def _series(model: str | None) -> str | None:
    """ "pt" or "ql" for a stored model name; None for one this version does not know."""
    try:
        return series_of(get_model(model).family) if model else None
    except UnknownModelError:
        return None


async def summary(db: Database, days: int, families: Iterable[str] = ()) -> dict[str, Any]:
    """stats.summary. Its keys say "tape" (`per_tape`, `tape_mm`) for every media, as scripts read them;
    the words for a person are added: `media_noun` for the configured printers' `families` (tape, roll, or
    media when they take both or none), and each `per_tape` row's `series` and `description` ("12mm tape",
    "62mm roll", "29×90 mm labels"). A row is a media on one series: a QL's 12mm roll is not a PT's tape."""
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
    per_model = await db.fetchall(
        "SELECT jobs.media, printers.model, SUM(jobs.copies) AS labels, SUM(jobs.length_mm * jobs.copies) AS"
        " tape_mm FROM jobs LEFT JOIN printers ON printers.id = jobs.printer_id WHERE jobs.state = 'completed'"
        " AND jobs.created_at >= ? GROUP BY jobs.media, printers.model", (since,))
    per_tape: dict[tuple[str, str], dict[str, Any]] = {}
    for row in per_model:
        series = _series(row["model"])
        entry = per_tape.setdefault((row["media"], series or ""), {
            "media": row["media"], "labels": 0, "tape_mm": 0.0, "series": series,
            "description": media_words(row["media"], series)})
        entry["labels"] += row["labels"] or 0
        entry["tape_mm"] += row["tape_mm"] or 0.0
    serieses = {series_of(family) for family in families}
    mean = await db.fetchone(
        "SELECT AVG((julianday(completed_at) - julianday(created_at)) * 86400.0) AS s, COUNT(*) AS n FROM jobs"
        " WHERE state = 'completed' AND created_at >= ?", (since,))
    return {
        "days": days,
        "since": since,
        "per_day": list(per_day.values()),
        "per_tape": [{**entry, "tape_mm": round(entry["tape_mm"], 1)} for _, entry in sorted(per_tape.items())],
        "media_noun": worded(MEDIA_NOUN, serieses.pop() if len(serieses) == 1 else None),
        "completed": mean["n"] if mean else 0,
        "mean_submit_to_printed_s": round(mean["s"], 3) if mean and mean["s"] is not None else None,
    }
