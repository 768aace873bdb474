"""print.batch, batch.get and batch.cancel: many labels from one call (a spreadsheet's rows).

Every row is validated, rendered and encoded before anything is stored: a bad row anywhere means
nothing is queued, and the caller hears of every bad row at once (`error.data.rows`). The rows are
drawn on the drawing thread a chunk at a time, so the event loop keeps answering meanwhile; what is
kept per row is only its raster and its 1-bit page (what a job stores), never its preview image,
and once one row is found bad nothing more is kept at all: the rest are only checked.
"""

from __future__ import annotations

import io
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PIL import Image

from rpc.errors import InvalidParams, NotAllowed, NotFound

from ..labels.errors import LabelError
from ..printer.media import MediaError
from ..printer.raster import RasterError
from ..reasons import describe_all
from ..store import batches as batch_store
from ..store import jobs
from .render import PrintOptions, render_for
from .runtime import PrinterRuntime
from .service import request_digest

if TYPE_CHECKING:
    from .service import JobQueue

CHUNK = 25  # rows drawn per trip to the drawing thread: few trips, and a label.preview waits at most a chunk
MAX_ROWS = 5000
MAX_VALUE_CHARS = 4096  # as print.submit's fields (rpc/contract.py FIELDS)


@dataclass(frozen=True, slots=True)
class RowProblem:
    row: int
    field: str
    reason: str

    def to_wire(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "reason": self.reason}


def page_png(image: Image.Image) -> bytes:
    """The 1-bit page a job stores (as Rendered.page_png), zlib at level 1: about twice as quick as the
    default for a label's few hundred bytes, 20 % larger, and what a reprint reads back is the same."""
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False, compress_level=1)
    return out.getvalue()


def shape_problem(number: int, fields: dict[str, Any]) -> RowProblem | None:
    """A value no field takes (print.submit's schema says the same of its fields), named by its row."""
    for name, value in fields.items():
        if value is not None and not isinstance(value, str | int | float | bool):
            got = "an object" if isinstance(value, dict) else "a list" if isinstance(value, list) else "something else"
            return RowProblem(number, f"fields.{name}", f"must be text, a number, true, false or null, not {got}")
        if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
            return RowProblem(number, f"fields.{name}", f"must have at most {MAX_VALUE_CHARS} characters")
    return None


@dataclass(frozen=True, slots=True)
class Drawn:
    """One row ready to store: its job (raster and page included) and its label's warnings."""

    job: jobs.NewJob
    warnings: list[dict[str, Any]]


