"""The queue's past races, each a short scenario against the reconciler (appliance/queue/reconcile.py).

Each test names the fix (commit) whose double print or wrong resend it keeps away. Times are plain
numbers: the reconciler reads no clock, so a scenario says exactly when each look happens.
"""

from __future__ import annotations

from dataclasses import replace

from appliance.queue import reconcile
from appliance.queue.reconcile import (
    CanceledWatch,
    Completed,
    Following,
    Look,
    Lost,
    PrintedAfterCancel,
    Released,
    Replaced,
    Resumed,
    Stopped,
    TimedOut,
    Wait,
)

T0 = 1000.0
LABEL_S = 2.0  # the appliance's guess per label: 3 copies take 6 s, expected 11 s


def sent(copies: int = 3, *, before: int | None = 50, serial: str | None = "S1", counter: bool = True,
         stopped_for: str | None = None, in_flight: int | None = None, confirms: bool = False,
         now: float = T0) -> Following:
    return reconcile.start(copies=copies, in_flight=copies if in_flight is None else in_flight,
                           pages_before=before, serial=serial, counter=counter, label_s=LABEL_S,
                           print_timeout_s=60.0, lost_after_idle_s=30.0, now=now, stopped_for=stopped_for,
                           confirms=confirms)


def idle(count: int | None, at: float, **kw: object) -> Look:
    return Look(state="idle", page_count=count, serial=kw.pop("serial", "S1"), at=at, **kw)  # type: ignore[arg-type]


def run(known: Following, looks: list[tuple[float, Look]]) -> tuple[list[reconcile.Decision], Following]:
    decisions = []
    for now, look in looks:
        decision, known = reconcile.follow(known, look, now)
        decisions.append(decision)
    return decisions, known


def test_all_labels_counted_out_completes() -> None:
    decision, _ = reconcile.follow(sent(), idle(53, T0 + 8), T0 + 8)
    assert decision == Completed(labels=3)


def test_idle_after_the_print_time_is_not_lost_until_it_stood_idle_for_lost_after_idle_s() -> None:
    """9583d44 (and the revert 4d649d1 of c892aba): a printer slow to go on with a kept label was
    resent at the first idle look after the label's print time."""
    decisions, _ = run(sent(), [(T0 + 12, idle(50, T0 + 12)), (T0 + 30, idle(50, T0 + 30)),
                                (T0 + 41.9, idle(50, T0 + 41.9))])
    assert all(isinstance(d, Wait) for d in decisions)
    decision, _ = reconcile.follow(run(sent(), [(T0 + 12, idle(50, T0 + 12))])[1], idle(50, T0 + 42), T0 + 42)
    assert decision == Lost(out_so_far=0)


def test_idle_is_counted_as_the_printer_said_it_not_as_often_as_an_old_answer_is_read() -> None:
    """9583d44: the same old answer looked at again says nothing new: idle since its capture time."""
    _, known = run(sent(), [(T0 + 12, idle(50, T0 + 12))])
    decision, _ = reconcile.follow(known, idle(50, T0 + 12), T0 + 60)  # 48 s later, the same answer
    assert decision == Lost(out_so_far=0)  # idle since 12 as it said, 48 s: lost (it is that old answer's story)
    # a fresh answer that the printer moved on resets the idle spell
    _, known = run(sent(), [(T0 + 12, idle(50, T0 + 12)), (T0 + 20, Look("printing", page_count=51, serial="S1",
                                                                              at=T0 + 20))])
    decision, _ = reconcile.follow(known, idle(51, T0 + 45), T0 + 45)
    assert isinstance(decision, Wait)


def test_a_resume_counts_the_idle_time_from_the_resume_not_from_sending() -> None:
    """e2c69a3: a stop longer than the print time had the kept label resent at the first idle look."""
    decisions, known = run(sent(), [
        (T0 + 1, Look("stopped", ("cover-open",), page_count=50, serial="S1", at=T0 + 1)),
        (T0 + 100, idle(50, T0 + 100)),  # cover closed 99 s later: resumed
        (T0 + 101, idle(50, T0 + 101)),  # the printer takes the kept job up in its own time
        (T0 + 125, idle(50, T0 + 125)),
    ])
    assert decisions[0] == Stopped("cover-open", was=None)
    assert decisions[1] == Resumed()
    assert all(isinstance(d, Wait) for d in decisions[2:])
    assert known.deadline == T0 + 100 + 60.0


def test_cooling_is_never_lost_and_restarts_the_time_the_rest_may_take() -> None:
    """ef32f0f: a job that took longer than its print time was counted lost at the first cooling look."""
    cooling = Look("idle", ("cooling",), page_count=51, serial="S1", at=T0 + 50)
    decisions, known = run(sent(), [(T0 + 50, cooling), (T0 + 200, replace(cooling, at=T0 + 200))])
    assert all(isinstance(d, Wait) for d in decisions)
    assert known.sent_at == T0 + 200 and known.quiet_since is None
    assert known.deadline >= T0 + 200 + 60.0  # the timeout moved on too


