"""One worker per printer: pending → processing → completed, exactly once.

Before sending it checks the cached status: offline keeps the job pending (with the
reason `printer-offline`); cover open, no tape or the wrong tape stop it (nothing sent)
until the condition clears. A printer that cannot be reached (refused, unplugged, timed
out connecting) keeps the job pending too (`jobs-refused` while its status answers, as the
printer's status says it; `printer-offline` otherwise), for as long as it takes: nothing
was sent, so nothing can print twice; it is tried again with capped exponential backoff,
or as soon as the printer answers a status probe. Only then is the job `processing`: the
worker sends the stored raster and follows the printer's status until the page counter
says the labels came out. A tape running out, a cover opening or the printer's status
going silent *during* the job (`status-lost`: it may be printing still, or be off) stops
it without sending it again: the printer keeps the job and finishes it after the cassette
is replaced, and the page counter tells afterwards whether it did. A send that fails once
bytes may be at the printer is never repeated blindly: the page counter tells which labels
came out and only the others go again (up to `max_attempts` sends); a printer without one
aborts the job (`send-interrupted`) for a person to check. Errors that cannot heal abort at
once. Connections that cannot be opened are never attempts.

Jobs the last run left at the printer (see `jobs.recover`) are followed first, even on a
paused printer (a pause holds jobs not yet sent); in safe mode, where the printer is not
contacted, they are shown `stopped/safe-mode` until `printer.resume`.

A damaged database page met by the worker (SQLITE_CORRUPT, SQLITE_NOTADB: a bad SD card sector)
stops it for good (`halted`): nothing more is sent, nothing is written, each job keeps the state
its last committed transaction gave it (a failed one is rolled back whole). A job already at the
printer stays `processing`, and the next start follows it by the page counter, so its label is
never sent twice. It is said once (the appliance's `appliance.database_damaged` line, readiness
fails), not a traceback a second while the worker tries again and again.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Awaitable, Callable
from typing import Any

from .. import logs
from ..printer.monitor import FAILED_RECHECK_S, StatusSnapshot
from ..printer.transport import Transport, TransportError
from ..store import jobs
from ..store.db import Database, is_damaged
from . import reconcile
from .reconcile import BLOCKING, UNREACHABLE, backoff
from .render import PrintOptions, encode_stored_page
from .runtime import PrinterRuntime

log = logs.get("appliance.queue")

FIRST_RECHECK_S = 0.005  # after sending: re-probe after 5 ms, 10 ms, 20 ms, … up to the busy poll interval
# why a job left at the printer is followed again (its `following` step)
RESTARTED_WHY = ("the appliance restarted while this job was at the printer; the page counter tells whether it "
                 "came out, or it is sent again")
UNSTORED_WHY = ("its last step could not be stored (disk full?); the page counter tells whether it came out, or "
                "it is sent again")
PRINT_SPEED_MM_S = 20.0  # a conservative floor of Brother's speeds, for "how long may printing take"

Publish = Callable[[dict[str, Any]], None]
OnDamaged = Callable[[BaseException, str], None]  # (the error, who found it)


class EndNotStored(Exception):
    """A job's labels came out but its `completed` could not be written (a full disk, say). It is
    followed again, never written off as aborted: a write that gets through a moment later (space
    freed) would otherwise mark a printed label failed, and a person would print it again."""


def blocker(snapshot: StatusSnapshot, media_width: float, die_cut_length: int | None) -> str | None:
    """Why this job cannot be sent now (a reason in UNREACHABLE means: wait, it stays pending)."""
    if snapshot.state == "offline":
        return next((r for r in snapshot.reasons if r in UNREACHABLE), "printer-offline")
    for reason in snapshot.reasons:
        if reason in BLOCKING:
            return reason
    loaded = snapshot.media
    if snapshot.media_source == "status" and loaded is not None and (
        loaded.width_mm != media_width or (loaded.length_mm or None) != die_cut_length
    ):
        return "media-mismatch"
    return None


def _serial(snapshot: StatusSnapshot) -> str | None:
    serial = snapshot.info.get("serial")
    return serial if isinstance(serial, str) and serial else None


def waiting_reason(exc: TransportError, snapshot: StatusSnapshot, answered: bool) -> str:
    """Why a job waits for a printer it cannot open a connection to: busy (another program holds the USB
    device); refusing jobs while its status answers (the monitor says "jobs-refused": raster port closed
    or held by another computer), as the printer's status says it; or offline."""
    if exc.reason == "printer-busy":
        return "printer-busy"
    return "jobs-refused" if answered and "jobs-refused" in snapshot.reasons else "printer-offline"


