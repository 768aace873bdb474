"""The queue's decisions about a job at its printer, as pure functions over plain data.

What the appliance knows of a job it sent (`Following`: copies, labels in the last send, the page
counter and serial read before sending, when it was sent, what it is stopped for, …) and one look
at the printer (`Look`: state, reasons, counter, serial, whether the printer answered, when) go
in; a decision comes out with the new knowledge. No awaits, no clock (time is an argument), no
database, no logging: the worker (worker.py) observes, calls `follow`, applies the one transition
it is told, and sleeps as told. Every rule below was a race once; the tests in
tests/queue/test_reconcile*.py name them.

The decision table of `follow`, in the order the rules are tried at each look:

1. `Replaced` — the printer answered, and another serial answers than the one read before
   sending, or its counter read below the one before sending at two answered looks in a row (one
   low reading is a printer still booting). Its counter cannot tell whether the labels came out,
   and counting anew printed twice (2026-11-24): a person checks, nothing is sent again.
2. `Completed(labels)` — the labels out since sending (counter − counter before, or the labels
   the printer confirmed itself) reach the job's copies. `resumed` says a stopped job went on.
3. A look that says `cooling` (a pause the printer ends itself) restarts the time the rest may
   take, and moves the timeout on; it is never "done", never "lost".
4. `Completed(confirmed=False)` — only with no way to count (no page counter, or none read
   before sending): the printer was seen printing and is idle now, or the print time (at most
   30 s) has passed since sending, and it is neither stopped, offline nor cooling.
5. `Stopped(reason)` — the look names a fault (cover open, tape out, … or `status-lost`: the
   status went silent with bytes at the printer, it may print still) other than the one the job
   is stopped for already. Nothing is resent: the printer keeps the job. No timeout while stopped.
6. `Resumed` — stopped, and the printer answers with no fault. How long it may stand idle
   before its labels count as lost is counted from now, not from sending (a stop longer than the
   print time had the kept label resent at the first idle look, e2c69a3).
7. `Lost(out_so_far)` — not stopped, a counter read before sending, fewer labels out than sent,
   longer than their print time + 5 s since sending (or the resume, or the last cooling look),
   and the printer stood idle, answered, its counter still, for `lost_after_idle_s` as the printer
   said it (captured times, not how often one old answer was looked at; 9583d44). A power cut
   drops what the printer had not printed: only the rest goes again.
8. A counter that went up gives the printer `print_timeout_s` more (a long job that keeps
   printing is never timed out, 05b4f00).
9. `TimedOut` — not stopped and no progress until the deadline: max(print_timeout_s, the time
   the labels in flight take at Brother's slowest speed) after sending, a resume or progress.
10. `Wait(until)` — nothing to do; look again by `until` at the latest (the poll pace may be sooner).

The other decisions: `after_send_failure` (a send that broke off: try again only if nothing
reached the printer, else follow by the counter, else abort `send-interrupted`), `after_lost`
(send only the labels not out, within `max_attempts`), `may_send` (the counter read with the
job's connection open must be a fresh answer from an idle, fault-free printer, 3826e50) and
`after_reopen` (a USB printer back after an unplug or a restart, judged by its status), and
`settle_canceled` (a job canceled while the printer keeps it is watched until its labels come out
or the printer stood idle long enough to have let it go, 9e5525b).

USB printers that confirm labels themselves (issue 35, "printing completed" status blocks) feed
`Look.labels_confirmed` (the job's labels confirmed so far, over all its sends) and start with
`confirms=True`: the count then stands where the page counter's difference stands, from 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

# Reasons a person must fix before a job can be sent, and that stop a job being printed.
BLOCKING = ("cover-open", "media-needed", "media-empty", "media-mismatch", "media-jam", "overheating",
            "shutdown", "system-error", "fan-failure", "wrong-power-adapter", "model-mismatch")
# a job not yet sent waits (pending); "status-lost": the printer's status while another job's raster is at it
UNREACHABLE = ("printer-offline", "printer-busy", "status-unavailable", "status-lost")
FOLLOW_STOPS = (*BLOCKING, *UNREACHABLE)  # once bytes are at the printer, losing it also needs a person
NEVER = math.inf


def following_reason(reason: str) -> str:
    """A stop reason for a job whose raster is at the printer. Status probes that fail then say only
    that the status cannot be read: the printer may be printing it (the label came out in trials
    while the job said "not reachable"), or it may be off; nothing tells which without a connection
    to its raster port, which could upset the job."""
    return "status-lost" if reason == "printer-offline" else reason


def backoff(attempt: int, base: float, cap: float) -> float:
    return float(min(cap, base * 2 ** max(attempt - 1, 0)))


@dataclass(frozen=True)
class Look:
    """One look at the printer. `answered`: its last probe answered (a failed probe keeps the last
    answer's reasons, and after a restart the status is "unknown" with none). `at`: when the printer
    answered (None: never), `now` is when it was looked at."""

    state: str  # idle | printing | stopped | offline | unknown
    reasons: tuple[str, ...] = ()
    answered: bool = True
    page_count: int | None = None
    serial: str | None = None
    at: float | None = None
    labels_confirmed: int | None = None  # the job's labels the printer confirmed itself (USB), if it does


@dataclass(frozen=True)
class Following:
    """What the appliance knows of a job it sent to its printer."""

    copies: int  # the job's labels
    in_flight: int  # labels the last send holds (the job's copies, or the rest after a partial print)
    pages_before: int | None  # the counter before sending (0 when the printer confirms labels itself)
    serial: str | None  # whose counter that is
    counter: bool  # the printer reports a page counter (or confirms labels itself)
    confirms: bool  # the printer confirms labels itself (Look.labels_confirmed), not by a page counter
    label_s: float  # how long one label may take, at the slowest of Brother's speeds
    print_timeout_s: float
    lost_after_idle_s: float
    sent_at: float  # sending, a resume or the last cooling look: the rest's time counts from then
    moved_at: float  # when the counter last went up (or sending)
    deadline: float  # no progress until then: timed out (NEVER while stopped)
    counted: int | None  # the highest count read
    stopped_for: str | None = None
    saw_printing: bool = False
    quiet_since: float | None = None  # idle, answered, its counter still, since then
    low_readings: int = 0  # answered counts in a row below the one before sending

    def print_seconds(self, copies: int) -> float:
        return self.label_s * copies

    def expected_seconds(self, copies: int) -> float:
        return self.print_seconds(copies) + 5.0

    def first_label_within(self, copies: int) -> float:
        """How long after sending (or a resume) the job may go without progress: print_timeout_s is how
        long a printer may show none, not how long a job may take (100 labels print for longer)."""
        return max(self.print_timeout_s, self.print_seconds(copies))


def start(*, copies: int, in_flight: int, pages_before: int | None, serial: str | None, counter: bool,
          label_s: float, print_timeout_s: float, lost_after_idle_s: float, now: float,
          stopped_for: str | None = None, confirms: bool = False) -> Following:
    """Knowledge at sending, or when a job left at the printer is followed again (after a restart the
    times count from now: the printer may have gone on meanwhile)."""
    if confirms:
        pages_before = 0
    known = Following(copies=copies, in_flight=in_flight, pages_before=pages_before, serial=serial,
                      counter=counter or confirms, confirms=confirms, label_s=label_s,
                      print_timeout_s=print_timeout_s, lost_after_idle_s=lost_after_idle_s, sent_at=now,
                      moved_at=now, deadline=NEVER, counted=pages_before, stopped_for=stopped_for)
    if stopped_for is None:
        known = replace(known, deadline=now + known.first_label_within(in_flight))
    return known


# --- decisions ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Completed:
    labels: int
    confirmed: bool = True  # False: judged by time (no counter)
    resumed: bool = False  # it was stopped: the timeline says it went on


@dataclass(frozen=True)
class Stopped:
    reason: str
    was: str | None  # stopped already for this (the printer's fault changed), or None


@dataclass(frozen=True)
class Resumed:
    pass


@dataclass(frozen=True)
class Lost:
    out_so_far: int  # labels out: only the rest goes again


@dataclass(frozen=True)
class Replaced:
    swapped: bool  # another serial answers (else: the counter went back)
    serial_now: str | None
    counter_now: int | None


@dataclass(frozen=True)
class TimedOut:
    idle_for: float  # seconds without progress
    labels: int | None  # labels out, if counted


@dataclass(frozen=True)
class Wait:
    until: float  # look again by then at the latest


Decision = Completed | Stopped | Resumed | Lost | Replaced | TimedOut | Wait


def _count(known: Following, look: Look) -> int | None:
    return look.labels_confirmed if known.confirms else look.page_count


def unconfirmed_done(look: Look, saw_printing: bool, sent_at: float, now: float, expected_s: float) -> bool:
    """No way to count: done once seen printing and idle again, or after the print time (at most 30 s)."""
    if look.state in ("stopped", "offline") or "cooling" in look.reasons:  # cooling: more to come
        return False
    if saw_printing and look.state == "idle":
        return True
    return now - sent_at >= min(expected_s - 5.0, 30.0)


def follow(known: Following, look: Look, now: float) -> tuple[Decision, Following]:
    """One look at a job at its printer: the decision (see the module's table) and what is known now."""
    count = _count(known, look)
    before = known.pages_before
    swapped = bool(known.serial and look.serial and look.serial != known.serial)
    low = before is not None and count is not None and count < before
    low_readings = known.low_readings + 1 if low and look.answered else 0
    known = replace(known, low_readings=low_readings)
    if (swapped or low_readings >= 2) and look.answered:
        return Replaced(swapped=swapped, serial_now=look.serial, counter_now=count), known
    if before is not None and count is not None and count >= before + known.copies:
        return Completed(labels=count - before, resumed=known.stopped_for is not None), known
    cooling = "cooling" in look.reasons
    sent_at, deadline = known.sent_at, known.deadline
    if cooling:  # a pause the printer ends by itself: the rest's time counts from then
        sent_at = now
        if deadline != NEVER:
            deadline = max(deadline, now + known.print_timeout_s)
    if (not known.counter or before is None) and unconfirmed_done(
            look, known.saw_printing, sent_at, now, known.expected_seconds(known.copies)):
        return Completed(labels=known.copies, confirmed=False), known
    quiet = (look.state == "idle" and look.answered and not cooling
             and (count is None or known.counted is None or count <= known.counted))
    if not quiet:
        quiet_since = None
    elif known.quiet_since is not None:
        quiet_since = known.quiet_since
    else:
        quiet_since = look.at if look.at is not None else now
    # a printer that confirms labels itself over USB is offline when its device is gone: said as it is
    reason = next((r if known.confirms else following_reason(r) for r in look.reasons if r in FOLLOW_STOPS), None)
    stopped_for, moved_at = known.stopped_for, known.moved_at
    decision: Decision | None = None
    if reason is not None and reason != stopped_for:
        decision, stopped_for, deadline = Stopped(reason, was=stopped_for), reason, NEVER
    elif reason is None and stopped_for is not None and look.answered:
        decision, stopped_for = Resumed(), None
        sent_at = moved_at = now
        deadline = now + known.first_label_within(known.in_flight)
    elif (stopped_for is None and before is not None and count is not None
          and before <= count < before + known.copies and quiet_since is not None
          and now - sent_at > known.expected_seconds(known.in_flight)
          and now - quiet_since >= known.lost_after_idle_s):
        known = replace(known, sent_at=sent_at, deadline=deadline, quiet_since=quiet_since)
        return Lost(out_so_far=count - before), known
    counted = known.counted
    if count is not None and counted is not None and count > counted:
        moved_at = now  # a label came out: the printer is alive, give it time for the rest
        if deadline != NEVER:
            deadline = max(deadline, now + known.print_timeout_s)
    if count is not None:
        counted = count if counted is None else max(counted, count)
    known = replace(known, sent_at=sent_at, moved_at=moved_at, deadline=deadline, counted=counted,
                    stopped_for=stopped_for, quiet_since=quiet_since,
                    saw_printing=known.saw_printing or look.state == "printing")
    if decision is not None:
        return decision, known
    if now > deadline:
        out = None if before is None or count is None else max(count - before, 0)
        return TimedOut(idle_for=now - moved_at, labels=out), known
    return Wait(until=_next_turn(known)), known


def _next_turn(known: Following) -> float:
    """The earliest time a look could decide something without the printer changing."""
    until = known.deadline
    if known.quiet_since is not None and known.stopped_for is None:
        lost_at = max(known.quiet_since + known.lost_after_idle_s,
                      known.sent_at + known.expected_seconds(known.in_flight))
        until = min(until, lost_at)
    return until


# --- around following -----------------------------------------------------------------------

def may_send(look: Look, blocked_by: str | None) -> bool:
    """The counter read with the job's connection open may be the one before its labels: a fresh answer,
    the printer not printing another's label (it would count for this job), and nothing blocking it."""
    return look.answered and look.state != "printing" and blocked_by is None


@dataclass(frozen=True)
class Resend:
    copies: int  # the labels not out, which go again


@dataclass(frozen=True)
class GiveUp:
    printed: int  # labels out of the job's copies


def after_lost(copies: int, printed: int, attempts: int, max_attempts: int) -> Resend | GiveUp:
    """Labels lost at the printer: send only the rest again, within `max_attempts` sends."""
    if attempts >= max_attempts:
        return GiveUp(printed)
    return Resend(copies - printed)


def after_send_failure(*, retryable: bool, reached: bool, counted: bool) -> str:
    """A send that broke off: "reconnect" (nothing reached the printer: not an attempt), "follow" (some
    may have; the counter tells which labels came out), "abort" (cannot heal), or "send-interrupted" (some
    may have and nothing can tell: a person checks; sending again could print twice, 6dfaf81)."""
    if retryable and not reached:
        return "reconnect"
    if retryable and counted:
        return "follow"
    return "send-interrupted" if retryable else "abort"


def after_reopen(*, state: str, fault: bool, confirmed: int, copies: int) -> str:
    """A USB printer that confirms labels itself came back (a replug, or the appliance restarted) and
    answered its status: "completed" (every label confirmed), "follow" (printing, or stopped by a fault
    with the job kept: its blocks confirm the rest) or "interrupted" (idle, no fault, labels
    unconfirmed: it holds nothing, so they came out unseen or never will; a person checks and reprints
    the rest, nothing is sent again)."""
    if confirmed >= copies:
        return "completed"
    if state == "printing" or fault:
        return "follow"
    return "interrupted"


@dataclass(frozen=True)
class CanceledWatch:
    """A job canceled while stopped at the printer, which keeps it and may print it once the fault is fixed."""

    job_id: int
    target: int  # the page count when all its labels are out
    before: int  # the count before sending
    idle_since: float | None = None  # the printer said it was idle, with no fault, since then


@dataclass(frozen=True)
class PrintedAfterCancel:
    labels_since_sent: int


@dataclass(frozen=True)
class Released:
    """The watch ends: the printer let the job go (idle long enough), or another printer answers."""


def settle_canceled(watch: CanceledWatch, look: Look, now: float,
                    settle_s: float) -> tuple[PrintedAfterCancel | Released | Wait, CanceledWatch | None]:
    """Whether a canceled job's kept labels came out, the printer let it go, or the watch goes on.
    Idle counts as the printer said it (captured times), not as often as one old answer is looked at."""
    count = look.page_count
    if count is not None and count >= watch.target:
        return PrintedAfterCancel(count - watch.before), None
    if count is not None and count < watch.before:  # another printer, or reset: its counter tells nothing
        return Released(), None
    if not (look.answered and look.state == "idle" and not look.reasons):
        return Wait(until=now + settle_s), replace(watch, idle_since=None)
    read_at = look.at if look.at is not None else now
    idle_since = watch.idle_since if watch.idle_since is not None else read_at
    if read_at - idle_since >= settle_s:
        return Released(), None
    return Wait(until=idle_since + settle_s), replace(watch, idle_since=idle_since)