def test_a_printer_without_a_counter_is_never_done_while_cooling() -> None:
    """9583d44: cooling is never 'done' for a printer without a counter."""
    known = sent(before=None, counter=False)
    decision, _ = reconcile.follow(known, Look("idle", ("cooling",), at=T0 + 40), T0 + 40)
    assert isinstance(decision, Wait)
    decision, _ = reconcile.follow(known, Look("idle", at=T0 + 40), T0 + 40)
    assert decision == Completed(labels=3, confirmed=False)


def test_without_a_counter_done_once_seen_printing_then_idle() -> None:
    _, known = run(sent(before=None, counter=False), [(T0 + 1, Look("printing", at=T0 + 1))])
    decision, _ = reconcile.follow(known, Look("idle", at=T0 + 2), T0 + 2)
    assert decision == Completed(labels=3, confirmed=False)


def test_a_counter_read_before_sending_but_none_now_waits_for_one() -> None:
    """Never 'done by time' when a counter was read before sending: after a restart the printer may
    not have answered yet."""
    decision, _ = reconcile.follow(sent(), Look("unknown", answered=False), T0 + 30)  # past the print time
    assert isinstance(decision, Wait)


def test_another_serial_answering_replaces_never_counts_anew() -> None:
    """2026-11-24: a re-baseline on another printer was lost on the resend and printed twice."""
    decision, _ = reconcile.follow(sent(), idle(500, T0 + 5, serial="OTHER"), T0 + 5)
    assert decision == Replaced(swapped=True, serial_now="OTHER", counter_now=500)


def test_a_counter_below_the_one_before_sending_replaces_only_at_the_second_answered_look() -> None:
    """One low reading (a printer still booting) is not enough; two answered in a row are."""
    decisions, _ = run(sent(serial=None), [(T0 + 1, idle(3, T0 + 1, serial=None)),
                                           (T0 + 2, idle(50, T0 + 2, serial=None)),
                                           (T0 + 3, idle(3, T0 + 3, serial=None)),
                                           (T0 + 4, idle(3, T0 + 4, serial=None))])
    assert [type(d) for d in decisions] == [Wait, Wait, Wait, Replaced]


def test_status_going_silent_at_the_printer_stops_as_status_lost_and_resends_nothing() -> None:
    """1ed9ba8: bytes at the printer and its status silent: it may print still."""
    silent = Look("offline", ("printer-offline",), answered=False, page_count=50, serial="S1", at=T0)
    decisions, known = run(sent(), [(T0 + 1, silent), (T0 + 500, silent)])
    assert decisions == [Stopped("status-lost", was=None), Wait(until=reconcile.NEVER)]
    decision, _ = reconcile.follow(known, idle(53, T0 + 600), T0 + 600)
    assert decision == Completed(labels=3, resumed=True)


def test_a_stopped_job_follows_its_printers_fault_as_it_changes() -> None:
    """40e6821: tape out, then the cover opened to change it: the job says so, nothing is resent."""
    decisions, _ = run(sent(), [(T0 + 1, Look("stopped", ("media-empty",), page_count=50, serial="S1", at=T0 + 1)),
                                (T0 + 2, Look("stopped", ("cover-open",), page_count=50, serial="S1", at=T0 + 2))])
    assert decisions == [Stopped("media-empty", was=None), Stopped("cover-open", was="media-empty")]


def test_a_stale_unanswered_look_does_not_resume_a_stopped_job() -> None:
    """After a restart the status is 'unknown' with no reasons: no answer, so no resume."""
    known = sent(stopped_for="media-empty")
    decision, _ = reconcile.follow(known, Look("unknown", answered=False, page_count=None), T0 + 1)
    assert isinstance(decision, Wait)


def test_a_job_left_stopped_at_a_restart_never_times_out_while_stopped() -> None:
    known = sent(stopped_for="cover-open")
    decision, _ = reconcile.follow(known, Look("stopped", ("cover-open",), page_count=50, serial="S1", at=T0 + 9999),
                                   T0 + 9999)
    assert decision == Wait(until=reconcile.NEVER)