class Worker:
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

    # --- control ---------------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"worker-{self.runtime.name}")

    def wake(self) -> None:
        self._wake.set()

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False
        self.wake()

    def allow_contact(self) -> None:
        """Safe mode is over: the printer may be contacted, and the jobs left at it are followed."""
        self.contact = True
        self.wake()

    @property
    def alive(self) -> bool:
        return self._task is not None and not self._task.done()

    async def stop(self, timeout: float) -> None:
        """Finish the label being sent (bounded by `timeout`), then stop; pending jobs stay for the next start."""
        self._draining = True
        self.wake()
        if self._task is None:
            return
        if self.in_flight:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(self._task), timeout)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    # --- the loop --------------------------------------------------------------------------

    async def _follow_left_over(self) -> None:
        """Follow the jobs the last run left at the printer (see jobs.recover) until their labels are out.

        After a crash or power cut their raster may have come out, be coming out, or be lost with the
        printer's power: the page counter read before sending, against the one now, tells which.
        """
        rows = await jobs.started_on(self.db, self.runtime.id)
        self._unstored &= {row["id"] for row in rows}  # a pending job's failure left nothing at the printer
        for row in rows:
            pages_before, serial = await jobs.sent_to(self.db, row["id"])
            # the words of the job's own story: its end not stored, or a restart (a job after it is not
            # told of another's full disk); said once (a new failure of this one adds it again)
            why = UNSTORED_WHY if row["id"] in self._unstored else RESTARTED_WHY
            self._unstored.discard(row["id"])
            steps = [jobs.step("following", row["state"], page_count=pages_before, why=why)]
            await self._guarded(row["id"], self._follow_again(row, pages_before, serial, steps))

    async def _follow_again(self, row: Any, pages_before: int | None, serial: str | None,
                            steps: list[jobs.Step]) -> None:
        self.in_flight = True
        with self.runtime.monitor.busy():
            await self._send_and_follow(row, row["raster"], pages_before, row["attempts"], steps, None, sent=True,
                                        serial=serial)

    async def _run(self) -> None:
        while not self._draining:
            if self.halted is not None:  # beats for readiness; stop() ends it
                await self._pause(5.0)
                continue
            try:
                await self._turn()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database failed between jobs: look again after a pause
                if self._halt_if_damaged(exc, None):
                    continue
                log.error("queue.worker_error", printer=self.runtime.name, error=type(exc).__name__, exc_info=exc)
                await self._pause(1.0)

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

    async def _turn(self) -> None:
        """One look at the work: the jobs left at the printer first (even when paused: they were sent
        already), then the next pending job unless paused."""
        # Cleared before looking, not before idling: a job submitted while the database is asked for
        # one (a wake in between) must cut the idle short, not wait the whole 5 s.
        self._wake.clear()
        if not self.contact:
            if not self._left_over_held:
                await self._hold_left_over()
                self._left_over_held = True
            await self._woken(5.0)
            return
        if not self._left_over_followed:
            self._left_over_followed = True  # before: a job whose end cannot be stored sets it again
            try:
                await self._follow_left_over()
            except BaseException:
                self._left_over_followed = False
                raise
            return
        if self.paused:
            await self._woken(5.0)
            return
        if self._canceled_watch is not None:
            await self._settle_canceled(self.runtime.monitor.snapshot)
        row = await jobs.next_pending(self.db, self.runtime.id)
        if row is None:
            await self._woken(5.0)
            return
        await self._guarded(row["id"], self._process(row))

    async def _hold_left_over(self) -> None:
        """In safe mode nobody may look at the printer: a job left `processing` there says so and can be canceled."""
        for row in await jobs.started_on(self.db, self.runtime.id):
            if row["state"] != "processing":
                continue  # stopped already, with its reason
            held = await jobs.transition(
                self.db, row["id"], allowed_from=("processing",), to="stopped", reasons=["safe-mode"],
                steps=[jobs.step("stopped", "stopped", reason="safe-mode", sent=True,
                                 why="the appliance restarted in safe mode while this job was at the printer; "
                                     "after printer.resume the page counter tells whether it came out")])
            await self._publish(held)

    async def _guarded(self, job_id: int, work: Awaitable[None]) -> None:
        """Run one job's work as the current job; a failure aborts that job (see _failed), not the worker."""
        self.current_job = job_id
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if not self._halt_if_damaged(exc, job_id):  # a damaged file: no abort written to it either
                await self._failed(job_id, exc)
        finally:
            self.in_flight = False
            self.current_job = None
            self.heartbeat = time.monotonic()

    async def _failed(self, job_id: int, exc: Exception) -> None:
        """A bug (or a database that stays locked) must not kill the worker: the job is aborted with a reason.

        If even that cannot be written (the disk is full, say), the job stays as it is: a pending one
        is tried again, and one at the printer is followed again, as after a restart, before any
        other job is sent. Another job's labels would move the page counter, and the one left
        `processing` would be counted done with them (found by a power-cut trial: disk full mid-job).
        """
        if isinstance(exc, EndNotStored):
            log.error("queue.job_end_unstored", job_id=job_id, printer=self.runtime.name,
                      error=type(exc.__cause__).__name__, why="followed again: the page counter tells")
            await self._follow_later(job_id)
            return
        log.error("queue.worker_error", job_id=job_id, printer=self.runtime.name, error=type(exc).__name__,
                  exc_info=exc)
        try:
            await self._finish(job_id, "aborted", ["internal-error"],
                               [jobs.step("failed", "aborted", error=type(exc).__name__)])
        except Exception as again:
            if self._halt_if_damaged(again, job_id):
                return
            log.error("queue.worker_error_unrecorded", job_id=job_id, printer=self.runtime.name,
                      error=type(again).__name__)
            await self._follow_later(job_id)

    async def _follow_later(self, job_id: int) -> None:
        """Leave the job as it is stored; the next turn follows whatever is at the printer first."""
        self._left_over_followed = False
        self._unstored.add(job_id)
        await self._pause(1.0)

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

    # --- before sending ---------------------------------------------------------------------

    async def _mark_waiting(self, row: Any, reason: str, **detail: Any) -> None:
        """Say on the pending job why it waits (once per cause, not on every look)."""
        if jobs.reasons_of(row) == [reason]:
            return
        changed = await jobs.transition(self.db, row["id"], allowed_from=("pending",), to="pending", reasons=[reason],
                                        steps=[jobs.step("waiting", "pending", reason=reason, **detail)],
                                        printer_id=self.runtime.id)
        await self._publish(changed)

    def _printer_answered_since_failure(self) -> bool:
        snapshot = self.runtime.monitor.snapshot
        return (self.runtime.monitor.prober is not None and snapshot.failures == 0 and snapshot.state != "offline"
                and (snapshot.captured_monotonic or 0.0) > self._unreachable_at)

    async def _wait_until_sendable(self, row: Any) -> bool:
        """True when the job may be sent now; False to look at the queue again (job moved or still waiting)."""
        width, length = self._media_of(row)
        monitor = self.runtime.monitor
        if self._retry_at is not None and not self._printer_answered_since_failure():
            left = self._retry_at - time.monotonic()
            if left > 0:  # the last try could not reach the printer: wait for the retry time or a probe answer
                await monitor.wait_change(min(left, monitor.interval))
                return False
        snapshot = monitor.snapshot
        if snapshot.age_s is None or snapshot.age_s > 2 * monitor.interval:
            snapshot = await monitor.probe_now()
        reason = blocker(snapshot, width, length)
        if reason not in (None, *UNREACHABLE) and (snapshot.age_s or 0.0) > monitor.busy_interval:
            # about to stop the job for a person to act: make sure they have not done so since the last look
            snapshot = await monitor.probe_now()
            reason = blocker(snapshot, width, length)
        busy_since, self._busy_for = self._busy_for, None
        if reason is None and snapshot.state == "printing":
            # Not ours: nothing of ours is in flight. It is another computer's label, or the rest of a
            # canceled job the printer finishes after a fault. Sending now would let that label's page
            # count for this job, so the job would be "completed" without its label.
            now = time.monotonic()
            since = busy_since[1] if busy_since is not None and busy_since[0] == row["id"] else now
            if now - since >= 2 * monitor.busy_interval:  # still at it: say why the job waits
                await self._mark_waiting(row, "printer-busy", why="the printer is printing a label that is not "
                                         "this job's (another computer's, or the rest of a canceled job)")
            self._busy_for = (row["id"], since)  # a moment alone says nothing: a label of ours may be ending
            if not await monitor.wait_change(monitor.busy_interval):
                await monitor.probe_now()  # idle polls are slow; look again at the busy pace
            return False
        if reason is None:
            if not await self._settle_canceled(snapshot, final=True):  # before a new label moves the counter
                await monitor.wait_change(monitor.busy_interval)
                return False
            return True
        if reason in UNREACHABLE:  # stays pending; drains when the printer answers again
            await self._mark_waiting(row, reason, error=snapshot.last_error)
            await monitor.wait_change(monitor.interval)
            return False
        stopped = await jobs.transition(
            self.db, row["id"], allowed_from=("pending",), to="stopped", reasons=[reason],
            steps=[jobs.step("printer-error", "stopped", reason=reason, sent=False)], printer_id=self.runtime.id)
        await self._publish(stopped)
        if stopped is None:
            return False
        log.info("queue.job_stopped", job_id=row["id"], reason=reason, sent=False)
        while not self._draining:
            self.heartbeat = time.monotonic()
            await self._change_or_wake(monitor.interval)
            current = await jobs.get(self.db, row["id"])
            if current is None or current["state"] != "stopped" or current["printer_id"] != self.runtime.id:
                return False  # canceled or moved meanwhile
            now = blocker(monitor.snapshot, width, length)
            if now is None or now in UNREACHABLE:
                resumed = await jobs.transition(self.db, row["id"], allowed_from=("stopped",), to="pending",
                                                steps=[jobs.step("resumed", "pending")], printer_id=self.runtime.id)
                await self._publish(resumed)
                return False
            if now != reason:  # another fault now (cover closed, no cassette in): the job says so
                reason = now
                changed = await jobs.transition(
                    self.db, row["id"], allowed_from=("stopped",), to="stopped", reasons=[reason],
                    steps=[jobs.step("printer-error", "stopped", reason=reason, sent=False)],
                    printer_id=self.runtime.id)
                await self._publish(changed)
        return False

    # --- sending and following --------------------------------------------------------------

    async def _process(self, row: Any) -> None:
        if not await self._wait_until_sendable(row):
            return
        job_id = row["id"]
        raster = row["raster"]
        if raster is None:
            await self._finish(job_id, "aborted", ["document-unprintable"],
                               [jobs.step("failed", "aborted", error="the job's raster is gone (pruned)")])
            return
        monitor = self.runtime.monitor
        transport = self.runtime.transport()
        unanswered = False
        try:
            with monitor.busy():  # from the connection on, the worker drives the status probes
                if not await self._connect(row, transport):
                    return
                before = await self._counted_before(row)
                if before is None:
                    unanswered = not self._answered(monitor.snapshot)
                    return
                pages_before = before.page_count
                serial = _serial(before)  # whose page counter that is (see _follow)
                attempts = row["attempts"]
                processing = await jobs.transition(  # not if job.move gave it to another printer meanwhile
                    self.db, job_id, allowed_from=("pending",), to="processing", started=True, attempts=attempts + 1,
                    printer_id=self.runtime.id,
                    steps=[jobs.step("processing", "processing", attempt=attempts + 1, page_count=pages_before,
                                     **({"serial": serial} if serial else {}))])
                if processing is None:
                    return
                await self._publish(processing)
                steps: list[jobs.Step] = []
                self.in_flight = True
                try:
                    await self._send_and_follow(processing, raster, pages_before, attempts, steps, transport,
                                                serial=serial)
                finally:
                    self.in_flight = False
        finally:
            await transport.close()
            if unanswered:  # not a loop of connections: look again at the monitor's pace after a failure
                await monitor.wait_change(min(monitor.interval, FAILED_RECHECK_S))

    async def _counted_before(self, row: Any) -> StatusSnapshot | None:
        """The printer's status read now, with this job's connection open, so its page counter is the
        one before this job's labels. The last poll can be seconds old: a label printed since by another
        computer (or Brother's phone app) then counted for this job, which was `completed` at once, and
        never sent again when its own label was lost (review, 2026-12-06).

        None: not sent now, it stays pending; the next look says why. The probe got no answer, the
        printer prints something else, or a fault blocks the job. Without probes during a job (a USB
        printer that prints while asked) it is the last poll, as before."""
        monitor = self.runtime.monitor
        if monitor.prober is None or not monitor.probe_while_busy:
            return monitor.snapshot
        snapshot = await monitor.probe_now()
        answered = self._answered(snapshot)
        blocked_by = blocker(snapshot, *self._media_of(row)) if answered else None
        return snapshot if reconcile.may_send(self._look(snapshot), blocked_by) else None

    async def _connect(self, row: Any, transport: Transport) -> bool:
        """Open the way to the printer. False: the job was not started (it waits, or was aborted)."""
        try:
            await transport.connect()
        except TransportError as exc:
            if not exc.retryable:  # a setting to fix (no such host, no permission): say so now
                await self._finish(row["id"], "aborted", [exc.reason],
                                   [jobs.step("failed", "aborted", reason=exc.reason, error=str(exc), sent=False)])
                return False
            self._unreachable += 1
            self._unreachable_at = time.monotonic()
            wait = backoff(self._unreachable, self.settings.retry_base_s, self.settings.retry_max_s)
            self._retry_at = self._unreachable_at + wait
            if self._unreachable == 1:
                log.warning("queue.printer_unreachable", printer=self.runtime.name, error=str(exc), job_id=row["id"])
            self._refused(exc)
            await self._mark_waiting(row, self._waiting_reason(exc), error=str(exc), sent=False)
            return False
        if self._unreachable:
            log.info("queue.printer_reachable", printer=self.runtime.name, after=self._unreachable)
        self._unreachable, self._retry_at = 0, None
        self.runtime.monitor.note_refused(None)
        return True

    def _refused(self, exc: TransportError) -> None:
        """The printer's status says so too, where status and jobs take different ways in (a network
        printer with SNMP; a held USB device says so already, as printer-busy)."""
        if exc.reason != "printer-busy" and self.runtime.monitor.reachable is not None:
            self.runtime.monitor.note_refused(str(exc))

    def _waiting_reason(self, exc: TransportError) -> str:
        """After _refused: the job's reason agrees with its printer's status (see waiting_reason). A probe
        or two failing does not make the printer offline yet (offline_after), so not the job either: it
        said "not reachable" while printer.status still said the printer refused jobs."""
        snapshot = self.runtime.monitor.snapshot
        answered = snapshot.captured_monotonic is not None and snapshot.state != "offline"
        return waiting_reason(exc, snapshot, answered)

    async def _send_and_follow(self, processing: Any, raster: bytes | None, pages_before: int | None, attempts: int,
                               steps: list[jobs.Step], transport: Transport | None, *, sent: bool = False,
                               serial: str | None = None) -> None:
        """Send (unless `sent`: the bytes are at the printer already) and follow; send again while they get lost.

        `serial`: the printer's serial number when the page counter `pages_before` was read, if known."""
        job_id = processing["id"]
        sent_copies = processing["copies"]  # what the raster on its way holds (less after a partial print)
        # a job followed again after a restart may still be stopped, waiting for a person
        stopped_for = None
        if processing["state"] == "stopped":
            stopped_for = (jobs.reasons_of(processing) or ["stopped"])[0]
        while True:
            if not sent:
                attempts += 1
                if raster is None:
                    await self._finish(job_id, "aborted", ["document-unprintable"], [*steps, jobs.step(
                        "failed", "aborted", error="the job's raster is gone (pruned)")])
                    return
                if not await self._send(processing, raster, attempts, steps, transport or self.runtime.transport(),
                                        counted=pages_before is not None and self.runtime.monitor.prober is not None,
                                        copies=sent_copies):
                    return
                transport = None  # used: a later send opens its own
            sent = False
            with self.runtime.monitor.job_sent():  # printer.status says status-lost, as the job does
                outcome, printed = await self._follow(processing, pages_before, steps, stopped_for, serial,
                                                      sent_copies=sent_copies)
            stopped_for = None
            if outcome != "lost":
                if outcome == "gone" and pages_before is not None:  # not on the common path: no read per job
                    await self._watch_if_canceled(job_id, pages_before + processing["copies"], pages_before)
                return
            plan = reconcile.after_lost(processing["copies"], printed, attempts, self.settings.max_attempts)
            if isinstance(plan, reconcile.GiveUp):
                await self._finish(job_id, "aborted", ["job-incomplete"], [*steps, jobs.step(
                    "failed", "aborted", error="the printer never printed it" if not printed else
                    f"the printer printed {printed} of {processing['copies']} labels and never the rest",
                    labels=printed or None)])
                return
            if printed:  # cut short (power lost mid-job): only the labels that did not come out go again
                sent_copies = plan.copies
                raster = await self._remainder(processing, sent_copies)
                steps.append(jobs.step("resending", "processing", attempt=attempts + 1, labels=printed,
                                       copies=sent_copies, why=f"the printer is idle after {printed} of "
                                       f"{processing['copies']} labels: the other {sent_copies} go again"))
            else:
                steps.append(jobs.step("resending", "processing", attempt=attempts + 1,
                                       why="the printer is idle and its page counter did not move"))
            await self._save_attempts(job_id, attempts + 1, steps)

    async def _send(self, row: Any, raster: bytes, attempts: int, steps: list[jobs.Step], transport: Transport, *,
                    counted: bool, copies: int) -> bool:
        """Send `copies` of the job; the first try uses `transport` (already connected). True when the bytes
        are at the printer, or may be and its page counter (`counted`) tells what came out: the caller follows
        the job, which sends again only the labels that did not (see _follow). A send that fails after bytes
        may have reached the printer is never repeated blindly: the labels already out would print twice
        (review, 2026-12-06: a USB write timed out and the whole job went again, 150 labels for 50). Without
        a counter nobody can tell what came out, so the job is aborted for a person to check, as jobs.recover
        does after a restart."""
        job_id = row["id"]
        # a printer takes a long job at its printing pace: the write may last as long as printing does
        timeout = self.settings.write_timeout_s + self._print_seconds(row, copies)
        while True:
            failure: TransportError | None = None
            try:
                await self._beating(transport.send(raster, timeout=timeout))
            except TransportError as exc:
                failure = exc
            finally:
                await transport.close()
            if failure is None:
                steps.append(jobs.step("sent", "processing", bytes=len(raster), attempt=attempts))
                return True
            verdict = reconcile.after_send_failure(retryable=failure.retryable, reached=failure.reached,
                                                   counted=counted)
            if verdict == "reconnect":  # nothing of this try got there: not an attempt
                reconnected = await self._wait_reachable(job_id, failure, steps)
                if reconnected is None:
                    return False
                transport = reconnected
                continue
            follow = verdict == "follow"
            steps.append(jobs.step("send-failed", "processing", reason=failure.reason, error=str(failure),
                                   attempt=attempts, retryable=failure.retryable, **({"why": (
                                       "part of it may be at the printer: its page counter tells which labels came "
                                       "out, and only the others are sent again")} if follow else {})))
            log.warning("queue.send_failed", job_id=job_id, error=str(failure), attempt=attempts,
                        retryable=failure.retryable, followed=follow)
            if follow:
                return True
            if verdict == "abort":
                await self._finish(job_id, "aborted", [failure.reason], [*steps, jobs.step("failed", "aborted")],
                                   attempts=attempts)
                return False
            await self._finish(job_id, "aborted", ["send-interrupted"], [*steps, jobs.step(
                "failed", "aborted", reason="send-interrupted", why="sending did not finish, and some of it may have "
                "reached the printer, which has no page counter to tell whether its labels came out: check the "
                "printer, and reprint the job if they did not (sending it again could print them twice)")],
                attempts=attempts)
            return False

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

    async def _wait_reachable(self, job_id: int, exc: TransportError, steps: list[jobs.Step]) -> Transport | None:
        """A job to send again finds the printer unreachable: it is `stopped` (printer-offline, or
        jobs-refused while its status answers) until a connection opens, which is then returned; None
        when the job was canceled or the worker stops.

        Tries are not attempts (nothing was sent), so the job is never aborted for an unplugged printer.
        """
        self._refused(exc)
        reason = self._waiting_reason(exc)
        stopped = await jobs.transition(
            self.db, job_id, allowed_from=("processing",), to="stopped", reasons=[reason],
            steps=[*steps, jobs.step("printer-error", "stopped", reason=reason, error=str(exc), sent=False)])
        steps.clear()
        if stopped is None:
            return None
        await self._publish(stopped)
        log.info("queue.job_stopped", job_id=job_id, reason=reason, sent=False)
        self.in_flight = False  # nothing is on its way: a stop need not wait for this job
        tries = 0
        while not self._draining:
            tries += 1
            await self._await_printer(backoff(tries, self.settings.retry_base_s, self.settings.retry_max_s), job_id)
            current = await jobs.get(self.db, job_id)
            if current is None or current["state"] != "stopped":
                return None  # canceled meanwhile
            transport = self.runtime.transport()
            self.heartbeat = time.monotonic()
            try:
                await transport.connect()
                resumed = await jobs.transition(self.db, job_id, allowed_from=("stopped",), to="processing",
                                                steps=[jobs.step("resumed", "processing")])
            except TransportError as again:
                await transport.close()
                if again.retryable and not again.reached:
                    self._refused(again)
                    if (now := self._waiting_reason(again)) != reason:  # say a changed cause (once)
                        reason = now
                        changed = await jobs.transition(
                            self.db, job_id, allowed_from=("stopped",), to="stopped", reasons=[reason],
                            steps=[jobs.step("printer-error", "stopped", reason=reason, error=str(again), sent=False)])
                        await self._publish(changed)
                    continue
                await self._finish(job_id, "aborted", [again.reason], [jobs.step(
                    "failed", "aborted", reason=again.reason, error=str(again), sent=False)])
                return None
            except BaseException:  # canceled (stop) or the database failed: leave no connection open
                await transport.close()
                raise
            self.runtime.monitor.note_refused(None)
            if resumed is None:
                await transport.close()
                return None
            await self._publish(resumed)
            self.in_flight = True
            return transport
        return None

    async def _await_printer(self, seconds: float, job_id: int) -> None:
        """Wait up to `seconds`; less if the printer starts answering status probes again, or if the
        job is no longer stopped (a cancel wakes the worker), so the next job need not wait.

        While this worker holds the printer busy the monitor stands aside, so the worker probes here
        itself, at the monitor's pace (`next_wait`: soon after a failure until the printer counts as
        offline, the idle interval otherwise). That keeps the printer's status current, and its
        identity, which is asked again after a failure. A printer that answers probes but refuses the
        connection waits the whole time: no loop of connects.
        """
        monitor = self.runtime.monitor
        probing = monitor.prober is not None and monitor.probe_while_busy
        answering = self._answered(monitor.snapshot)
        deadline = time.monotonic() + seconds
        next_probe = time.monotonic()
        while deadline - time.monotonic() > 0 and not self._draining:
            self.heartbeat = time.monotonic()
            if probing and time.monotonic() >= next_probe:
                snapshot = await monitor.probe_now()
                now_answering = self._answered(snapshot)
                if now_answering and not answering:
                    return
                answering = now_answering
                failing = 0 < snapshot.failures < monitor.offline_after
                next_probe = time.monotonic() + (min(monitor.interval, FAILED_RECHECK_S) if failing
                                                 else monitor.interval)
            until = min(deadline, next_probe) if probing else deadline
            if await self._woken(until - time.monotonic()):
                current = await jobs.get(self.db, job_id)
                if current is None or current["state"] != "stopped":
                    return

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

    async def _save_attempts(self, job_id: int, attempts: int, steps: list[jobs.Step]) -> None:
        """The attempt count and the steps so far, which are written now (and so left out of the next write)."""
        await jobs.save_attempts(self.db, job_id, attempts, steps)
        steps.clear()

    def _print_seconds(self, row: Any, copies: int | None = None) -> float:
        """How long printing `copies` of the job's label may take, at the slowest of Brother's speeds."""
        return float(row["length_mm"] * (row["copies"] if copies is None else copies) / PRINT_SPEED_MM_S)

    async def _remainder(self, row: Any, copies: int) -> bytes | None:
        """The job's raster for `copies` of its label (the rest of a print cut short), from its stored page;
        None when the page is gone (pruned), which the resend then reports."""
        art = await jobs.artifact(self.db, row["id"])
        if art is None or art["preview"] is None:
            return None
        media = self.runtime.media_named(row["media"])
        return await asyncio.to_thread(encode_stored_page, self.runtime, media, art["preview"], copies,
                                       PrintOptions.stored(row["options"]))

    async def _follow(self, row: Any, pages_before: int | None, steps: list[jobs.Step],
                      stopped_for: str | None = None, serial: str | None = None, *,
                      sent_copies: int | None = None) -> tuple[str, int]:
        """Watch the printer until the labels are out: look, let reconcile.follow decide, apply its one
        transition, sleep as told. Returns "done", "lost" (resend) or "gone", and the job's labels counted
        out so far: "lost" with some means the printer stopped part way (its power was cut), and only the
        rest is to go again.

        `sent_copies`: the labels the raster just sent holds (the job's copies, or the rest of them).
        `stopped_for`: the job is `stopped` for this reason already (followed again after a restart).
        `serial`: the printer's serial when `pages_before` was read; another printer answering at the
        address (swapped while the appliance was off, say) has a counter that tells nothing of this job.
        """
        job_id = row["id"]
        if self.runtime.writes_to_file:
            await self._finish(job_id, "completed", [], [*steps, jobs.step("completed", "completed",
                                                                            written_to=self.runtime.uri)])
            return "done", row["copies"]
        monitor = self.runtime.monitor
        known = reconcile.start(
            copies=row["copies"], in_flight=row["copies"] if sent_copies is None else sent_copies,
            pages_before=pages_before, serial=serial, counter=monitor.prober is not None,
            label_s=self._print_seconds(row, 1), print_timeout_s=self.settings.print_timeout_s,
            lost_after_idle_s=self.settings.lost_after_idle_s, now=time.monotonic(), stopped_for=stopped_for)
        probing = monitor.prober is not None and monitor.probe_while_busy

        async def look() -> StatusSnapshot:
            return await monitor.probe_now() if probing else monitor.snapshot

        snapshot = await look()
        delay = FIRST_RECHECK_S
        while True:
            self.heartbeat = now = time.monotonic()
            decision, after = reconcile.follow(known, self._look(snapshot), now)
            if isinstance(decision, reconcile.Replaced):
                await self._replaced(job_id, decision, pages_before, serial, steps)
                return "gone", 0
            if isinstance(decision, reconcile.Completed):
                if decision.resumed:
                    steps.append(jobs.step("resumed", "processing"))
                done = await self._finish(job_id, "completed", [], [*steps, jobs.step(
                    "completed", "completed", labels=decision.labels) if decision.confirmed else jobs.step(
                    "completed", "completed", confirmed=False,
                    why="the printer reports no page counter; done after the time printing takes")])
                return ("done" if done is not None else "gone"), row["copies"]  # gone: canceled as it came out
            if isinstance(decision, reconcile.Lost):
                return "lost", decision.out_so_far
            # stopped now, or stopped already and the printer's fault changed (the tape ran out, then the
            # cover was opened to change it): the job says what the printer says now. Resumed: with the
            # steps so far (`following`, after a restart), so the timeline keeps their order
            if isinstance(decision, reconcile.Stopped | reconcile.Resumed) and not await self._stop_or_resume(
                    job_id, decision, steps):
                return "gone", 0
            if after.saw_printing and not known.saw_printing:  # after a `resumed` of this same look
                steps.append(jobs.step("printing", "processing"))
            known = after
            if isinstance(decision, reconcile.TimedOut):
                out = {} if decision.labels is None else {"labels": decision.labels}
                await self._finish(job_id, "aborted", ["timed-out"], [*steps, jobs.step(
                    "failed", "aborted", error=f"no label came out for {decision.idle_for:.0f} s", **out)])
                return "gone", 0
            current = await jobs.get(self.db, job_id)
            if current is None or current["state"] not in ("processing", "stopped"):
                return "gone", 0
            # a short label is out in a moment: look again soon, then back off to the busy interval
            until = decision.until - time.monotonic() if isinstance(decision, reconcile.Wait) else delay
            await asyncio.sleep(min(delay, until) if until > 0 else delay)
            delay = min(delay * 2, monitor.busy_interval)
            snapshot = await look()

    def _look(self, snapshot: StatusSnapshot) -> reconcile.Look:
        """A status snapshot as the reconciler reads it."""
        return reconcile.Look(state=snapshot.state, reasons=snapshot.reasons, answered=self._answered(snapshot),
                              page_count=snapshot.page_count, serial=_serial(snapshot),
                              at=snapshot.captured_monotonic)

    async def _replaced(self, job_id: int, decision: reconcile.Replaced, pages_before: int | None,
                        serial: str | None, steps: list[jobs.Step]) -> None:
        """Another printer answers (or the counter went back): a person checks, nothing is sent again."""
        log.warning("queue.printer_replaced", printer=self.runtime.name, job_id=job_id, sent_to=serial,
                    now=decision.serial_now, counter_before=pages_before, counter_now=decision.counter_now)
        why = ("another printer answers at this address" if decision.swapped else
               f"the printer's page counter went back from {pages_before} to {decision.counter_now} (another "
               "printer at this address, or this one reset)")
        await self._finish(job_id, "aborted", ["printer-replaced"], [*steps, jobs.step(
            "failed", "aborted", reason="printer-replaced", sent_to=serial, now=decision.serial_now,
            why=f"{why}: its page counter cannot tell whether this label came out, and sending it again "
                "could print it twice")])

    async def _stop_or_resume(self, job_id: int, decision: reconcile.Stopped | reconcile.Resumed,
                              steps: list[jobs.Step]) -> bool:
        """Write a stop (or a changed fault) or a resume of a job at the printer; False when it is gone."""
        if isinstance(decision, reconcile.Stopped):
            changed = await jobs.transition(
                self.db, job_id, allowed_from=("processing",) if decision.was is None else ("stopped",),
                to="stopped", reasons=[decision.reason],
                steps=[*steps, jobs.step("printer-error", "stopped", reason=decision.reason, sent=True)])
        else:
            changed = await jobs.transition(self.db, job_id, allowed_from=("stopped",), to="processing",
                                            steps=[*steps, jobs.step("resumed", "processing")])
        steps.clear()
        if changed is None:
            return False
        await self._publish(changed)
        if isinstance(decision, reconcile.Stopped):
            log.info("queue.job_stopped", job_id=job_id, reason=decision.reason, sent=True, was=decision.was)
        return True

    async def _watch_if_canceled(self, job_id: int, target: int, before: int) -> None:
        """The job was canceled while the printer kept it (stopped: cover open, tape out): watch for its labels."""
        row = await jobs.get(self.db, job_id)
        if row is not None and row["state"] == "canceled" and "printer-may-still-print" in jobs.reasons_of(row):
            self._canceled_watch = reconcile.CanceledWatch(job_id, target, before)

    async def _settle_canceled(self, snapshot: StatusSnapshot, *, final: bool = False) -> bool:
        """A job canceled while stopped at the printer: when its labels come out after all (the cover
        closed, a new cassette), its history says so. The watch ends when they do, or once the printer
        has stood idle a while without them (it let the job go; see reconcile.settle_canceled). True when
        no watch is left.

        `final`: a new job is about to be sent, whose labels would move the counter. It waits while
        the printer has only just become idle: a printer that kept a job may start on it a moment
        after the cover closes.
        """
        watch = self._canceled_watch
        if watch is None:
            return True
        monitor = self.runtime.monitor
        if final and monitor.prober is not None and monitor.probe_while_busy \
                and (snapshot.age_s or 0.0) > monitor.busy_interval:
            snapshot = await monitor.probe_now()  # idle polls are slow: do not hold the next job for one
        settle = 2 * monitor.busy_interval if final else 2 * monitor.interval
        decision, self._canceled_watch = reconcile.settle_canceled(watch, self._look(snapshot), time.monotonic(),
                                                                   settle)
        if isinstance(decision, reconcile.PrintedAfterCancel):
            changed = await jobs.transition(
                self.db, watch.job_id, allowed_from=("canceled",), to="canceled",
                reasons=["canceled-by-user", "printed-after-cancel"],
                steps=[jobs.step("printed-after-cancel", "canceled", labels_since_sent=decision.labels_since_sent)])
            await self._publish(changed)
            log.info("queue.printed_after_cancel", printer=self.runtime.name, job_id=watch.job_id,
                     labels_since_sent=decision.labels_since_sent)
        return self._canceled_watch is None

    def _answered(self, snapshot: StatusSnapshot) -> bool:
        """The printer's last probe answered: its lack of reasons means something (after a restart the
        snapshot is "unknown" with none, and a failed probe keeps the last answer's)."""
        if self.runtime.monitor.prober is None:
            return True
        return snapshot.failures == 0 and snapshot.captured_monotonic is not None and snapshot.state != "offline"
