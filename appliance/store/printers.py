"""SQL for the printers and printer_status tables."""

from __future__ import annotations

import json
from collections.abc import Container, Mapping
from typing import Any

from ..clock import now_text
from .db import Database


async def upsert(db: Database, printers: list[dict[str, Any]]) -> None:
    """Insert or update the configured printers in one transaction (at start-up).

    A printer's id is UUIDv5(model, uri), so a printer given a new address or model in the
    configuration under the same name is a new printer. The old one keeps its row and history
    under a retired name, with `replaced_by` naming the printer that took its name (see
    jobs.rehome for its waiting jobs).
    """
    stamp = now_text()
    async with db.transaction() as conn:
        for p in printers:
            await conn.execute(
                "UPDATE printers SET name = name || ' (retired ' || substr(id, 1, 8) || ')', replaced_by = ?,"
                " added = NULL, updated_at = ? WHERE name = ? AND id != ?",
                (p["id"], stamp, p["name"], p["id"]),
            )
            await conn.execute(
                "INSERT INTO printers (id, name, model, uri, media, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(id) DO UPDATE SET name=excluded.name, media=excluded.media, replaced_by=NULL,"
                " added=NULL, updated_at=excluded.updated_at WHERE name IS NOT excluded.name"
                " OR media IS NOT excluded.media OR replaced_by IS NOT NULL OR added IS NOT NULL",
                (p["id"], p["name"], p["model"], p["uri"], p["media"] or None, stamp, stamp),
            )


def final_successor(printers: Mapping[str, Any], printer_id: str, configured: Container[str]) -> str | None:
    """The configured printer that took this one's name, through one retirement or several.

    `printers`: rows of the printers table (id, replaced_by) by id.
    """
    seen = {printer_id}
    current = printers[printer_id]["replaced_by"] if printer_id in printers else None
    while current is not None and current not in seen:
        if current in configured:
            return str(current)
        seen.add(current)
        current = printers[current]["replaced_by"] if current in printers else None
    return None


async def replacement(db: Database, printer_id: str, configured: Container[str]) -> tuple[str | None, str | None]:
    """(model of printer_id, the configured printer that took its name or None)."""
    printers = {row["id"]: row for row in await db.fetchall("SELECT id, model, replaced_by FROM printers")}
    model = printers[printer_id]["model"] if printer_id in printers else None
    return model, final_successor(printers, printer_id, configured)


async def model_of(db: Database, printer_id: str) -> str | None:
    """The model a printer (configured or retired) was, as stored."""
    row = await db.fetchone("SELECT model FROM printers WHERE id = ?", (printer_id,))
    return str(row["model"]) if row else None


async def ids(db: Database) -> set[str]:
    return {row["id"] for row in await db.fetchall("SELECT id FROM printers")}


async def paused(db: Database) -> dict[str, bool]:
    return {row["id"]: bool(row["paused"]) for row in await db.fetchall("SELECT id, paused FROM printers")}


async def set_paused(db: Database, printer_id: str, value: bool) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE printers SET paused = ?, updated_at = ? WHERE id = ?", (int(value), now_text(), printer_id)
        )


async def save_status(db: Database, printer_id: str, state: str, reasons: list[str], media: str | None,
                      detail: dict[str, Any]) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO printer_status (printer_id, state, reasons, media, detail, changed_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(printer_id) DO UPDATE SET state=excluded.state,"
            " reasons=excluded.reasons, media=excluded.media, detail=excluded.detail, changed_at=excluded.changed_at",
            (printer_id, state, json.dumps(reasons), media, json.dumps(detail), now_text()),
        )


async def load_status(db: Database, printer_id: str) -> dict[str, Any] | None:
    row = await db.fetchone("SELECT * FROM printer_status WHERE printer_id = ?", (printer_id,))
    if row is None:
        return None
    return {
        "state": row["state"],
        "reasons": json.loads(row["reasons"]),
        "media": row["media"],
        "detail": json.loads(row["detail"]),
        "changed_at": row["changed_at"],
    }


# --- printers added at run time (printer.add; migration 0006) ----------------------------------


async def added(db: Database) -> list[dict[str, Any]]:
    """The printers added at run time and still in use, oldest first: id, name, and what printer.add was given."""
    rows = await db.fetchall("SELECT id, name, added FROM printers WHERE added IS NOT NULL ORDER BY created_at, id")
    return [{"id": row["id"], "name": row["name"], **json.loads(row["added"])} for row in rows]


async def name_holder(db: Database, name: str) -> dict[str, Any] | None:
    row = await db.fetchone("SELECT id, added FROM printers WHERE name = ?", (name,))
    return {"id": row["id"], "added": row["added"]} if row else None


async def store_added(db: Database, printer_id: str, name: str, given: dict[str, Any], *,
                      replacing: str | None = None) -> None:
    """Store a printer added at run time, in one transaction. A row no printer in use holds under `name`
    (a printer taken out of the configuration) is retired, as the configuration does it; `replacing` (the
    printer this one takes the place of: printer.update to a new address) is retired too, its successor
    named, so its jobs can follow it and be reprinted here."""
    stamp = now_text()
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE printers SET name = name || ' (retired ' || substr(id, 1, 8) || ')', replaced_by = ?, added = NULL,"
            " updated_at = ? WHERE (name = ? OR id = ?) AND id != ?",
            (printer_id, stamp, name, replacing, printer_id))
        await conn.execute(
            "INSERT INTO printers (id, name, model, uri, media, added, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(id) DO UPDATE SET name=excluded.name, media=excluded.media, added=excluded.added,"
            " replaced_by=NULL, updated_at=excluded.updated_at",
            (printer_id, name, given["model"], given["uri"], given.get("media") or None, json.dumps(given), stamp,
             stamp))


async def remove_added(db: Database, printer_id: str) -> None:
    """A printer added at run time is no longer used: its row and history stay, its name is freed."""
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE printers SET name = name || ' (removed ' || substr(id, 1, 8) || ')', added = NULL, updated_at = ?"
            " WHERE id = ?", (now_text(), printer_id))