def test_a_long_job_that_keeps_printing_is_not_timed_out() -> None:
    """05b4f00: each label out gives the printer print_timeout_s more."""
    known = sent(copies=100)  # 200 s at the appliance's guess: the deadline is 200 s after sending
    looks = [(T0 + t, Look("printing", page_count=50 + t // 50, serial="S1", at=T0 + t)) for t in range(50, 400, 50)]
    decisions, known = run(known, looks)
    assert all(isinstance(d, Wait) for d in decisions)
    decision, _ = reconcile.follow(known, Look("printing", page_count=57, serial="S1", at=T0 + 461), T0 + 461)
    assert decision == TimedOut(idle_for=111.0, labels=7)


def test_a_power_cut_part_way_loses_only_the_rest() -> None:
    """Lost(out_so_far): only the labels that did not come out go again (6dfaf81 / power-cut trial)."""
    _, known = run(sent(copies=5), [(T0 + 5, Look("printing", page_count=52, serial="S1", at=T0 + 5)),
                                    (T0 + 20, idle(52, T0 + 20))])
    decision, _ = reconcile.follow(known, idle(52, T0 + 50), T0 + 50)
    assert decision == Lost(out_so_far=2)
    assert reconcile.after_lost(5, 2, attempts=1, max_attempts=8) == reconcile.Resend(3)
    assert reconcile.after_lost(5, 2, attempts=8, max_attempts=8) == reconcile.GiveUp(2)


def test_a_resend_of_the_rest_counts_from_the_first_counter() -> None:
    """After Lost(2) of 5 the rest (3) goes again; the job completes at before + 5, not before + 3."""
    known = sent(copies=5, in_flight=3)
    decision, _ = reconcile.follow(known, idle(53, T0 + 1), T0 + 1)
    assert isinstance(decision, Wait)
    decision, _ = reconcile.follow(known, idle(55, T0 + 9), T0 + 9)
    assert decision == Completed(labels=5)


def test_a_send_that_broke_off_is_resent_only_when_nothing_reached_the_printer() -> None:
    """6dfaf81: a USB write that timed out was resent whole (150 labels for 50)."""
    decide = reconcile.after_send_failure
    assert decide(retryable=True, reached=False, counted=False) == "reconnect"
    assert decide(retryable=True, reached=True, counted=True) == "follow"
    assert decide(retryable=True, reached=True, counted=False) == "send-interrupted"
    assert decide(retryable=False, reached=True, counted=True) == "abort"


def test_the_counter_before_sending_must_be_a_fresh_idle_answer() -> None:
    """3826e50 / 3c1d0a4: a label of another computer printing now would count for this job."""
    assert reconcile.may_send(idle(50, T0), None)
    assert not reconcile.may_send(Look("printing", page_count=50, at=T0), None)
    assert not reconcile.may_send(Look("idle", answered=False, page_count=50, at=T0), None)
    assert not reconcile.may_send(idle(50, T0), "cover-open")


def test_a_canceled_jobs_kept_label_is_watched_by_capture_time() -> None:
    """9e5525b: a poll from before the cover closed, seen twice, let the watch go too soon."""
    watch = CanceledWatch(job_id=7, target=53, before=50)
    old = idle(50, T0)
    decision, watch2 = reconcile.settle_canceled(watch, old, T0, settle_s=2.0)
    assert isinstance(decision, Wait) and watch2 is not None
    decision, watch3 = reconcile.settle_canceled(watch2, old, T0 + 10, settle_s=2.0)  # the same old answer
    assert isinstance(decision, Wait) and watch3 is not None
    decision, gone = reconcile.settle_canceled(watch3, idle(50, T0 + 2.5), T0 + 10, settle_s=2.0)
    assert decision == Released() and gone is None
    decision, gone = reconcile.settle_canceled(watch3, Look("printing", page_count=53, at=T0 + 3), T0 + 3, 2.0)
    assert decision == PrintedAfterCancel(3) and gone is None
    decision, watch4 = reconcile.settle_canceled(watch3, Look("stopped", ("cover-open",), page_count=50, at=T0 + 3),
                                                 T0 + 3, 2.0)
    assert isinstance(decision, Wait) and watch4 is not None and watch4.idle_since is None


def test_labels_confirmed_by_the_printer_count_like_the_counter() -> None:
    """Issue 35's shape: a USB printer's 'printing completed' blocks, counted from 0 at sending."""
    known = sent(before=None, counter=False, confirms=True, serial=None)
    decision, known = reconcile.follow(known, Look("printing", labels_confirmed=2, at=T0 + 4), T0 + 4)
    assert isinstance(decision, Wait) and known.counted == 2
    decision, _ = reconcile.follow(known, Look("idle", labels_confirmed=2, at=T0 + 20), T0 + 20)
    assert isinstance(decision, Wait)  # not 'done by time': confirmations count
    decision, _ = reconcile.follow(known, Look("idle", labels_confirmed=3, at=T0 + 21), T0 + 21)
    assert decision == Completed(labels=3)


def test_the_reconciler_is_pure_no_awaits_no_clock_no_store_no_transport() -> None:
    """What the module promises: decisions over plain data. Its imports are the language's own."""
    import ast
    from pathlib import Path

    tree = ast.parse(Path(reconcile.__file__).read_text())
    assert not [n.name for n in ast.walk(tree) if isinstance(n, ast.AsyncFunctionDef | ast.Await)]
    imported = {alias.name for n in ast.walk(tree) if isinstance(n, ast.Import) for alias in n.names}
    imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported <= {"__future__", "math", "dataclasses"}, imported
