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

How it is built: the decisions about a job at the printer (done, lost, stopped, resumed, replaced,
timed out, what to do with a send that broke off, a canceled job's kept label) are pure functions in
reconcile.py, whose docstring holds the decision table. This module is the loop around them: look at
the printer, let reconcile decide, apply the one transition it tells (a write to the store, a
publish, a resend), sleep as told. gate.py holds what comes before sending (may it go now, can the
printer be reached), base.py the state and helpers they share. A USB printer's jobs go through
usb_follow.py: written through one open session and confirmed label by label from the printer's own
status blocks, decided by the same reconciler.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable
from typing import Any

from .. import logs
from ..printer.monitor import FAILED_RECHECK_S, StatusSnapshot
from ..printer.transport import Transport, TransportError
from ..store import jobs
from . import reconcile
from .base import EndNotStored, OnDamaged, serial_of
from .gate import blocker
from .usb_follow import UsbFollow

log = logs.get("appliance.queue")

__all__ = ["EndNotStored", "OnDamaged", "Worker", "blocker"]  # where the queue's other modules took them

FIRST_RECHECK_S = 0.005  # after sending: re-probe after 5 ms, 10 ms, 20 ms, … up to the busy poll interval
# why a job left at the printer is followed again (its `following` step)
RESTARTED_WHY = ("the appliance restarted while this job was at the printer; the page counter tells whether it "
                 "came out, or it is sent again")
UNSTORED_WHY = ("its last step could not be stored (disk full?); the page counter tells whether it came out, or "
                "it is sent again")
PRINT_SPEED_MM_S = 20.0  # a conservative floor of Brother's speeds, for "how long may printing take"

class Worker(UsbFollow):
    """The loop: jobs left at the printer first, then the next pending one; send it, follow it."""

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
        if self.runtime.confirms_labels and pages_before is not None:  # confirmed label by label on USB
            await self._follow_usb_again(row, steps)
            return
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
                await self._watch_canceled_again()
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

    # --- before sending ---------------------------------------------------------------------

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
        if self.runtime.confirms_labels and await self._process_usb(row, raster):
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
                serial = serial_of(before)  # whose page counter that is (see _follow)
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

    def _print_seconds(self, row: Any, copies: int | None = None) -> float:
        """How long printing `copies` of the job's label may take, at the slowest of Brother's speeds."""
        return float(row["length_mm"] * (row["copies"] if copies is None else copies) / PRINT_SPEED_MM_S)

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
