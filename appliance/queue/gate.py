"""Before a job is sent: may it go now, and can the printer be reached.

A job waits (pending, with the reason) while its printer is offline, busy or refusing connections;
it is stopped, nothing sent, while a fault needs a person (cover open, no tape, wrong tape); it waits
while the printer prints a label that is not this job's, and while a canceled job's kept label may
still come out (reconcile.settle_canceled). The page counter it is counted from is read with its
connection open (reconcile.may_send). A printer that cannot be reached is tried again with capped
exponential backoff, or as soon as it answers a status probe; connections that cannot be opened are
never attempts.
"""

from __future__ import annotations

import time
from typing import Any

from .. import logs
from ..printer.monitor import FAILED_RECHECK_S, StatusSnapshot
from ..printer.transport import Transport, TransportError
from ..store import jobs
from . import reconcile
from .base import WorkerBase
from .reconcile import BLOCKING, UNREACHABLE, backoff

log = logs.get("appliance.queue")


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


def waiting_reason(exc: TransportError, snapshot: StatusSnapshot, answered: bool) -> str:
    """Why a job waits for a printer it cannot open a connection to: busy (another program holds the USB
    device); refusing jobs while its status answers (the monitor says "jobs-refused": raster port closed
    or held by another computer), as the printer's status says it; or offline."""
    if exc.reason in ("printer-busy", "printer-ambiguous"):  # ambiguous: two alike plugged in, add ?serial=
        return exc.reason
    return "jobs-refused" if answered and "jobs-refused" in snapshot.reasons else "printer-offline"


class Gate(WorkerBase):
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

    async def _watch_if_canceled(self, job_id: int, target: int, before: int) -> None:
        """The job was canceled while the printer kept it (stopped: cover open, tape out): watch for its labels."""
        row = await jobs.get(self.db, job_id)
        if row is not None and row["state"] == "canceled" and "printer-may-still-print" in jobs.reasons_of(row):
            self._canceled_watch = reconcile.CanceledWatch(job_id, target, before)

    async def _watch_canceled_again(self) -> None:
        """At a start: the watch of a canceled job's kept labels (see _settle_canceled) lived in memory
        only, and a new job sent at once was counted done with the kept label once the printer went on
        with it (found by the Hypothesis machine). If the job sent last to this printer is such a job,
        with no later one since, it is watched again; a watch that had ended costs an idle spell."""
        if self._canceled_watch is not None:
            return
        row = await jobs.last_started_on(self.db, self.runtime.id)
        if row is None or row["state"] != "canceled":
            return
        reasons = jobs.reasons_of(row)
        if "printer-may-still-print" not in reasons or "printed-after-cancel" in reasons:
            return
        before, _serial = await jobs.sent_to(self.db, row["id"])
        if before is not None:
            self._canceled_watch = reconcile.CanceledWatch(row["id"], before + row["copies"], before)

    async def _settle_canceled(self, snapshot: StatusSnapshot, *, final: bool = False) -> bool:
        """A job canceled while stopped at the printer: when its labels come out after all (the cover
        closed, a new cassette), its history says so. The watch ends when they do, or once the printer
        has stood idle without them for queue.lost_after_idle_s (it let the job go; see
        reconcile.settle_canceled). True when no watch is left.

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
        # as long as a job's own labels would count as lost (queue.lost_after_idle_s): a printer takes a kept
        # job up in its own time, and the next job sent before it does is counted done with the kept label
        # (found by the Hypothesis machine, tests/queue/test_reconcile_sim.py: 2 busy polls was not enough)
        settle = max(2 * (monitor.busy_interval if final else monitor.interval), self.settings.lost_after_idle_s)
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
