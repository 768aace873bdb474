"""USB jobs confirmed label by label: the worker's loop for a printer that talks back on its cable.

On USB a Brother printer sends a status block per label printed ("printing completed"), on an
error and on phase changes (appliance/printer/usb_session.py). Here the job is written through a
:class:`UsbSession` and its blocks are folded into a :class:`UsbJobProgress`; each look hands the
reconciler (reconcile.py, `confirms=True`) the labels confirmed so far, as a networked printer's
page counter difference is handed to it, and the worker applies the one decision it is told:

- every "printing completed" is a timeline step `label-out` (k of N), written at once, so a
  restart knows how many came out;
- an error block stops the job `stopped/<reason>`, nothing resent: the printer keeps the job and
  its later blocks confirm the rest;
- the device gone (cable pulled, printer off) stops it `stopped/printer-offline` with the count so
  far; the printer is opened again with backoff and asked its status: printing, or a fault with the
  job kept, and the blocks go on in the new session; idle with labels missing (reconcile's `Lost`),
  and the job ends `aborted/send-interrupted` naming how many were confirmed, for a person to
  reprint the rest (`job.reprint {copies: rest}`), never resent blindly;
- after a restart a job left at the printer is judged the same way, from the printer's status and
  the `label-out` steps already stored.

A printer that answers no status request keeps the old way (sent, then judged by time).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import replace
from typing import Any

from .. import logs
from ..printer.transport import TransportError
from ..printer.usb_progress import UsbJobProgress
from ..printer.usb_session import UsbSession
from ..store import jobs
from . import reconcile
from .gate import Gate
from .reconcile import backoff

log = logs.get("appliance.queue")

PRINT_SPEED_MM_S = 20.0  # as worker.py: a conservative floor of Brother's speeds
FIRST_LOOK_S = 0.005


def look_of(progress: UsbJobProgress, confirmed_before: int, now: float) -> reconcile.Look:
    """What the printer has said of the job, as the reconciler reads a look. `confirmed_before`: labels of
    the job confirmed in earlier sessions (before an unplug or a restart)."""
    confirmed = confirmed_before + progress.confirmed
    outcome = progress.outcome
    if outcome == "offline":
        return reconcile.Look(state="offline", reasons=("printer-offline",), answered=False,
                              labels_confirmed=confirmed, at=None)
    if outcome == "stopped":
        return reconcile.Look(state="stopped", reasons=progress.fault, labels_confirmed=confirmed, at=now)
    if outcome == "idle-short":
        return reconcile.Look(state="idle", labels_confirmed=confirmed, at=progress.idle_at)
    if outcome in ("printing", "completed"):
        return reconcile.Look(state="printing", reasons=("cooling",) if progress.cooling else (),
                              labels_confirmed=confirmed, at=now)
    return reconcile.Look(state="unknown", labels_confirmed=confirmed, at=now)  # sent, nothing heard yet


def progress_after_status(progress: UsbJobProgress, state: str, reasons: tuple[str, ...],
                          now: float) -> UsbJobProgress:
    """The progress once a new session's status reply came: what the printer does now."""
    fault = tuple(r for r in reasons if r in reconcile.BLOCKING)
    if state == "stopped" and fault:
        return replace(progress, offline_reason=None, fault=fault, printing=False)
    if state == "printing":
        return replace(progress, offline_reason=None, fault=(), printing=True, idle_at=None)
    return replace(progress, offline_reason=None, fault=(), printing=False, idle_at=now)


