"""The IPP operations of one printer: each takes a parsed request and answers an IPP message.

An IPP job is an appliance job: its document is drawn page by page on the label-drawing thread,
each page stored as a job that waits until the document is complete, then all are queued
together (store/documents.py). A document that is not what it says leaves no job behind.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from .. import logs
from ..clock import now_text
from ..store import documents as document_store
from ..store import jobs as job_store
from . import codec, codes, job_attrs, printer_attrs
from .codec import Attribute, Message
from .documents import DocumentError, Page
from .ticket import IppError, Ticket, operation_value, read_ticket

log = logs.get("appliance.ipp")
TEMPLATE = "ipp-document"
OPEN_JOB_TIMEOUT_S = 60.0  # multiple-operation-time-out: a Create-Job job silent this long is closed
GET_JOBS_DEFAULT = ("job-id", "job-uri")


@dataclass
class Request:
    message: Message
    document: IO[bytes]
    runtime: Any  # queue.runtime.PrinterRuntime
    endpoint: printer_attrs.Endpoint
    may_change: bool  # False for a read-scope token: Get-* only


class IppService:
    """The operations, over the appliance's queue, database and settings."""

    def __init__(self, appliance: Any) -> None:
        self.app = appliance
        self.settings = appliance.settings.ipp
        self.started_wall = time.time() - (time.monotonic() - appliance.started_monotonic)
        self.tickets: dict[int, Ticket] = {}  # Create-Job's ticket until its Send-Document
        self.opened: dict[int, float] = {}  # when each was created or last sent to (monotonic)
        self.dnssd_names: dict[str, str] = {}

    @property
    def queue(self) -> Any:
        return self.app.queue

    def up_time(self) -> int:
        return max(1, int(time.monotonic() - self.app.started_monotonic) + 1)

    async def handle(self, request: Request) -> Message:
        await self._close_forgotten()
        op = request.message.code
        if op not in codes.OPERATIONS:
            raise IppError(codes.OPERATION_NOT_SUPPORTED, f"operation 0x{op:04x} is not supported")
        if not request.may_change and op not in codes.READ_ONLY:
            raise IppError(codes.FORBIDDEN, "this token has the read scope: it may only use the Get- operations")
        handler = {
            codes.GET_PRINTER_ATTRIBUTES: self.get_printer_attributes, codes.VALIDATE_JOB: self.validate_job,
            codes.PRINT_JOB: self.print_job, codes.CREATE_JOB: self.create_job,
            codes.SEND_DOCUMENT: self.send_document, codes.CLOSE_JOB: self.close_job,
            codes.CANCEL_JOB: self.cancel_job, codes.CANCEL_MY_JOBS: self.cancel_my_jobs,
            codes.GET_JOBS: self.get_jobs, codes.GET_JOB_ATTRIBUTES: self.get_job_attributes,
            codes.IDENTIFY_PRINTER: self.identify_printer,
        }[op]
        return await handler(request)

    async def _close_forgotten(self) -> None:
        """Create-Job jobs whose client went quiet past multiple-operation-time-out: what came is printed
        (multiple-operation-time-out-action process-job), a job with no document is aborted."""
        now = time.monotonic()
        for head in [h for h, at in self.opened.items() if now - at > OPEN_JOB_TIMEOUT_S]:
            log.warning("ipp.open_job_timed_out", job_id=head, seconds=OPEN_JOB_TIMEOUT_S)
            await self._close(head)

    # --- answers -------------------------------------------------------------------------------

    @staticmethod
    def answer(request: Request, status: int = codes.OK, message: str | None = None,
               unsupported: list[Attribute] | None = None) -> Message:
        return response(request.message, status, message, unsupported)

    # --- printer -------------------------------------------------------------------------------

    async def get_printer_attributes(self, request: Request) -> Message:
        runtime = request.runtime
        counts = (await self.queue.status())["printers"]
        queued = next((sum(p["counts"].values()) for p in counts if p["printer_id"] == runtime.id), 0)
        every = printer_attrs.build(runtime, request.endpoint, queued=queued,
                                    started_monotonic=self.app.started_monotonic,
                                    max_kb=self.settings.max_document_bytes // 1024,
                                    dnssd_name=self.dnssd_names.get(runtime.name, runtime.name))
        requested = _keywords(request.message, "requested-attributes")
        out = self.answer(request)
        out.new_group(codec.PRINTER_GROUP).attributes.extend(printer_attrs.select(every, requested))
        return out

    async def identify_printer(self, request: Request) -> Message:
        log.info("ipp.identify", printer=request.runtime.name)  # a label printer has no light or sound to use
        return self.answer(request)

    # --- jobs ------------------------------------------------------------------------------------

    def _media(self, request: Request) -> Any:
        return printer_attrs.loaded_media(request.runtime)

    async def validate_job(self, request: Request) -> Message:
        ticket = read_ticket(request.message, self._media(request))
        return self._ticket_answer(request, ticket)

    def _ticket_answer(self, request: Request, ticket: Ticket) -> Message:
        if ticket.unsupported:
            return self.answer(request, codes.OK_IGNORED, "some attributes were ignored", ticket.unsupported)
        return self.answer(request)

    async def print_job(self, request: Request) -> Message:
        ticket = read_ticket(request.message, self._media(request))
        self._check_accepting(request)
        head = await self._print_document(request, ticket, head=None, placeholder=False)
        await self.queue.release_document(head)
        return await self._job_answer(request, head, ticket)

    async def create_job(self, request: Request) -> Message:
        ticket = read_ticket(request.message, self._media(request))
        self._check_accepting(request)
        runtime = request.runtime
        media = self._media(request)
        row = await self.queue.submit_page(job_store.NewJob(
            printer_id=runtime.id, state="held", reasons=(document_store.INCOMING,), template=TEMPLATE,
            template_version=0, fields={}, copies=ticket.copies, media=media.id if media else "", length_mm=0.0,
            raster=b"", preview=b"", source="ipp", user_name=ticket.user,
            document_name=ticket.document_name or ticket.job_name, page=1))
        await document_store.without_label(self.app.db, row["id"])
        self.tickets[row["id"]] = ticket
        self.opened[row["id"]] = time.monotonic()
        return await self._job_answer(request, row["id"], ticket)

    async def send_document(self, request: Request) -> Message:
        head = await self._job_id(request)
        last = operation_value(request.message, "last-document")
        if not isinstance(last, bool):
            raise IppError(codes.BAD_REQUEST, "last-document (a boolean) is required")
        pages = await document_store.pages_of(self.app.db, head)
        ticket = self.tickets.get(head)
        if ticket is None or not pages or pages[0]["reasons"] != document_store.INCOMING_REASONS:
            raise IppError(codes.NOT_POSSIBLE, f"job {head} is not waiting for a document")
        self.opened[head] = time.monotonic()
        sent = read_ticket(request.message, self._media(request))
        ticket.document_format, ticket.compression = sent.document_format, sent.compression
        ticket.document_name = sent.document_name or ticket.document_name
        has_data = request.document.read(1)
        if has_data:
            request.document.seek(-1, io.SEEK_CUR)
            filled = len(pages) > 1 or bool(pages[0]["length_mm"])
            if filled:
                raise IppError(codes.MULTIPLE_DOCUMENTS_NOT_SUPPORTED, "a job takes one document")
            try:
                await self._print_document(request, ticket, head=head, placeholder=True)
            except IppError:
                await self._abort(head)
                raise
        if last:
            await self._close(head)
        return await self._job_answer(request, head, ticket)

    async def close_job(self, request: Request) -> Message:
        head = await self._job_id(request)
        pages = await document_store.pages_of(self.app.db, head)
        if not pages or pages[0]["reasons"] != document_store.INCOMING_REASONS:
            raise IppError(codes.NOT_POSSIBLE, f"job {head} is not open")
        await self._close(head)
        return await self._job_answer(request, head, None)

    async def _close(self, head: int) -> None:
        self.tickets.pop(head, None)
        self.opened.pop(head, None)
        pages = await document_store.pages_of(self.app.db, head)
        if pages and not pages[0]["length_mm"] and len(pages) == 1:
            await self._abort(head)  # closed with no document: nothing to print
            return
        await self.queue.release_document(head)

    async def _abort(self, head: int) -> None:
        self.tickets.pop(head, None)
        self.opened.pop(head, None)
        await self._discard(head, keep_head=True, state="aborted", reason="document-unprintable")
        await job_store.transition(self.app.db, head, allowed_from=("held",), to="aborted",
                                   reasons=("document-unprintable",), completed=True,
                                   steps=[job_store.step("aborted", "aborted", why="no printable document")])
        await self._publish_head(head)

    async def _discard(self, head: int, *, keep_head: bool, state: str, reason: str) -> None:
        """document_store.discard, then each page it deleted published one last time, ended (`state`, with
        `removed: true`): submit_page published them `held`, and the TUI and /metrics only hear of jobs
        by notify_job_updated (a ghost held row otherwise; a job never counted as finished)."""
        before = [row for row in await document_store.pages_of(self.app.db, head)
                  if row["state"] == "held" and row["reasons"] == document_store.INCOMING_REASONS
                  and not (keep_head and row["id"] == head)]
        await document_store.discard(self.app.db, head, keep_head=keep_head)
        if not before:
            return
        still = {row["id"] for row in await document_store.pages_of(self.app.db, head)}
        stamp = now_text()
        for row in before:
            if row["id"] in still:
                continue
            family = self.queue.printers[row["printer_id"]].family if row["printer_id"] in self.queue.printers \
                else None
            wire = job_store.to_wire(row, family)
            self.queue.publish_job({**wire, "state": state, "reasons": [reason], "updated_at": stamp,
                                    "completed_at": stamp, "removed": True})
        self.queue.publish_queue()

    async def _publish_head(self, head: int) -> None:
        """The head job as it is now (aborted or canceled by an IPP operation), and the queue summary."""
        from rpc.errors import RpcError

        try:
            self.queue.publish_job(await self.queue.job(head))
        except RpcError:  # gone meanwhile (pruned): nothing to say
            pass
        self.queue.publish_queue()

    def _check_accepting(self, request: Request) -> None:
        if self.app.stopping:
            raise IppError(codes.SERVICE_UNAVAILABLE, "the appliance is shutting down; try again in a moment")
        if request.runtime.queue_stopped() is not None:
            raise IppError(codes.NOT_ACCEPTING_JOBS, "the printer's queue stopped (its database is damaged)")
        if self._media(request) is None:
            raise IppError(codes.NOT_POSSIBLE, f"{request.runtime.name} reports no tape or labels loaded: load some")

    async def _print_document(self, request: Request, ticket: Ticket, *, head: int | None, placeholder: bool) -> int:
        """Draw, encode and store every page; the head job's id. Nothing stays stored when it fails."""
        from .rendering import render_pages

        runtime = request.runtime
        media = self._media(request)
        drawer = self.queue.drawer
        limit = self.settings.max_document_bytes
        pages: Iterator[tuple[bytes, bytes, float]] = render_pages(
            request.document, ticket.document_format, ticket.compression, limit, runtime.model, media, ticket.fit,
            ticket.copies, notifications=runtime.confirms_labels)
        number = 0
        try:
            while True:
                item = await drawer.run(next, pages, None)
                if item is None:
                    break
                number += 1
                if number > self.settings.max_pages:
                    raise DocumentError(f"the document has more than {self.settings.max_pages} pages "
                                        "([ipp] max_pages)")
                raster, png, length_mm = item
                if number == 1 and placeholder and head is not None:
                    await document_store.fill(self.app.db, head, media=media.id, length_mm=round(length_mm, 2),
                                              copies=ticket.copies, raster=raster, preview=png,
                                              document_name=ticket.document_name)
                    continue
                row = await self.queue.submit_page(job_store.NewJob(
                    printer_id=runtime.id, state="held", reasons=(document_store.INCOMING,), template=TEMPLATE,
                    template_version=0, fields={}, copies=ticket.copies, media=media.id,
                    length_mm=round(length_mm, 2), raster=raster, preview=png, source="ipp", user_name=ticket.user,
                    document_name=ticket.document_name or ticket.job_name, document_job_id=head, page=number))
                if head is None:
                    head = row["id"]
            if number == 0:
                raise DocumentError("the document holds no page")
        except DocumentError as exc:
            if head is not None and not placeholder:
                await self._discard(head, keep_head=False, state="aborted", reason="document-unprintable")
            log.warning("ipp.document_refused", printer=runtime.name, format=ticket.document_format,
                        reason=str(exc), user=ticket.user)
            status = codes.REQUEST_ENTITY_TOO_LARGE if "max_pages" in str(exc) or "larger than" in str(exc) \
                else codes.DOCUMENT_FORMAT_ERROR
            raise IppError(status, str(exc)) from None
        except BaseException:
            if head is not None and not placeholder:
                await self._discard(head, keep_head=False, state="aborted", reason="aborted-by-system")
            raise
        finally:
            await drawer.run(pages.close)
        assert head is not None
        log.info("ipp.job", printer=runtime.name, job_id=head, pages=number, copies=ticket.copies,
                 format=ticket.document_format, user=ticket.user)
        return head

    async def _job_answer(self, request: Request, head: int, ticket: Ticket | None) -> Message:
        pages = await document_store.pages_of(self.app.db, head)
        status = codes.OK_IGNORED if ticket is not None and ticket.unsupported else codes.OK
        out = self.answer(request, status, None, ticket.unsupported if ticket else None)
        group = out.new_group(codec.JOB_GROUP)
        every = job_attrs.build(pages, request.endpoint.printer_uri, up_time=self.up_time(),
                                started_wall=self.started_wall)
        group.attributes.extend(a for a in every if a.name in ("job-id", "job-uri", "job-state", "job-state-reasons",
                                                               "job-state-message"))
        return out

    async def _job_id(self, request: Request) -> int:
        job_id = operation_value(request.message, "job-id")
        if job_id is None:
            uri = operation_value(request.message, "job-uri")
            tail = str(uri or "").rstrip("/").rsplit("/", 1)[-1]
            job_id = int(tail) if tail.isdigit() else None
        if not isinstance(job_id, int) or isinstance(job_id, bool) or job_id < 1:
            raise IppError(codes.BAD_REQUEST, "job-id (or job-uri) is required")
        pages = await document_store.pages_of(self.app.db, job_id)
        if not pages or pages[0]["printer_id"] != request.runtime.id or pages[0]["document_job_id"] is not None:
            raise IppError(codes.NOT_FOUND, f"no job {job_id} on {request.runtime.name}")
        return job_id

    async def get_job_attributes(self, request: Request) -> Message:
        head = await self._job_id(request)
        pages = await document_store.pages_of(self.app.db, head)
        out = self.answer(request)
        every = job_attrs.build(pages, request.endpoint.printer_uri, up_time=self.up_time(),
                                started_wall=self.started_wall)
        out.new_group(codec.JOB_GROUP).attributes.extend(
            job_attrs.select(every, _keywords(request.message, "requested-attributes")))
        return out

    async def get_jobs(self, request: Request) -> Message:
        which = str(operation_value(request.message, "which-jobs") or "not-completed")
        if which not in ("completed", "not-completed", "all"):
            out = self.answer(request, codes.ATTRIBUTES_NOT_SUPPORTED, f"which-jobs {which} is not supported",
                              [Attribute("which-jobs", codec.KEYWORD, [which])])
            return out
        limit = operation_value(request.message, "limit")
        limit = limit if isinstance(limit, int) and 0 < limit <= 1000 else 1000
        mine = operation_value(request.message, "my-jobs") is True
        user = str(operation_value(request.message, "requesting-user-name") or "anonymous") if mine else None
        heads = await document_store.heads(self.app.db, request.runtime.id, which=which, user=user, limit=limit)
        requested = _keywords(request.message, "requested-attributes")
        out = self.answer(request)
        for head in heads:
            pages = await document_store.pages_of(self.app.db, head["id"]) if head["source"] == "ipp" else [head]
            every = job_attrs.build(pages, request.endpoint.printer_uri, up_time=self.up_time(),
                                    started_wall=self.started_wall)
            out.new_group(codec.JOB_GROUP).attributes.extend(
                job_attrs.select(every, requested, default=GET_JOBS_DEFAULT))
        return out

    async def cancel_job(self, request: Request) -> Message:
        head = await self._job_id(request)
        canceled = await self._cancel(head)
        if not canceled:
            raise IppError(codes.NOT_POSSIBLE, f"job {head} cannot be canceled now (it is printing or done)")
        return self.answer(request)

    async def _cancel(self, head: int) -> bool:
        from rpc.errors import RpcError

        pages = await document_store.pages_of(self.app.db, head)
        if pages and pages[0]["reasons"] == document_store.INCOMING_REASONS:
            self.tickets.pop(head, None)
            self.opened.pop(head, None)
            await self._discard(head, keep_head=True, state="canceled", reason="canceled-by-user")
            moved = await job_store.transition(self.app.db, head, allowed_from=("held",), to="canceled",
                                               reasons=("canceled-by-user",), completed=True,
                                               steps=[job_store.step("canceled", "canceled")])
            await self._publish_head(head)
            return moved is not None
        done = False
        for page in pages:
            if page["state"] in ("pending", "held", "stopped"):
                try:
                    await self.queue.cancel(page["id"])
                    done = True
                except RpcError:
                    continue
        return done

    async def cancel_my_jobs(self, request: Request) -> Message:
        user = str(operation_value(request.message, "requesting-user-name") or "anonymous")
        heads = await document_store.heads(self.app.db, request.runtime.id, which="not-completed", user=user,
                                           limit=1000)
        for head in heads:
            await self._cancel(head["id"])
        return self.answer(request)


def _keywords(message: Message, name: str) -> list[str] | None:
    group = message.group(codec.OPERATION_GROUP)
    attr = group.get(name) if group is not None else None
    return [str(v) for v in attr.values] if attr is not None else None


def response(request: Message, status: int, message: str | None = None,
             unsupported: list[Attribute] | None = None) -> Message:
    version = request.version if request.version[0] in (1, 2) else (1, 1)
    out = Message(version, status, request.request_id)
    group = out.new_group(codec.OPERATION_GROUP)
    group.add("attributes-charset", codec.CHARSET, "utf-8")
    group.add("attributes-natural-language", codec.LANGUAGE, "en")
    if message:
        group.add("status-message", codec.TEXT, message[:255])
    if unsupported:
        out.new_group(codec.UNSUPPORTED_GROUP).attributes.extend(
            Attribute(a.name, codec.UNSUPPORTED_VALUE, [None]) if a.tag == codec.BEG_COLLECTION else a
            for a in unsupported)
    return out


__all__ = ["IppError", "IppService", "Page", "Request", "response"]