class Batches:
    def __init__(self, queue: JobQueue) -> None:
        self.queue = queue

    # --- submitting --------------------------------------------------------------------------

    async def submit(self, template: str, rows: list[dict[str, Any]], copies: int, printer_id: str | None,
                     hold: bool, idempotency_key: str | None, options: PrintOptions = PrintOptions(), *,
                     dry_run: bool = False, max_rows: int = MAX_ROWS) -> dict[str, Any]:
        queue = self.queue
        if len(rows) > max_rows:
            raise InvalidParams("rows", f"has {len(rows)} rows; at most {max_rows} go in one call "
                                "(split the file, or raise queue.batch_max_rows)")
        runtime = queue.printer(printer_id)
        digest = None
        if idempotency_key is not None and not dry_run:
            digest = request_digest(template, {"batch_rows": rows}, copies, runtime.id, hold, options.changed())
            existing = await batch_store.by_idempotency_key(queue.db, idempotency_key)
            if existing is not None:
                return await self._same_request(existing, digest)
        try:  # a template that is not there, or a cut this printer cannot make: one error, not one per row
            queue.registry.get(template)
            options.check(runtime)
        except LabelError as exc:
            raise queue.render_error(exc) from None
        if not dry_run:
            queue.check_sending(runtime)
        await queue.media_known(runtime)
        drawn: list[Drawn] = []
        problems: list[RowProblem] = []
        warnings: list[dict[str, Any]] = []
        for start in range(0, len(rows), CHUNK):
            keep = not dry_run and not problems  # once a row is bad nothing will be stored: only check the rest
            chunk = await queue.drawer.run(self._draw_rows, runtime, template, rows[start:start + CHUNK], start,
                                           copies, hold, options, keep)
            for number, outcome in chunk:
                if isinstance(outcome, RowProblem):
                    problems.append(outcome)
                    drawn.clear()
                    continue
                warnings += [{"row": number, **w} for w in outcome.warnings]
                if keep and not problems:
                    drawn.append(outcome)
        if problems:
            bad = len(problems)
            raise InvalidParams("rows", f"{bad} of {len(rows)} rows cannot be printed; nothing was queued",
                                f"Invalid params: {bad} of {len(rows)} rows cannot be printed "
                                f"(first: row {problems[0].row}, {problems[0].field}: {problems[0].reason}); "
                                "nothing was queued", rows=[p.to_wire() for p in problems])
        if dry_run:
            return {"batch_id": None, "dry_run": True, "rows": len(rows), "jobs": [], "warnings": warnings,
                    "printer_id": runtime.id}
        if queue.printers.get(runtime.id) is not runtime:  # removed or changed (printer.remove/update) meanwhile
            raise NotFound(f"printer {runtime.name} was removed or changed while the batch was drawn; nothing was "
                           "queued: send it again", {"field": "printer_id", "reason": "printer removed or changed"})
        new = batch_store.NewBatch(printer_id=runtime.id, template=template, copies=copies,
                                   idempotency_key=idempotency_key, request_digest=digest)
        try:
            batch_id = await batch_store.insert(
                queue.db, new, [(d.job, [jobs.step("queued", d.job.state, copies=copies, media=d.job.media,
                                                   warnings=d.warnings)]) for d in drawn])
        except sqlite3.IntegrityError:  # a concurrent call with the same key stored its batch first
            if idempotency_key is None:
                raise
            existing = await batch_store.by_idempotency_key(queue.db, idempotency_key)
            if existing is None:
                raise
            return await self._same_request(existing, digest)
        del drawn
        queue.publish_queue()
        if runtime.worker is not None:
            runtime.worker.wake()
        return await self._answer(batch_id, runtime, warnings)

    def _draw_rows(self, runtime: PrinterRuntime, template: str, rows: Sequence[dict[str, Any]], start: int,
                   copies: int, hold: bool, options: PrintOptions,
                   keep: bool) -> list[tuple[int, Drawn | RowProblem]]:
        """On the drawing thread: each row rendered and encoded (kept only when `keep`), or what is wrong with it."""
        out: list[tuple[int, Drawn | RowProblem]] = []
        for number, fields in enumerate(rows, start=start + 1):
            time.sleep(0)  # let the event loop's thread have the GIL between labels: it answers meanwhile
            wrong = shape_problem(number, fields)
            if wrong is not None:
                out.append((number, wrong))
                continue
            try:
                rendered = render_for(self.queue.registry, runtime, template, fields, options=options)
            except LabelError as exc:
                if exc.kind != "invalid":  # the printer, its tape or the template: not this row's fault
                    raise self.queue.render_error(exc) from None
                out.append((number, RowProblem(number, exc.field, exc.reason)))
                continue
            try:
                raster = rendered.raster(runtime, copies)
            except (RasterError, MediaError) as exc:
                out.append((number, RowProblem(number, "fields", f"cannot be encoded for {runtime.model.name}: "
                                                                 f"{exc}")))
                continue
            warnings = [w.to_dict() for w in rendered.result.warnings]
            result = rendered.result
            job = jobs.NewJob(
                options=options.changed(), printer_id=runtime.id, state="held" if hold else "pending",
                template=result.template, template_version=result.version, fields=dict(result.fields),
                copies=copies, media=rendered.media.id, length_mm=round(result.length_mm, 2),
                raster=raster if keep else b"", preview=page_png(result.image) if keep else b"")
            out.append((number, Drawn(job, warnings)))
        return out

    async def _same_request(self, existing: sqlite3.Row, digest: str | None) -> dict[str, Any]:
        if existing["request_digest"] != digest:
            raise NotAllowed("idempotency_key was already used for a different batch",
                             {"field": "idempotency_key", "reason": f"already used by batch {existing['id']}",
                              "batch_id": existing["id"]})
        runtime = self.queue.printers.get(existing["printer_id"])
        answer = await self._answer(existing["id"], runtime, None)
        answer["duplicate"] = True
        return answer

    async def _answer(self, batch_id: int, runtime: PrinterRuntime | None,
                      warnings: list[dict[str, Any]] | None) -> dict[str, Any]:
        listed = await batch_store.job_ids(self.queue.db, batch_id)
        return {"batch_id": batch_id, "rows": len(listed),
                "printer_id": runtime.id if runtime else None, "printer_name": runtime.name if runtime else None,
                "jobs": [{"id": r["id"], "row": r["row"], "state": r["state"]} for r in listed],
                "warnings": warnings if warnings is not None else []}

    # --- reading and canceling ---------------------------------------------------------------

    async def _row(self, batch_id: int) -> sqlite3.Row:
        row = await batch_store.get(self.queue.db, batch_id)
        if row is None:
            raise NotFound(f"No batch {batch_id}", {"field": "batch_id", "reason": "no such batch"})
        return row

    async def get(self, batch_id: int) -> dict[str, Any]:
        """A batch's progress: its jobs by state, labels printed, done, and its first problem (by row)."""
        return await self._describe(await self._row(batch_id))

    async def _describe(self, batch: sqlite3.Row) -> dict[str, Any]:
        db = self.queue.db
        found = (await batch_store.counts(db, [batch["id"]]))[batch["id"]]
        runtime = self.queue.printers.get(batch["printer_id"])
        states = {state: found["states"].get(state, 0) for state in jobs.ACTIVE + jobs.TERMINAL}
        problem = await batch_store.first_problem(db, batch["id"])
        out = {
            "batch_id": batch["id"], "template": batch["template"], "rows": batch["rows"], "copies": batch["copies"],
            "printer_id": batch["printer_id"], "printer_name": runtime.name if runtime else None,
            "created_at": batch["created_at"], "counts": states, "labels": batch["rows"] * batch["copies"],
            "labels_printed": found["labels"], "done": not any(states[s] for s in jobs.ACTIVE),
            "first_problem": None,
        }
        if batch["idempotency_key"] is not None:
            out["idempotency_key"] = batch["idempotency_key"]
        if problem is not None:
            reasons = jobs.reasons_of(problem)
            out["first_problem"] = {"row": problem["row"], "job_id": problem["id"], "state": problem["state"],
                                    "reasons": reasons,
                                    "descriptions": describe_all(reasons, runtime.family if runtime else None)}
        return out

    async def cancel(self, batch_id: int) -> dict[str, Any]:
        """Cancel every job of the batch nothing was sent of; a label already at the printer finishes."""
        batch = await self._row(batch_id)
        canceled = await batch_store.cancel(self.queue.db, batch_id)
        if canceled:
            runtime = self.queue.printers.get(batch["printer_id"])
            if runtime is not None and runtime.worker is not None:
                runtime.worker.wake()
            family = runtime.family if runtime is not None else None
            for row in canceled:  # each one, as job.cancel does: the TUI's rows and /metrics' finished count
                self.queue.publish_job(jobs.to_wire(row, family))
            self.queue.publish_queue()
        out = await self._describe(batch)
        out["canceled"] = len(canceled)
        return out

    async def progress(self, limit: int = 20) -> list[dict[str, Any]]:
        """The batches still printing (for notify_queue_changed and queue.status), oldest first."""
        db = self.queue.db
        ids = (await batch_store.active(db))[:limit]
        found = await batch_store.counts(db, ids)
        out = []
        for batch_id in ids:
            batch = await batch_store.get(db, batch_id)
            if batch is None:
                continue
            states = found[batch_id]["states"]
            out.append({"batch_id": batch_id, "printer_id": batch["printer_id"], "rows": batch["rows"],
                        "labels": batch["rows"] * batch["copies"], "labels_printed": found[batch_id]["labels"],
                        "counts": {s: states.get(s, 0) for s in jobs.ACTIVE + jobs.TERMINAL}})
        return out