class UsbFollow(Gate):
    """A job on a USB printer, sent through one session and confirmed by the printer's own blocks."""

    async def _process_usb(self, row: Any, raster: bytes) -> bool:
        """Send and follow a pending job; False when the printer answers no status (the caller sends it
        the old way)."""
        job_id = row["id"]
        monitor = self.runtime.monitor
        transport: Any = self.runtime.transport()
        with monitor.busy():
            try:
                if not await self._connect(row, _Opener(transport)):
                    return True
                session = transport._session
                assert session is not None
                try:
                    status = await session.request_status()
                except TransportError as exc:  # gone between open and asking: not sent, not an attempt
                    await self._mark_waiting(row, self._waiting_reason(exc), error=str(exc), sent=False)
                    return True
                if status is None:
                    return False
                blocked = next((r for r in status.reasons if r in reconcile.BLOCKING), None)
                if status.state in ("stopped", "printing") or blocked is not None:
                    await transport.close()  # the gate says why at the next turn, from a fresh status
                    await monitor.probe_now()
                    await monitor.wait_change(monitor.busy_interval)
                    return True
                attempts = row["attempts"] + 1
                processing = await jobs.transition(
                    self.db, job_id, allowed_from=("pending",), to="processing", started=True, attempts=attempts,
                    printer_id=self.runtime.id,
                    steps=[jobs.step("processing", "processing", attempt=attempts, page_count=0, confirms=True)])
                if processing is None:
                    return True
                await self._publish(processing)
                self.in_flight = True
                steps: list[jobs.Step] = []
                try:
                    await self._beating(session.send(raster, timeout=self.settings.write_timeout_s
                                                     + self._label_s(row) * row["copies"]))
                    steps.append(jobs.step("sent", "processing", bytes=len(raster), attempt=attempts))
                except TransportError as exc:  # the offline event follows: judged from the status once back
                    steps.append(jobs.step("send-failed", "processing", reason=exc.reason, error=str(exc),
                                           attempt=attempts, why="the printer confirms each label itself: the "
                                           "ones confirmed count, and nothing is sent again"))
                await self._follow_usb(processing, transport, session, steps, stopped_for=None, confirmed_before=0)
                return True
            finally:
                self.in_flight = False
                await transport.close()

    async def _follow_usb_again(self, row: Any, steps: list[jobs.Step]) -> None:
        """A job the last run left at the printer: the labels its timeline confirms count, and the printer's
        status now tells the rest (see _follow_usb)."""
        timeline = await jobs.timeline(self.db, row["id"])
        confirmed = sum(1 for step in timeline if step["event"] == "label-out")
        stopped_for = (jobs.reasons_of(row) or ["stopped"])[0] if row["state"] == "stopped" else None
        steps[:] = [jobs.step("following", row["state"], labels=confirmed, of=row["copies"], why=(
            "the appliance restarted (or could not store a step) while this job was at the printer; the labels "
            "the printer confirmed and its status now tell the rest: nothing is sent again"))]
        await jobs.add_steps(self.db, row["id"], steps)
        steps.clear()
        transport: Any = self.runtime.transport()
        self.in_flight = True
        try:
            with self.runtime.monitor.busy():
                await self._follow_usb(row, transport, None, steps, stopped_for=stopped_for,
                                       confirmed_before=confirmed)
        finally:
            await transport.close()

    def _label_s(self, row: Any) -> float:
        return float(row["length_mm"] / PRINT_SPEED_MM_S)

    async def _follow_usb(self, row: Any, transport: Any, session: UsbSession | None, steps: list[jobs.Step], *,
                          stopped_for: str | None, confirmed_before: int) -> None:
        """Read the printer's blocks until the job is done, stopped for good or gone; reopen after an unplug.
        `session` None: open one first (after a restart)."""
        job_id, copies = row["id"], row["copies"]
        known = reconcile.start(copies=copies, in_flight=copies - confirmed_before, pages_before=0, serial=None,
                                counter=True, label_s=self._label_s(row), print_timeout_s=self.settings.print_timeout_s,
                                lost_after_idle_s=self.settings.lost_after_idle_s, now=time.monotonic(),
                                stopped_for=stopped_for, confirms=True)
        progress = UsbJobProgress(labels=copies - confirmed_before)
        if session is None:
            progress = replace(progress, offline_reason="restarted")
        delay, tries = FIRST_LOOK_S, 0
        sent_at = known.sent_at
        heard = session is None  # after a restart the status tells; else: the printer said something unasked
        while True:
            self.heartbeat = now = time.monotonic()
            if progress.outcome == "offline" and not heard and session is not None:
                # gone before it said a word unasked: no ground to wait for its confirmations (it may send none)
                await self._finish(job_id, "aborted", ["send-interrupted"], [*steps, jobs.step(
                    "failed", "aborted", reason="send-interrupted", labels=confirmed_before, copies=copies,
                    rest=copies - confirmed_before, why="the printer went away before it confirmed a label, and "
                    "some of the job may have reached it: check the printer, and reprint the job if its labels "
                    "did not come out (sending it again could print them twice)")])
                return
            if progress.outcome == "offline" and (session is None or not session.open):
                reopened = await self._reopen(transport, tries, progress, now)
                if reopened is not None:
                    session, progress, before, state = reopened
                    tries = 0
                    await self.runtime.monitor.probe_now()  # back: printer.status says so
                    progress = await self._confirm(job_id, copies, confirmed_before, progress, before, steps)
                    confirmed = confirmed_before + progress.confirmed
                    if reconcile.after_reopen(state=state, fault=bool(progress.fault), confirmed=confirmed,
                                              copies=copies) == "interrupted":
                        await self._interrupted(row, confirmed, steps)
                        return
                else:
                    tries += 1
            if (progress.outcome == "sent" and session is not None and session.open
                    and reconcile.unconfirmed_done(reconcile.Look(state="unknown"), False, sent_at, now,
                                                   known.expected_seconds(known.in_flight))):
                # nothing said unasked since sending: a printer that sends no blocks (notifications off)
                if await self._judged_by_time(row, session, steps):
                    return
                sent_at = now + known.print_timeout_s  # printing or stopped: its blocks tell the rest
            decision, after = reconcile.follow(known, look_of(progress, confirmed_before, now), now)
            if isinstance(decision, reconcile.Completed):
                if decision.resumed:
                    steps.append(jobs.step("resumed", "processing"))
                await self._finish(job_id, "completed", [], [*steps, jobs.step(
                    "completed", "completed", labels=decision.labels, confirmed_by="printer")])
                return
            if isinstance(decision, reconcile.Lost | reconcile.Replaced):  # idle with labels unconfirmed
                out = decision.out_so_far if isinstance(decision, reconcile.Lost) else confirmed_before
                await self._interrupted(row, out, steps)
                return
            if isinstance(decision, reconcile.Stopped | reconcile.Resumed) and not await self._stop_or_resume(
                    job_id, decision, steps):
                return
            known = after
            if isinstance(decision, reconcile.TimedOut):
                await self._finish(job_id, "aborted", ["timed-out"], [*steps, jobs.step(
                    "failed", "aborted", error=f"no label came out for {decision.idle_for:.0f} s",
                    labels=confirmed_before + progress.confirmed)])
                return
            current = await jobs.get(self.db, job_id)
            if current is None or current["state"] not in ("processing", "stopped"):
                # canceled meanwhile; stopped at the printer, which keeps it and may print it once fixed: the
                # next job waits until it stood idle long enough to have let it go (its blocks are not counted)
                await self._watch_if_canceled(job_id, copies, 0)
                return
            until = decision.until - time.monotonic() if isinstance(decision, reconcile.Wait) else delay
            wait = min(delay, until) if until > 0 else delay
            if progress.outcome == "offline":
                wait = min(backoff(tries, self.settings.retry_base_s, self.settings.retry_max_s), wait + 1.0)
                await self._woken(wait)
                continue
            assert session is not None
            event = await session.next_event(wait)
            delay = min(delay * 2, self.runtime.monitor.busy_interval)
            if event is not None:
                heard = heard or event.kind != "offline"
                progress = await self._confirm(job_id, copies, confirmed_before, progress, [event], steps)
                delay = FIRST_LOOK_S
                if event.kind in ("error", "notification", "offline") or (event.kind == "phase"
                                                                          and not progress.printing):
                    # printer.status tells what the job does: the monitor's probe asks through this session
                    # (never while a label prints), or fails with the device gone
                    await self.runtime.monitor.probe_now()

    async def _judged_by_time(self, row: Any, session: UsbSession, steps: list[jobs.Step]) -> bool:
        """A printer that answers status requests but sends no block unasked: done once it says it is idle
        with no fault after the print time (or answers nothing now), as a printer with no counter is (True:
        finished)."""
        try:
            status = await session.request_status()
        except TransportError:
            return False
        if status is not None and (status.state != "idle" or status.reasons):
            return False  # printing still, or stopped: its blocks (or the time out) tell the rest
        await self._finish(row["id"], "completed", [], [*steps, jobs.step(
            "completed", "completed", confirmed=False, why="the printer sent no \"printing completed\" block; "
            "done after the time printing takes")])
        return True

    async def _confirm(self, job_id: int, copies: int, confirmed_before: int, progress: UsbJobProgress,
                       events: list[Any], steps: list[jobs.Step]) -> UsbJobProgress:
        """Fold the printer's blocks; each label it confirms is written to the timeline at once."""
        for event in events:
            was = progress.confirmed
            progress = progress.advance(event)
            if progress.confirmed > was:
                done = confirmed_before + progress.confirmed
                steps.append(jobs.step("label-out", "processing", label=done, of=copies,
                                       text=f"label-out {done} of {copies}"))
                await jobs.add_steps(self.db, job_id, steps)
                steps.clear()
        return progress

    async def _reopen(self, transport: Any, tries: int, progress: UsbJobProgress,
                      now: float) -> tuple[UsbSession, UsbJobProgress, list[Any], str] | None:
        """Open the printer again and ask what it does: (session, progress, blocks from before the reply,
        its state), or None while it cannot be opened or answers nothing."""
        await transport.close()
        try:
            session = await transport.session()
        except TransportError:
            return None
        try:
            status = await session.request_status()
        except TransportError:
            status = None
        if status is None:
            await transport.close()
            return None
        log.info("queue.usb_reopened", printer=self.runtime.name, state=status.state, after=tries)
        before = [event for event in session.before if event.kind == "printed"]
        return session, progress_after_status(progress, status.state, tuple(status.reasons), now), before, status.state

    async def _interrupted(self, row: Any, out: int, steps: list[jobs.Step]) -> None:
        """The printer is idle with labels unconfirmed after it was gone: nobody can tell whether they came
        out. A person checks; the rest is reprinted with one action, never resent blindly."""
        copies = row["copies"]
        rest = copies - out
        await self._finish(row["id"], "aborted", ["send-interrupted"], [*steps, jobs.step(
            "failed", "aborted", reason="send-interrupted", labels=out, copies=copies, rest=rest,
            why=f"{out} of {copies} labels confirmed by the printer, which stands idle without the others (it "
                f"was unplugged or off meanwhile, or lost them): they may or may not have come out: check the "
                f"printer, and reprint the rest "
                f"(job.reprint with copies={rest}) if they did not")])
        log.warning("queue.usb_interrupted", printer=self.runtime.name, job_id=row["id"], confirmed=out, rest=rest)


class _Opener:
    """The gate's `_connect` opens a transport: here it opens the transport's session."""

    def __init__(self, transport: Any) -> None:
        self.transport = transport

    async def connect(self) -> None:
        await self.transport.session()

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.transport.close()


__all__ = ["UsbFollow", "look_of", "progress_after_status"]
