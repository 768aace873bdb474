"""A model printer, a model appliance around the real reconciler, and a virtual clock, for the
Hypothesis machine of test_reconcile_sim.py.

The printer (`ModelPrinter`) keeps what it was sent and prints it label by label in its own time:
through a cover opened or the tape running out it keeps the job and goes on a while after the fault
is cleared (`resume_after_s`), it starts a job a while after receiving it (`start_after_s`), it
cools between labels, a power cut loses what it had not printed (its page counter survives), and it
can be swapped for another printer (another serial and counter). Its SNMP can go silent while it
prints on. Every label it prints is counted per job, across printers: the invariants read that.

The appliance (`ModelAppliance`) is the worker's loop reduced to its decisions: one job at the
printer at a time, the counter read fresh before sending (`reconcile.may_send`), then one
`reconcile.follow` per look and the transition it tells, a resend of only the rest after `Lost`
(`reconcile.after_lost`), a send cut short followed by the counter (`reconcile.after_send_failure`).
A restart forgets everything not stored (the knowledge of the job it follows), as the real one does.

The model's assumption, which is also the appliance's (README: queue.lost_after_idle_s): a printer
that keeps a job does not stand idle with it, answering and not cooling, for lost_after_idle_s.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from hypothesis import currently_in_test_context, event

from appliance.queue import reconcile

LABEL_S = 3.0  # how long the model printer takes per label
APPLIANCE_LABEL_S = 4.0  # the appliance's conservative guess (Brother's slowest speed)
PRINT_TIMEOUT_S = 60.0
LOST_AFTER_IDLE_S = 30.0
MAX_ATTEMPTS = 3
POLL_S = 1.0  # the worker's busy poll
MAX_HOLD_IDLE_S = 20.0  # start_after_s and resume_after_s stay below this (the model's assumption)

Follow = Callable[[reconcile.Following, reconcile.Look, float], tuple[reconcile.Decision, reconcile.Following]]


@dataclass
class Held:
    job_id: int
    labels: int  # still to print


@dataclass
class ModelPrinter:
    serial: str
    counter: int
    now: float
    held: list[Held] = field(default_factory=list)
    fault: str | None = None  # cover-open | media-empty
    off: bool = False
    silent: bool = False  # SNMP does not answer; it prints on
    cooling_until: float = 0.0
    start_after_s: float = 0.0
    resume_after_s: float = 0.0
    not_before: float = 0.0  # it goes on with what it keeps from then
    label_due: float | None = None  # the label in progress comes out then
    printed: Counter[int] = field(default_factory=Counter)

    def receive(self, job_id: int, labels: int) -> None:
        if labels > 0:
            if not self.held:
                self.not_before = max(self.not_before, self.now + self.start_after_s)
            self.held.append(Held(job_id, labels))

    def run_until(self, t: float) -> None:
        """The printer's own time passes: it prints what it keeps when nothing stops it."""
        while True:
            if self.off or self.fault is not None or not self.held:
                self.label_due = None
                break
            if self.label_due is None:
                self.label_due = max(self.now, self.not_before, self.cooling_until) + LABEL_S
            if self.label_due > t:
                break
            self.now = self.label_due
            self.label_due = None
            first = self.held[0]
            first.labels -= 1
            self.counter += 1
            self.printed[first.job_id] += 1
            if first.labels == 0:
                self.held.pop(0)
        self.now = max(self.now, t)

    @property
    def printing(self) -> bool:
        return self.label_due is not None and self.label_due - LABEL_S <= self.now

    def state(self) -> tuple[str, tuple[str, ...]]:
        if self.fault is not None:
            return "stopped", (self.fault,)
        if self.held and self.cooling_until > self.now:
            return "idle", ("cooling",)
        return ("printing" if self.printing else "idle"), ()

    def interrupt(self) -> None:
        """A fault, a cooling or a power cut: the label in progress does not come out now."""
        self.label_due = None

    def set_fault(self, fault: str | None) -> None:
        if fault is None and self.fault is not None:
            self.not_before = self.now + self.resume_after_s
        self.fault = fault
        self.interrupt()

    def power_cut(self) -> None:
        self.off, self.held, self.fault, self.cooling_until = True, [], None, 0.0
        self.interrupt()

    def cool(self, seconds: float) -> None:
        if self.held and not self.off:
            self.cooling_until = self.now + seconds
            self.interrupt()


