"""What a start-up does with the jobs the last run left at the printer (appliance.store.jobs.recover)."""

from __future__ import annotations

from appliance.store import jobs
from appliance.store import printers as printer_store
from appliance.store.db import Database

PRINTERS = [{"id": p, "name": p, "model": "PT-P750W", "uri": f"virtual://{p}", "media": "12mm"} for p in ("p1", "p2")]


async def _job(db: Database, printer: str, state: str, steps: list[jobs.Step], started: bool = True) -> int:
    row = await jobs.insert(db, jobs.NewJob(printer, "pending", "text", 1, {}, 1, "12mm", 20.0, b"\x1b@", b""), [])
    if state != "pending":
        await jobs.transition(db, row["id"], allowed_from=("pending",), to=state, started=started, steps=steps)
    return int(row["id"])


async def test_only_jobs_whose_label_can_be_checked_are_kept_for_following(db: Database) -> None:
    await printer_store.upsert(db, PRINTERS)
    counted = await _job(db, "p1", "processing", [jobs.step("processing", "processing", page_count=41)])
    stopped = await _job(db, "p1", "stopped", [jobs.step("processing", "processing", page_count=42),
                                               jobs.step("printer-error", "stopped", reason="media-empty")])
    no_counter = await _job(db, "p1", "processing", [jobs.step("processing", "processing", page_count=None)])
    printer_gone = await _job(db, "p2", "processing", [jobs.step("processing", "processing", page_count=7)])
    never_sent = await _job(db, "p1", "stopped", [jobs.step("printer-error", "stopped")], started=False)

    interrupted = await jobs.recover(db, ["p1"])

    assert sorted(interrupted) == sorted([no_counter, printer_gone])
    for job_id in interrupted:
        row = await jobs.get(db, job_id)
        assert row is not None and row["state"] == "aborted" and jobs.reasons_of(row) == ["interrupted"]
    assert [r["id"] for r in await jobs.started_on(db, "p1")] == [counted, stopped]
    assert await jobs.page_count_before(db, counted) == 41 and await jobs.page_count_before(db, stopped) == 42
    pending = await jobs.get(db, never_sent)
    assert pending is not None and pending["state"] == "pending"
