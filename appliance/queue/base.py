"""What every part of a printer's queue worker shares: its state, how it writes a job's end and
publishes a change, how it reads the printer's status for the reconciler, and how it sleeps without
looking dead to the readiness check (the worker beats `heartbeat` at least every 5 s)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable
from typing import Any

from .. import logs
from ..printer.monitor import StatusSnapshot
from ..store import jobs
from ..store.db import Database, is_damaged
from . import reconcile
from .render import PrintOptions, encode_stored_page
from .runtime import PrinterRuntime

log = logs.get("appliance.queue")

Publish = Callable[[dict[str, Any]], None]
OnDamaged = Callable[[BaseException, str], None]  # (the error, who found it)


class EndNotStored(Exception):
    """A job's labels came out but its `completed` could not be written (a full disk, say). It is
    followed again, never written off as aborted: a write that gets through a moment later (space
    freed) would otherwise mark a printed label failed, and a person would print it again."""


def serial_of(snapshot: StatusSnapshot) -> str | None:
    serial = snapshot.info.get("serial")
    return serial if isinstance(serial, str) and serial else None


class WorkerBase:
    def __init__(self, runtime: PrinterRuntime, db: Database, *, publish_job: Publish,
                 publish_queue: Callable[[], None], paused: bool = False, contact: bool = True,
                 on_damaged: OnDamaged | None = None) -> None:
        self.runtime = runtime
        self.db = db
        self.publish_job = publish_job
        self.publish_queue = publish_queue
        self.settings = runtime.queue_settings
        self.paused = paused  # no new job is sent (a person paused the printer, or safe mode)
        self.contact = contact  # False in safe mode: the printer is not contacted at all
        self.on_damaged = on_damaged
        self.halted: str | None = None  # why this worker sends nothing more until a restart ("storage-damaged")
        self.current_job: int | None = None
        self.in_flight = False  # bytes are on their way to (or at) the printer for current_job
        self.heartbeat = time.monotonic()
        self.jobs_done = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._draining = False
        self._unreachable = 0  # connection failures in a row (nothing sent)
        self._unreachable_at = 0.0  # monotonic time of the last one
        self._retry_at: float | None = None  # not before this, unless the printer answers a probe first
        self._left_over_followed = False
        self._unstored: set[int] = set()  # jobs whose end could not be stored (see _failed), followed again
        self._left_over_held = False
        # (job, monotonic time) of the first look that found the printer printing a label not ours
        self._busy_for: tuple[int, float] | None = None
        # a job canceled while stopped at the printer, which keeps it and may print it once the fault is fixed
        self._canceled_watch: reconcile.CanceledWatch | None = None

    async def _publish(self, row: Any) -> None:
        if row is not None:
            self.publish_job(jobs.to_wire(row, self.runtime.family))
            self.publish_queue()

    async def _finish(self, job_id: int, state: str, reasons: list[str], steps: list[jobs.Step],
                      attempts: int | None = None) -> Any:
        try:
            row = await jobs.transition(self.db, job_id, allowed_from=("pending", "processing", "stopped"), to=state,
                                        reasons=reasons, steps=steps, completed=True, attempts=attempts,
                                        printer_id=self.runtime.id)
        except sqlite3.Error as exc:
            if state == "completed" and not is_damaged(exc):
                raise EndNotStored(f"job {job_id}'s end could not be stored") from exc
            raise
        await self._publish(row)
        if state == "completed":
            self.jobs_done += 1
        return row

    def _media_of(self, row: Any) -> tuple[float, int | None]:
        media = self.runtime.media_named(row["media"])
        return media.width_mm, media.length_mm

    async def _change_or_wake(self, seconds: float) -> None:
        """Until the printer's status changes or the worker is woken (a cancel or job.move of the job
        it watches), at most `seconds`; the wake is used up."""
        waits = [asyncio.ensure_future(self.runtime.monitor.wait_change(seconds)),
                 asyncio.ensure_future(self._wake.wait())]
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
            await asyncio.gather(*waits, return_exceptions=True)
        self._wake.clear()

    async def _woken(self, seconds: float) -> bool:
        """Sleep like _pause, but end at a wake (a cancel, a resume, a new job): True then, and the wake
        is used up (the caller looks at what changed)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.heartbeat = time.monotonic()
            try:
                await asyncio.wait_for(self._wake.wait(), min(left, 5.0))
            except TimeoutError:
                continue
            self._wake.clear()
            return True
        self.heartbeat = time.monotonic()
        return False

    async def _pause(self, seconds: float) -> None:
        """Sleep without looking dead to the readiness check (a beat at least every 5 s)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.heartbeat = time.monotonic()
            await asyncio.sleep(min(left, 5.0))
        self.heartbeat = time.monotonic()

    async def _beating(self, work: Awaitable[None]) -> None:
        """Await `work` (a send, which a long job makes last minutes), beating for readiness meanwhile."""
        task = asyncio.ensure_future(work)
        try:
            while not (await asyncio.wait({task}, timeout=5.0))[0]:
                self.heartbeat = time.monotonic()
        finally:
            self.heartbeat = time.monotonic()
            if not task.done():  # the worker is stopped
                task.cancel()
        task.result()

    def _look(self, snapshot: StatusSnapshot) -> reconcile.Look:
        """A status snapshot as the reconciler reads it."""
        return reconcile.Look(state=snapshot.state, reasons=snapshot.reasons, answered=self._answered(snapshot),
                              page_count=snapshot.page_count, serial=serial_of(snapshot),
                              at=snapshot.captured_monotonic)

    def _answered(self, snapshot: StatusSnapshot) -> bool:
        """The printer's last probe answered: its lack of reasons means something (after a restart the
        snapshot is "unknown" with none, and a failed probe keeps the last answer's)."""
        if self.runtime.monitor.prober is None:
            return True
        return snapshot.failures == 0 and snapshot.captured_monotonic is not None and snapshot.state != "offline"

    async def _remainder(self, row: Any, copies: int) -> bytes | None:
        """The job's raster for `copies` of its label (the rest of a print cut short), from its stored page;
        None when the page is gone (pruned), which the resend then reports."""
        art = await jobs.artifact(self.db, row["id"])
        if art is None or art["preview"] is None:
            return None
        media = self.runtime.media_named(row["media"])
        return await asyncio.to_thread(encode_stored_page, self.runtime, media, art["preview"], copies,
                                       PrintOptions.stored(row["options"]))

    async def _save_attempts(self, job_id: int, attempts: int, steps: list[jobs.Step]) -> None:
        """The attempt count and the steps so far, which are written now (and so left out of the next write)."""
        await jobs.save_attempts(self.db, job_id, attempts, steps)
        steps.clear()

    def _halt_if_damaged(self, exc: BaseException, job_id: int | None) -> bool:
        """True when `exc` says the database file is damaged: the worker stops sending (see the module's doc)."""
        if not is_damaged(exc):
            return False
        if self.halted is None:
            self.halted = "storage-damaged"
            log.error("queue.halted", printer=self.runtime.name, job_id=job_id, reason=self.halted,
                      error=str(exc), why="the database is damaged: no job is sent until a backup is restored "
                                          "(docs/install-pi.md §7); every job keeps its state")
            if self.on_damaged is not None:
                self.on_damaged(exc, f"the queue worker of {self.runtime.name}")
        return True