class ModelWorld:
    """The printer at the address (swappable), the labels every printer printed, and the clock."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.printers = [ModelPrinter(serial="A0", counter=100, now=self.now)]
        self.last_answer: reconcile.Look | None = None

    @property
    def printer(self) -> ModelPrinter:
        return self.printers[-1]

    def printed(self, job_id: int) -> int:
        return sum(p.printed[job_id] for p in self.printers)

    def holds_anything(self) -> bool:
        return any(p.held for p in self.printers if not p.off)

    def advance(self, seconds: float) -> None:
        self.now += seconds
        for printer in self.printers:
            printer.run_until(self.now)

    def swap(self, serial: str, counter: int) -> None:
        old = self.printer
        old.held, old.label_due = [], None  # carried away: it prints nothing more here
        self.printers.append(ModelPrinter(serial=serial, counter=counter, now=self.now))

    def look(self) -> reconcile.Look:
        """A fresh probe, as the worker makes while following (SNMP): no answer while off or silent."""
        printer = self.printer
        if printer.off or printer.silent:
            last = self.last_answer
            return reconcile.Look(state="offline", reasons=("printer-offline",), answered=False,
                                  page_count=last.page_count if last else None,
                                  serial=last.serial if last else None, at=last.at if last else None)
        state, reasons = printer.state()
        self.last_answer = reconcile.Look(state=state, reasons=reasons, answered=True, page_count=printer.counter,
                                          serial=printer.serial, at=self.now)
        return self.last_answer


@dataclass
class ModelJob:
    id: int
    copies: int
    state: str = "pending"  # pending | processing | completed | aborted
    pages_before: int | None = None  # stored at sending, as the worker stores them
    serial: str | None = None
    stopped_for: str | None = None
    attempts: int = 0
    why: str = ""
    started: int | None = None  # the order it was first sent in (the store's started_at)


class Violation(AssertionError):
    """An invariant of exactly-once printing broke."""


class ModelAppliance:
    def __init__(self, world: ModelWorld, follow: Follow) -> None:
        self.world = world
        self.follow = follow
        self.jobs: dict[int, ModelJob] = {}
        self.current: ModelJob | None = None
        self.known: reconcile.Following | None = None
        self.cut_next_send: int | None = None  # the next send breaks off after this many labels
        self.sends = 0
        self.watch: reconcile.CanceledWatch | None = None  # a canceled job the printer may still print
        self.settle_s = LOST_AFTER_IDLE_S  # how long the gate watches an idle printer for it (gate.py)

    def submit(self, copies: int) -> None:
        job_id = len(self.jobs) + 1
        self.jobs[job_id] = ModelJob(job_id, copies)
        if self.current is None:
            self.current = self._next()

    def cancel_stopped(self) -> bool:
        """job.cancel of the job stopped at the printer: it is canceled, the printer keeps it (and may
        print it once the fault is cleared); the worker watches for its labels before the next send."""
        job = self.current
        if job is None or job.state != "processing" or job.stopped_for is None or job.pages_before is None:
            return False
        job.state, job.why = "canceled", "printer-may-still-print"
        self.watch = reconcile.CanceledWatch(job.id, job.pages_before + job.copies, job.pages_before)
        self.current, self.known = self._next(), None
        return True

    def restart(self) -> None:
        """SIGKILL and start again: what was not stored is forgotten."""
        self.known = self.watch = None
        self.current = next((j for j in self.jobs.values() if j.state == "processing"), None) or self._next()
        started = [j for j in self.jobs.values() if j.started is not None]
        last = max(started, key=lambda j: j.started or 0) if started else None
        if last is not None and last.state == "canceled" and last.why == "printer-may-still-print" \
                and last.pages_before is not None:  # watched again (gate.py, _watch_canceled_again)
            self.watch = reconcile.CanceledWatch(last.id, last.pages_before + last.copies, last.pages_before)

    def _next(self) -> ModelJob | None:
        return next((j for j in self.jobs.values() if j.state == "pending"), None)

    def _start(self, job: ModelJob, in_flight: int) -> reconcile.Following:
        return reconcile.start(copies=job.copies, in_flight=in_flight, pages_before=job.pages_before,
                               serial=job.serial, counter=True, label_s=APPLIANCE_LABEL_S,
                               print_timeout_s=PRINT_TIMEOUT_S, lost_after_idle_s=LOST_AFTER_IDLE_S,
                               now=self.world.now, stopped_for=job.stopped_for)

    def _send(self, job: ModelJob, labels: int) -> None:
        if self.world.holds_anything():
            raise Violation(f"job {job.id} sent while the printer still holds an earlier send "
                            f"({self.world.printer.held})")
        self.sends += 1
        arrived = labels
        if self.cut_next_send is not None:
            arrived, self.cut_next_send = min(self.cut_next_send, labels), None
            verdict = reconcile.after_send_failure(retryable=True, reached=True, counted=True)
            if verdict != "follow":
                raise Violation(f"a send cut short with a counter is not followed: {verdict}")
        self.world.printer.receive(job.id, arrived)

    def _end(self, job: ModelJob, state: str, why: str) -> None:
        job.state, job.why = state, why
        self.current, self.known = self._next(), None

    def turn(self) -> None:
        """One look of the worker: send the next job, or one decision about the job at the printer."""
        job = self.current
        if job is None:
            return
        look = self.world.look()
        if job.state == "pending":
            if self.watch is not None:  # a canceled job's kept labels first (gate.py, _settle_canceled)
                watched = self.watch.job_id
                decision, self.watch = reconcile.settle_canceled(self.watch, look, self.world.now, self.settle_s)
                if isinstance(decision, reconcile.PrintedAfterCancel):
                    self.jobs[watched].why = "printed-after-cancel"
                if self.watch is not None:
                    return
            blocked = next((r for r in look.reasons if r in reconcile.BLOCKING), None)
            if not reconcile.may_send(look, blocked):
                return
            job.pages_before, job.serial, job.state = look.page_count, look.serial, "processing"
            job.attempts, job.started = 1, self.sends
            self._send(job, job.copies)
            self.known = self._start(job, job.copies)
            return
        if self.known is None:  # followed again after a restart: in flight counts as the whole job
            self.known = self._start(job, job.copies)
        decision, self.known = self.follow(self.known, look, self.world.now)
        if not isinstance(decision, reconcile.Wait) and currently_in_test_context():
            event(f"decision {type(decision).__name__}")  # --hypothesis-show-statistics: what was reached
        if isinstance(decision, reconcile.Completed):
            if self.world.printed(job.id) < job.copies:
                raise Violation(f"job {job.id} completed with {self.world.printed(job.id)} of {job.copies} "
                                f"labels out ({decision})")
            self._end(job, "completed", "")
        elif isinstance(decision, reconcile.Lost):
            plan = reconcile.after_lost(job.copies, decision.out_so_far, job.attempts, MAX_ATTEMPTS)
            if isinstance(plan, reconcile.GiveUp):
                self._end(job, "aborted", "job-incomplete")
                return
            job.attempts += 1
            self._send(job, plan.copies)
            self.known = self._start(job, plan.copies)
        elif isinstance(decision, reconcile.Replaced | reconcile.TimedOut):
            self._end(job, "aborted", type(decision).__name__)
        elif isinstance(decision, reconcile.Stopped):
            job.stopped_for = decision.reason
        elif isinstance(decision, reconcile.Resumed):
            job.stopped_for = None

    def check(self) -> None:
        """The invariants that hold after every step."""
        for job in self.jobs.values():
            if self.world.printed(job.id) > job.copies:
                raise Violation(f"job {job.id}: {self.world.printed(job.id)} labels printed for {job.copies} copies")
