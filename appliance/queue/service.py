"""The print queue as the API sees it: submit, preview, reprint, cancel/hold/release, pause/resume.

Validation and rendering happen before anything is stored, so a mistake goes back to
the caller; the job and its artifact are then written in one transaction and the
printer's worker is woken. Labels are drawn and encoded on the drawing thread
(appliance/queue/drawing.py), never on the event loop.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import sqlite3
from typing import Any

from rpc.errors import InvalidParams, NotAllowed, NotFound, RpcError

from .. import logs
from ..events import EventBus
from ..labels.errors import LabelError
from ..labels.registry import TemplateRegistry
from ..printer.media import MediaError, media_words
from ..printer.raster import RasterError
from ..store import jobs
from ..store import printers as printer_store
from ..store.db import DAMAGED_AT_WORK, Database
from .drawing import LabelDrawer
from .render import PrintOptions, Rendered, encode_stored_page, render_for
from .runtime import PrinterRuntime
from .waiting import waiting
from .worker import OnDamaged, Worker

FIRST_STATUS_WAIT_S = 3.0  # how long a label waits for a printer's first status to learn its media

log = logs.get("appliance.queue")


def request_digest(template: str, fields: dict[str, Any], copies: int, printer_id: str, hold: bool,
                   options: dict[str, Any] | None = None) -> str:
    """What a print.submit asked for, as a digest: a reused idempotency_key must ask the same.
    Options appear only when set, so the digests of jobs stored before they existed still match."""
    asked: list[Any] = [template, fields, copies, printer_id, hold]
    if options:
        asked.append(options)
    text = json.dumps(asked, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _refuse_incoming(row: sqlite3.Row, what: str) -> None:
    """A page of an IPP document still being received goes with its document, not on its own."""
    if row["state"] == "held" and jobs.reasons_of(row) == ["job-incoming"]:
        raise NotAllowed(f"job {row['id']} is a page of an IPP document still being received: it cannot be {what} "
                         "on its own; it goes to the queue with the other pages once the document is complete",
                         {"field": "job_id", "reason": "job-incoming", "state": "held"})


def label_error(exc: LabelError) -> RpcError:
    if exc.kind == "not_found":
        return NotFound(f"{exc.field}: {exc.reason}", {"field": exc.field, "reason": exc.reason})
    if exc.kind == "state":
        return NotAllowed(f"{exc.field}: {exc.reason}", {"field": exc.field, "reason": exc.reason})
    return InvalidParams(exc.field, exc.reason)


class JobQueue:
    def __init__(self, db: Database, events: EventBus, registry: TemplateRegistry,
                 printers: list[PrinterRuntime], *, on_damaged: OnDamaged | None = None) -> None:
        self.db = db
        self.on_damaged = on_damaged
        self.events = events
        self.registry = registry
        self.printers = {p.id: p for p in printers}
        self._queue_publish_pending = False
        self._queue_publish_timer: asyncio.TimerHandle | None = None
        self._queue_publish_task: asyncio.Future[None] | None = None
        self._submit_lock = asyncio.Lock()
        self.drawer = LabelDrawer()
        from .batch import Batches

        self.batches = Batches(self)  # print.batch, batch.get, batch.cancel (appliance/queue/batch.py)

    # --- life cycle --------------------------------------------------------------------------

    async def start(self, *, safe_mode: bool) -> list[int]:
        interrupted = await jobs.recover(self.db, self.printers.keys())
        moved, removed = await jobs.rehome(self.db, {pid: rt.model.name for pid, rt in self.printers.items()})
        if moved or removed:
            log.warning("queue.printer_jobs_rehomed", moved=moved, removed=removed)
        paused = await printer_store.paused(self.db)
        for runtime in self.printers.values():
            runtime.paused = paused.get(runtime.id, False)
            runtime.worker = Worker(runtime, self.db, publish_job=self.publish_job,
                                    publish_queue=self.publish_queue, paused=runtime.paused or safe_mode,
                                    contact=not safe_mode, on_damaged=self._halted_for(runtime))
            runtime.worker.start()
        if interrupted:
            log.warning("queue.interrupted_jobs", jobs=interrupted)
        return interrupted

    def _halted_for(self, runtime: PrinterRuntime) -> OnDamaged:
        """What a worker that met a damaged page calls: the appliance hears it, clients see the printer's queue stop."""

        def halted(exc: BaseException, found_by: str) -> None:
            if self.on_damaged is not None:
                self.on_damaged(exc, found_by)
            self.events.publish("printers", "notify_printer_status", runtime.status_wire())

        return halted

    @staticmethod
    def check_sending(runtime: PrinterRuntime) -> None:
        """A new label for a printer whose worker stopped at a damaged database would never go out: say so now."""
        if runtime.queue_stopped() is not None:
            raise NotAllowed(DAMAGED_AT_WORK, {"reason": "storage-damaged"})

    async def stop(self, timeout: float) -> None:
        await asyncio.gather(*(p.worker.stop(timeout) for p in self.printers.values() if p.worker is not None))

    # --- events ------------------------------------------------------------------------------

    def publish_job(self, job: dict[str, Any]) -> None:
        self.events.publish("jobs", "notify_job_updated", job)

    def publish_queue(self) -> None:
        """Coalesced: many job changes in a burst make one queue notification."""
        if self._queue_publish_pending:
            return
        self._queue_publish_pending = True
        self._queue_publish_timer = asyncio.get_running_loop().call_later(0.05, self._start_queue_publish)

    def _start_queue_publish(self) -> None:
        self._queue_publish_task = asyncio.ensure_future(self._publish_queue_now())

    async def settle_events(self) -> None:
        """At stop, once nothing changes jobs any more: a coalesced queue notification still to come is
        dropped, one under way finishes (not left to a closed loop, unawaited)."""
        if self._queue_publish_timer is not None:
            self._queue_publish_timer.cancel()
        if self._queue_publish_task is not None and not self._queue_publish_task.done():
            await asyncio.gather(self._queue_publish_task, return_exceptions=True)
        self._queue_publish_pending = False

    async def _publish_queue_now(self) -> None:
        self._queue_publish_pending = False
        if self.db.is_open:
            self.events.publish("queue", "notify_queue_changed", await self.status())

    # --- lookups -----------------------------------------------------------------------------

    def _choices(self) -> str:
        return ", ".join(f"{p.name} ({p.id})" for p in self.printers.values())

    def printer(self, printer_id: str | None) -> PrinterRuntime:
        """The configured printer with this id, or this name (as printer.list and the config say it)."""
        if printer_id is None:
            if len(self.printers) == 1:
                return next(iter(self.printers.values()))
            raise InvalidParams("printer_id", f"is required: {len(self.printers)} printers are configured: "
                                f"{self._choices()} (the name will do)")
        runtime = self.printers.get(printer_id) or next(
            (p for p in self.printers.values() if p.name == printer_id), None)
        if runtime is None:
            raise NotFound(f"No printer {printer_id}; the printers are {self._choices()}",
                           {"field": "printer_id", "reason": "no such printer"})
        return runtime

    async def job_row(self, job_id: int) -> sqlite3.Row:
        row = await jobs.get(self.db, job_id)
        if row is None:
            raise NotFound(f"No job {job_id}", {"field": "job_id", "reason": "no such job"})
        return row

    async def job(self, job_id: int) -> dict[str, Any]:
        return await self.describe(await self.job_row(job_id))

    async def describe(self, row: sqlite3.Row) -> dict[str, Any]:
        return (await self.describe_many([row]))[0]

    async def describe_many(self, rows: list[sqlite3.Row]) -> list[dict[str, Any]]:
        """Jobs as job.get shows them: with their printer's name, their place in its queue (1 = next;
        None once done) and what a pending one waits for (appliance/queue/waiting.py)."""
        places = await jobs.places(self.db, [r["id"] for r in rows if r["state"] in jobs.WAITING])
        out = []
        for row in rows:
            runtime = self.printers.get(row["printer_id"])
            job = jobs.to_wire(row, runtime.family if runtime else None)
            ahead = places.ahead.get(row["id"], 0)
            job["position"] = ahead + 1 if row["state"] in jobs.WAITING else None
            job["printer_name"] = runtime.name if runtime else None
            job["waiting"] = waiting(job, runtime, ahead, places.heads.get(row["printer_id"]) if ahead else None)
            out.append(job)
        return out

    # --- rendering ---------------------------------------------------------------------------

    def render(self, runtime: PrinterRuntime, template: str, fields: dict[str, Any], tape: str | None,
               options: PrintOptions = PrintOptions()) -> Rendered:
        try:
            return render_for(self.registry, runtime, template, fields, tape=tape, options=options)
        except LabelError as exc:
            raise self.render_error(exc) from None

    @staticmethod
    def render_error(exc: LabelError) -> RpcError:
        """A label that cannot be drawn, as the caller's error."""
        if exc.field == "name":  # the registry's word for it; the caller's param is `template`
            exc = LabelError("template", exc.reason, exc.kind)
        return label_error(exc)

    def _draw(self, runtime: PrinterRuntime, template: str, fields: dict[str, Any], options: PrintOptions,
              copies: int, *, field: str) -> tuple[Rendered, bytes, bytes]:
        """On the drawing thread: the rendered label, its raster for `copies` and its page PNG."""
        rendered = self.render(runtime, template, fields, None, options)
        return rendered, self._encode(runtime, rendered, copies, field=field), rendered.page_png

    async def media_known(self, runtime: PrinterRuntime) -> None:
        """Wait (briefly) for the first status of a printer whose loaded media only its status tells.

        Just after a start, or after printer.add, its first probe may still be on its way; a label asked
        for in that moment waits for it (FIRST_STATUS_WAIT_S at most) instead of being refused with
        "no media is loaded". A printer that does not answer by then gets that answer as before."""
        monitor = runtime.monitor
        deadline = asyncio.get_running_loop().time() + FIRST_STATUS_WAIT_S
        while runtime.current_media() is None and monitor.snapshot.state == "unknown" \
                and monitor.snapshot.source != "config":
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0 or not await monitor.wait_change(left):
                return

    async def preview(self, template: str, fields: dict[str, Any], printer_id: str | None,
                      tape: str | None, high_res: bool = False) -> dict[str, Any]:
        runtime = self.printer(printer_id)
        if tape is None:
            await self.media_known(runtime)
        return await self.drawer.run(self._preview, runtime, template, fields, tape, high_res)

    def _preview(self, runtime: PrinterRuntime, template: str, fields: dict[str, Any], tape: str | None,
                 high_res: bool) -> dict[str, Any]:
        rendered = self.render(runtime, template, fields, tape, PrintOptions(high_res=high_res))
        result = rendered.result
        return {
            "png": base64.b64encode(rendered.preview()).decode(),
            "mime": "image/png",
            "width_px": result.image.width,
            "height_px": result.image.height,
            "length_mm": round(result.length_mm, 2),
            "width_mm": result.width_mm,
            "printable_width_mm": round(rendered.media.printable_width_mm, 2),
            "dpi": {"feed": result.canvas.dpi_feed, "head": result.canvas.dpi_head},
            "tape": {"id": rendered.media.id, "width_mm": rendered.media.width_mm, "kind": rendered.media.kind},
            "printer_id": runtime.id,
            "template": result.template,
            "template_version": result.version,
            "fields": dict(result.fields),
            "warnings": [w.to_dict() for w in result.warnings],
        }

    # --- submitting --------------------------------------------------------------------------

    async def submit(self, template: str, fields: dict[str, Any] | None, copies: int, printer_id: str | None,
                     hold: bool, idempotency_key: str | None,
                     options: PrintOptions = PrintOptions()) -> dict[str, Any]:
        fields = fields or {}
        runtime = self.printer(printer_id)
        digest = None
        if idempotency_key is not None:
            digest = request_digest(template, fields, copies, runtime.id, hold, options.changed())
            existing = await jobs.by_idempotency_key(self.db, idempotency_key)
            if existing is not None:
                return await self._same_request(existing, template, copies, digest)
        self.check_sending(runtime)
        await self.media_known(runtime)
        rendered, raster, page = await self.drawer.run(self._draw, runtime, template, fields, options, copies,
                                                       field="template")
        new = jobs.NewJob(options=options.changed(),
            printer_id=runtime.id, state="held" if hold else "pending", template=rendered.result.template,
            template_version=rendered.result.version, fields=dict(rendered.result.fields), copies=copies,
            media=rendered.media.id, length_mm=round(rendered.result.length_mm, 2), raster=raster,
            preview=page, idempotency_key=idempotency_key, request_digest=digest)
        warnings = [w.to_dict() for w in rendered.result.warnings]
        # the timeline's queued step holds them as print.submit answers them: a list, [] for none (steps
        # stored before said null for none; jobs.timeline and jobs.queued_warnings read that as [])
        row, inserted = await self._insert(new, [jobs.step("queued", new.state, copies=copies, media=new.media,
                                                           warnings=warnings)])
        if not inserted:  # a concurrent submit with the same key stored its job first
            return await self._same_request(row, template, copies, digest)
        job = await self._accepted(runtime, row)
        job["warnings"] = warnings  # what a script should know: a code left out, text shrunk or clipped
        return job

    @staticmethod
    def _encode(runtime: PrinterRuntime, rendered: Rendered, copies: int, *, field: str) -> bytes:
        try:
            return rendered.raster(runtime, copies)
        except (RasterError, MediaError) as exc:
            raise NotAllowed(f"cannot encode this label for {runtime.model.name}: {exc}",
                             {"field": field, "reason": str(exc)}) from None

    async def _reencode(self, job: sqlite3.Row, runtime: PrinterRuntime, page: bytes, copies: int,
                        options: PrintOptions) -> bytes:
        """A stored job's label image encoded again for another number of copies (job.reprint byte for byte).
        A page that no longer fits its media as this version knows it (drawn by an older one, say) is
        refused in words, with the way out, not as an internal error."""
        try:
            return await self.drawer.run(encode_stored_page, runtime, runtime.media_named(job["media"]), page,
                                         copies, options)
        except (RasterError, MediaError) as exc:
            raise NotAllowed(f"job {job['id']}'s stored label cannot be sent again as {copies} copies on "
                             f"{runtime.name}: {exc}; reprint it with rerender=true",
                             {"field": "rerender", "reason": str(exc)}) from None

    async def _insert(self, new: jobs.NewJob, steps: list[jobs.Step]) -> tuple[sqlite3.Row, bool]:
        """The stored job and True, or the job a concurrent twin with the same key stored and False."""
        try:
            return await jobs.insert(self.db, new, steps), True
        except sqlite3.IntegrityError:
            if new.idempotency_key is None:
                raise
            existing = await jobs.by_idempotency_key(self.db, new.idempotency_key)
            if existing is None:
                raise
            return existing, False

    async def _same_request(self, existing: sqlite3.Row, template: str, copies: int,
                            digest: str | None) -> dict[str, Any]:
        # jobs stored before the digest existed (NULL) can only be compared by template and copies
        same = existing["request_digest"] == digest if existing["request_digest"] is not None else (
            existing["template"] == template and existing["copies"] == copies)
        if not same:
            raise NotAllowed("idempotency_key was already used for a different request",
                             {"field": "idempotency_key", "reason": f"already used by job {existing['id']}",
                              "job_id": existing["id"]})
        job = await self.describe(existing)
        job["duplicate"] = True
        job["warnings"] = await jobs.queued_warnings(self.db, existing["id"])
        return job

    async def _accepted(self, runtime: PrinterRuntime, row: sqlite3.Row) -> dict[str, Any]:
        job = await self.describe(row)
        self.publish_job(jobs.to_wire(row, runtime.family))
        self.publish_queue()
        if runtime.worker is not None:
            runtime.worker.wake()
        return job

    async def reprint(self, job_id: int, rerender: bool, copies: int | None,
                      idempotency_key: str | None = None, printer_id: str | None = None) -> dict[str, Any]:
        """A new job with origin_job_id: the stored raster byte for byte, or rendered again; on its own
        printer, or on `printer_id` (byte for byte only to a printer of the same model).

        With `idempotency_key`, a retried reprint (a script that lost the answer) returns the job the
        first one made instead of printing the label again, as print.submit does.
        """
        original = await self.job_row(job_id)
        if rerender and original["source"] == "ipp":
            raise NotAllowed(f"job {job_id} is a page an IPP client sent: it has no template to render again; "
                             "reprint it byte for byte (rerender=false)", {"field": "rerender", "reason": "ipp page"})
        count = copies or original["copies"]
        chosen = self.printer(printer_id) if printer_id is not None else None
        digest = None
        if idempotency_key is not None:
            digest = request_digest("job.reprint", {"job_id": job_id, "rerender": rerender}, count,
                                    chosen.id if chosen else original["printer_id"], False)
            existing = await jobs.by_idempotency_key(self.db, idempotency_key)
            if existing is not None:
                return await self._same_request(existing, original["template"], count, digest)
        step_detail: dict[str, Any] = {"origin_job_id": job_id, "rerender": rerender}
        options = PrintOptions.stored(original["options"])  # cut and resolution as the original was printed
        runtime = chosen or self.printers.get(original["printer_id"])
        if runtime is None:
            runtime = await self._successor(original["printer_id"], rerender)
            step_detail["printer_replaced"] = original["printer_id"]
        elif chosen is not None and chosen.id != original["printer_id"]:
            step_detail["from_printer_id"] = original["printer_id"]
            unfit = None if rerender else await self._unfit(original, chosen)
            if unfit is not None:
                reason, words = unfit
                raise NotAllowed(f"job {job_id} was drawn for {words}: reprint it there with rerender=true",
                                 {"field": "rerender", "reason": reason})
        self.check_sending(runtime)
        self._check_options(original, options, runtime, field="job_id")  # on a printer that took its place
        if rerender:
            rendered, raster, page = await self._redraw(
                original, runtime, options, count, field="job_id", blame="rerender",
                fix="print it anew with print.submit, or reprint it byte for byte (rerender=false)")
            template_version, media_id, length = rendered.result.version, rendered.media.id, rendered.result.length_mm
            fields = dict(rendered.result.fields)
            warnings = [w.to_dict() for w in rendered.result.warnings]
        else:
            warnings = await jobs.queued_warnings(self.db, job_id)  # the same label, the same notes
            art = await jobs.artifact(self.db, job_id)
            if art is None:
                raise NotAllowed("that job's raster was pruned; reprint it with rerender=true",
                                 {"field": "rerender", "reason": "artifact pruned"})
            page = art["preview"]
            raster = art["raster"] if count == original["copies"] else await self._reencode(
                original, runtime, page, count, options)
            template_version, media_id, length = original["template_version"], original["media"], original["length_mm"]
            fields = json.loads(original["fields"])
        new = jobs.NewJob(
            options=options.changed(),
            printer_id=runtime.id, state="pending", template=original["template"], template_version=template_version,
            fields=fields, copies=count, media=media_id, length_mm=round(length, 2), raster=raster, preview=page,
            origin_job_id=job_id, idempotency_key=idempotency_key, request_digest=digest,
            # a reprint comes from where its original came from: an IPP page stays one (no template to redraw)
            source=original["source"], user_name=original["user_name"], document_name=original["document_name"])
        row, inserted = await self._insert(new, [jobs.step("queued", "pending", **step_detail,
                                                           warnings=warnings)])
        if not inserted:  # a concurrent twin with the same key got there first
            return await self._same_request(row, original["template"], count, digest)
        job = await self._accepted(runtime, row)
        job["warnings"] = warnings
        return job

    # --- pages of IPP documents (appliance/ipp/) ------------------------------------------------

    async def submit_page(self, new: jobs.NewJob) -> sqlite3.Row:
        """A page an IPP client sent, drawn and encoded already, stored as its own job. It waits (held,
        job-incoming) until its document is complete: release_document (store/documents.py)."""
        runtime = self.printer(new.printer_id)
        self.check_sending(runtime)
        row, _ = await self._insert(new, [jobs.step("queued", new.state, copies=new.copies, media=new.media,
                                                    source=new.source, page=new.page)])
        self.publish_job(jobs.to_wire(row, runtime.family))
        return row

    async def release_document(self, head: int) -> list[sqlite3.Row]:
        """Every page of the IPP document `head` goes to its printer's queue, together."""
        from ..store import documents

        rows = await documents.release(self.db, head, [jobs.step("released", "pending", why="document complete")])
        for row in rows:
            runtime = self.printers.get(row["printer_id"])
            self.publish_job(jobs.to_wire(row, runtime.family if runtime else None))
            if runtime is not None and runtime.worker is not None:
                runtime.worker.wake()
        self.publish_queue()
        return rows

    async def move(self, job_id: int, printer_id: str) -> dict[str, Any]:
        """Give a job nothing was sent of (pending, held, or stopped before sending) to another printer.

        On a printer of the same model with the same tape the stored raster goes as it is; otherwise the
        label is drawn again from its template and fields (as job.reprint with rerender), for the tape
        that printer has. A stopped job goes back to pending: what stopped it was its old printer's.
        """
        row = await self.job_row(job_id)
        target = self.printer(printer_id)
        self.check_sending(target)
        movable = ("pending", "held", "stopped")
        if row["state"] not in movable or row["started_at"] is not None:
            why = f"it is {row['state']}" if row["state"] not in movable else "it was sent to its printer already"
            raise NotAllowed(f"job {job_id} cannot move: {why}; to print it on {target.name}, reprint it there "
                             "(job.reprint with printer_id)", {"field": "job_id", "reason": why, "state": row["state"]})
        if row["printer_id"] == target.id:
            return await self.describe(row)  # already there: asking again changes nothing
        _refuse_incoming(row, "moved")
        source = self.printers.get(row["printer_id"])
        redrawn = None
        if await self._unfit(row, target) is not None:
            if row["source"] == "ipp":
                raise NotAllowed(f"job {job_id} is a page an IPP client sent, drawn for its printer's tape: it has no "
                                 "template to draw again; move it to a printer of the same model with the same tape, "
                                 "or print the document there", {"field": "printer_id", "reason": "ipp page"})
            options = PrintOptions.stored(row["options"])
            self._check_options(row, options, target, field="printer_id")
            rendered, raster, page = await self._redraw(
                row, target, options, row["copies"], field="printer_id", blame="printer_id",
                fix="move it to a printer of the same model with the same tape, or print it anew with print.submit")
            redrawn = jobs.Redrawn(rendered.result.version, rendered.media.id, rendered.result.length_mm, raster, page)
        moved = await jobs.move(self.db, job_id, from_printer=row["printer_id"], to_printer=target.id,
                                redrawn=redrawn, why="job.move")
        if moved is None:  # its worker sent it, or it was canceled or moved, while it was drawn
            current = await self.job_row(job_id)
            now = self.printers.get(current["printer_id"])
            why = (f"it was moved to {now.name if now else current['printer_id']} meanwhile"
                   if current["printer_id"] != row["printer_id"] else f"it is {current['state']} now")
            raise NotAllowed(f"job {job_id} cannot move: {why}",
                             {"field": "job_id", "reason": why, "state": current["state"]})
        for runtime in (source, target):
            if runtime is not None and runtime.worker is not None:
                runtime.worker.wake()
        self.publish_job(jobs.to_wire(moved, target.family))
        self.publish_queue()
        return await self.describe(moved)

    async def _unfit(self, job: sqlite3.Row, target: PrinterRuntime) -> tuple[str, str] | None:
        """Why a job's stored raster cannot go to `target` as it is: ("another model" or "another tape",
        in words for "drawn for …"); None when it fits (the same model with the same tape, or its tape unknown)."""
        source = self.printers.get(job["printer_id"])
        model = source.model.name if source else await printer_store.model_of(self.db, job["printer_id"])
        if model != target.model.name:
            return "another model", f"another model than {target.name}'s ({target.model.name})"
        loaded = target.current_media()
        if loaded is not None and loaded.id != job["media"]:
            return "another tape", (f"{media_words(job['media'], target.family)} and {target.name} has "
                                    f"{media_words(loaded.id, target.family)}")
        return None

    @staticmethod
    def _check_options(job: sqlite3.Row, options: PrintOptions, runtime: PrinterRuntime, *, field: str) -> None:
        """A stored job's print options (cut, resolution) on another printer than it was made for."""
        try:
            options.check(runtime)
        except LabelError as exc:
            raise NotAllowed(f"job {job['id']} was printed with {exc.field}: {runtime.name} cannot: {exc.reason}",
                             {"field": field, "reason": exc.reason}) from None

    async def _redraw(self, job: sqlite3.Row, runtime: PrinterRuntime, options: PrintOptions, copies: int, *,
                      field: str, blame: str, fix: str) -> tuple[Rendered, bytes, bytes]:
        """A stored job drawn again from its template and fields (job.reprint with rerender, job.move)."""
        try:
            return await self.drawer.run(self._draw, runtime, job["template"], json.loads(job["fields"]), options,
                                         copies, field=field)
        except InvalidParams as exc:  # the job's stored fields no longer suit the template as it is now
            data = exc.data if exc.has_data and isinstance(exc.data, dict) else {}
            raise NotAllowed(f"job {job['id']}'s fields do not suit template {job['template']!r} as it is now "
                             f"({data.get('field', 'fields')}: {data.get('reason', exc.message)}): {fix}",
                             {"field": blame, "reason": "template changed"}) from None

    async def _successor(self, printer_id: str, rerender: bool) -> PrinterRuntime:
        """The configured printer that took the name of a job's printer (a new address or model)."""
        model, successor = await printer_store.replacement(self.db, printer_id, self.printers)
        if successor is None:
            raise NotAllowed("the printer of that job is no longer configured",
                             {"field": "job_id", "reason": "printer gone"})
        runtime = self.printers[successor]
        if not rerender and runtime.model.name != model:
            raise NotAllowed(f"the printer of that job was replaced by {runtime.name}, a {runtime.model.name}; "
                             f"its stored raster is for a {model}: reprint it with rerender=true",
                             {"field": "rerender", "reason": "printer replaced by another model"})
        return runtime

    # --- changing jobs and printers ----------------------------------------------------------

    async def _move(self, job_id: int, allowed: tuple[str, ...], to: str, event: str,
                    reasons: tuple[str, ...] = ()) -> dict[str, Any]:
        moved = await jobs.transition(self.db, job_id, allowed_from=allowed, to=to, reasons=reasons,
                                      steps=[jobs.step(event, to)], completed=to == "canceled")
        if moved is None:  # read only now, for the answer: no such job (NotFound), or the state it is in
            raise _not_allowed(job_id, (await self.job_row(job_id))["state"], allowed, event)
        runtime = self.printers.get(moved["printer_id"])
        if runtime is not None and runtime.worker is not None:
            runtime.worker.wake()
        self.publish_job(jobs.to_wire(moved, runtime.family if runtime else None))
        self.publish_queue()
        return await self.describe(moved)

    async def cancel(self, job_id: int) -> dict[str, Any]:
        cancelable = ("pending", "held", "stopped")
        for _ in range(3):
            row = await self.job_row(job_id)
            reasons: tuple[str, ...] = ("canceled-by-user",)
            if row["state"] == "stopped" and row["started_at"] is not None:
                reasons += ("printer-may-still-print",)  # the printer keeps a job it had started
            if row["state"] not in cancelable:
                break
            try:  # only from the state the reasons were judged on: the worker may move the job meanwhile
                return await self._move(job_id, (row["state"],), "canceled", "canceled", reasons)
            except NotAllowed:
                continue  # it did: judge again
        raise _not_allowed(job_id, row["state"], cancelable, "canceled")

    async def hold(self, job_id: int) -> dict[str, Any]:
        return await self._move(job_id, ("pending",), "held", "held")

    async def release(self, job_id: int) -> dict[str, Any]:
        _refuse_incoming(await self.job_row(job_id), "released")
        return await self._move(job_id, ("held",), "pending", "released")

    async def set_paused(self, printer_id: str | None, paused: bool) -> dict[str, Any]:
        runtime = self.printer(printer_id)
        await printer_store.set_paused(self.db, runtime.id, paused)
        runtime.paused = paused
        if runtime.worker is not None:
            runtime.worker.pause() if paused else runtime.worker.resume()
        self.publish_queue()
        return runtime.to_wire()

    # --- printers added and removed while running (appliance/queue/roster.py) ---------------

    async def attach(self, runtime: PrinterRuntime, *, safe_mode: bool) -> None:
        """A printer added at run time: its worker starts now (its monitor is the roster's to start)."""
        runtime.paused = (await printer_store.paused(self.db)).get(runtime.id, False)
        runtime.worker = Worker(runtime, self.db, publish_job=self.publish_job, publish_queue=self.publish_queue,
                                paused=runtime.paused or safe_mode, contact=not safe_mode,
                                on_damaged=self._halted_for(runtime))
        self.printers[runtime.id] = runtime
        runtime.worker.start()
        self.publish_queue()

    async def detach(self, printer_id: str, timeout: float) -> PrinterRuntime:
        """A printer taken out at run time: no job is given to it any more, and its worker stops once the
        label being sent is out (bounded by `timeout`). Its jobs are the caller's to move or end."""
        runtime = self.printers.pop(printer_id)
        if runtime.worker is not None:
            await runtime.worker.stop(timeout)
        self.publish_queue()
        return runtime

    # --- reading -----------------------------------------------------------------------------

    async def status(self) -> dict[str, Any]:
        counts = await jobs.counts(self.db)
        out = []
        for runtime in self.printers.values():
            worker = runtime.worker
            by_state = counts.get(runtime.id, {})
            out.append({
                "printer_id": runtime.id,
                "name": runtime.name,
                "paused": bool(worker.paused) if worker else runtime.paused,
                "counts": {state: by_state.get(state, 0) for state in jobs.ACTIVE},
                "current_job_id": worker.current_job if worker else None,
                "queue_stopped": runtime.queue_stopped(),
                "worker_alive": bool(worker and worker.alive),
            })
        totals = {state: sum(p["counts"][state] for p in out) for state in jobs.ACTIVE}
        return {"printers": out, "totals": totals, "batches": await self.batches.progress()}

    async def listing(self, state: str | None, printer_id: str | None, since: str | None, limit: int,
                      cursor: str | None, batch_id: int | None = None) -> dict[str, Any]:
        before = None
        if cursor is not None:
            # ASCII digits only (str.isdigit takes "²" and "١٢") and within SQLite's INTEGER
            if not (cursor.isascii() and cursor.isdigit()) or int(cursor) >= 2**63:
                raise InvalidParams("cursor", "is not a cursor from a previous job.list")
            before = int(cursor)
        if since is not None:
            from ..clock import parse, rfc3339

            try:  # to UTC first: the store compares the text of UTC times
                since = rfc3339(parse(since))
            except (ValueError, OverflowError):  # OverflowError: 0001-01-01T00:00+01:00 is before year 1 in UTC
                raise InvalidParams("since", "must be an RFC 3339 time like 2026-11-22T10:00:00Z") from None
        if printer_id is not None and printer_id not in await printer_store.ids(self.db):
            printer_id = self.printer(printer_id).id  # a name; a retired printer's id still lists its history
        rows = await jobs.listing(self.db, state=state, printer_id=printer_id, since=since, limit=limit + 1,
                                  before_id=before, batch_id=batch_id)
        more = len(rows) > limit
        rows = rows[:limit]
        return {"jobs": await self.describe_many(rows),
                "next_cursor": str(rows[-1]["id"]) if more and rows else None}


def _not_allowed(job_id: int, state: str, allowed: tuple[str, ...], event: str) -> NotAllowed:
    states = ", ".join(allowed[:-1]) + (" or " if len(allowed) > 1 else "") + allowed[-1]
    return NotAllowed(f"job {job_id} is {state}: only a {states} job can be {event}",
                      {"field": "job_id", "reason": f"job is {state}", "state": state})
