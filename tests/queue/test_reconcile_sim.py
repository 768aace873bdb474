"""Deterministic simulation of the queue's decisions: Hypothesis interleaves faults, the passing of
(virtual) time, looks of the appliance and restarts of it, around the real reconcile functions and a
model printer (tests/queue/reconcile_model.py). After every step: no label printed more often than its
job's copies; nothing sent while a printer may still hold an earlier send; a job completed only with
all its labels out. When the faults stop (teardown), every job ends.

CI runs a fixed, derandomised number of examples (1,000, about 16 s); APPLIANCE_HYPOTHESIS_PROFILE=long
runs 20,000 randomised ones (minutes), with a seed it prints on failure (APPLIANCE_HYPOTHESIS_SEED
replays it). A failure prints the minimal sequence of steps (faults, ticks, restarts) and the
@reproduce_failure line that replays exactly that example.

The mutation checks run the same machine against reconcilers broken on purpose (the past races
undone) and must see it fail within the CI budget: the machine can find the bugs it exists for.
"""

from __future__ import annotations

import os
import random
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule, run_state_machine_as_test

from appliance.queue import reconcile
from tests.queue.reconcile_model import (
    MAX_HOLD_IDLE_S,
    POLL_S,
    ModelAppliance,
    ModelWorld,
    Violation,
)

PROFILE = os.environ.get("APPLIANCE_HYPOTHESIS_PROFILE", "ci")
_COMMON = {"deadline": None, "stateful_step_count": 40, "print_blob": True,
           "suppress_health_check": [HealthCheck.too_slow]}
PROFILES = {
    "ci": settings(max_examples=1000, derandomize=True, **_COMMON),
    "long": settings(max_examples=20_000, **_COMMON),
}
SLOW_S = [0.0, 5.0, MAX_HOLD_IDLE_S - 0.5]  # a printer's take-up times (below lost_after_idle_s)
SETTLE_S = 3000.0  # virtual seconds every job gets to end once the faults stop


class QueueMachine(RuleBasedStateMachine):
    """The appliance and its printer through faults; `follow` is the reconciler under test."""

    follow = staticmethod(reconcile.follow)

    def __init__(self) -> None:
        super().__init__()
        self.world = ModelWorld()
        self.appliance = ModelAppliance(self.world, type(self).follow)
        self.swaps = 0

    @initialize(copies=st.integers(1, 4), start=st.sampled_from(SLOW_S), resume=st.sampled_from(SLOW_S))
    def first_job(self, copies: int, start: float, resume: float) -> None:
        self.slow_printer(start, resume)
        self.appliance.submit(copies)

    def _tick(self, seconds: float) -> None:
        """Time passes at the worker's poll pace, one look per poll."""
        for _ in range(max(1, round(seconds / POLL_S))):
            self.world.advance(POLL_S)
            self.appliance.turn()
            self.appliance.check()

    @precondition(lambda self: len(self.appliance.jobs) < 4)
    @rule(copies=st.integers(1, 4))
    def submit(self, copies: int) -> None:
        self.appliance.submit(copies)

    @rule(seconds=st.sampled_from([1.0, 2.0, 5.0, 10.0, 20.0, 45.0]))
    def tick(self, seconds: float) -> None:
        self._tick(seconds)

    # Faults last at least one look: a person opens a cover for longer than the worker's busy poll.
    @rule(fault=st.sampled_from(["cover-open", "media-empty", None]))
    def printer_fault(self, fault: str | None) -> None:
        self.world.printer.set_fault(fault)
        self._tick(POLL_S)

    @rule(seconds=st.sampled_from([5.0, 30.0, 90.0]))
    def cooling(self, seconds: float) -> None:
        self.world.printer.cool(seconds)
        self._tick(POLL_S)

    @rule()
    def power_cut(self) -> None:
        self.world.printer.power_cut()
        self._tick(POLL_S)

    @rule()
    def power_on(self) -> None:
        self.world.printer.off = False
        self._tick(POLL_S)

    @rule(silent=st.booleans())
    def snmp(self, silent: bool) -> None:
        self.world.printer.silent = silent
        self._tick(POLL_S)

    @rule(counter=st.integers(0, 300))
    def swap_printer(self, counter: int) -> None:
        self.swaps += 1
        self.world.swap(f"B{self.swaps}", counter)
        self._tick(POLL_S)

    @rule(start=st.sampled_from(SLOW_S), resume=st.sampled_from(SLOW_S))
    def slow_printer(self, start: float, resume: float) -> None:
        """How long the printer stands idle before starting a job, and before going on after a fault."""
        self.world.printer.start_after_s, self.world.printer.resume_after_s = start, resume

    @rule()
    def cancel_stopped_job(self) -> None:
        if self.appliance.cancel_stopped():
            self._tick(POLL_S)

    @rule()
    def restart_appliance(self) -> None:
        self.appliance.restart()

    @rule(labels=st.integers(0, 3))
    def cut_next_send(self, labels: int) -> None:
        """The next send breaks off once `labels` labels' bytes are at the printer."""
        self.appliance.cut_next_send = labels

    def teardown(self) -> None:
        """Once the faults stop, every job ends."""
        printer = self.world.printer
        printer.set_fault(None)
        printer.off = printer.silent = False
        waited = 0.0
        while waited < SETTLE_S and any(j.state in ("pending", "processing") for j in self.appliance.jobs.values()):
            self._tick(POLL_S)
            waited += POLL_S
        open_jobs = [j for j in self.appliance.jobs.values() if j.state in ("pending", "processing")]
        if open_jobs:
            raise Violation(f"jobs never ended once the faults stopped: {open_jobs}")


# the long profile's seed: random, or APPLIANCE_HYPOTHESIS_SEED to replay a run (CI's is derandomised)
SEED = None if PROFILE == "ci" else int(os.environ.get("APPLIANCE_HYPOTHESIS_SEED") or random.randrange(2**32))


@pytest.mark.timeout(120 if PROFILE == "ci" else 0)  # the long profile takes minutes
def test_the_queue_keeps_its_promises_through_random_faults_and_restarts() -> None:
    machine: type[QueueMachine] = type("SeededQueueMachine", (QueueMachine,), {})
    if SEED is not None:
        machine = seed(SEED)(machine)
    try:
        run_state_machine_as_test(machine, settings=PROFILES[PROFILE])
    except BaseException as exc:
        exc.add_note(f"profile {PROFILE}: " + (f"seed {SEED} (APPLIANCE_HYPOTHESIS_SEED={SEED} replays this run)"
                                               if SEED is not None else "derandomised, every run replays it"))
        raise


# --- mutation checks: the machine must catch reconcilers broken on purpose -----------------------

def resend_at_first_idle_look(known: reconcile.Following, look: reconcile.Look,
                              now: float) -> tuple[reconcile.Decision, reconcile.Following]:
    """Broken: labels not out count as lost at the first idle look (no print time, no idle spell)."""
    decision, after = reconcile.follow(known, look, now)
    before = known.pages_before
    if (isinstance(decision, reconcile.Wait) and known.stopped_for is None and look.answered
            and look.state == "idle" and before is not None and look.page_count is not None
            and look.page_count < before + known.copies):
        return reconcile.Lost(look.page_count - before), after
    return decision, after


def lost_without_idle_spell(known: reconcile.Following, look: reconcile.Look,
                            now: float) -> tuple[reconcile.Decision, reconcile.Following]:
    """Broken as before 9583d44: lost at the first idle look after the print time (no lost_after_idle_s)."""
    return reconcile.follow(replace(known, lost_after_idle_s=0.0), look, now)


def resume_counts_from_sending(known: reconcile.Following, look: reconcile.Look,
                               now: float) -> tuple[reconcile.Decision, reconcile.Following]:
    """Broken as before e2c69a3: after a resume, the idle time is counted from sending, not the resume."""
    decision, after = reconcile.follow(known, look, now)
    if isinstance(decision, reconcile.Resumed):
        after = replace(after, sent_at=known.sent_at, lost_after_idle_s=0.0)
    return decision, after


@pytest.mark.parametrize("mutant", [resend_at_first_idle_look, lost_without_idle_spell,
                                    resume_counts_from_sending])
def test_the_machine_catches_a_broken_reconciler(mutant) -> None:
    class Mutant(QueueMachine):
        follow = staticmethod(mutant)

    budget = settings(PROFILES["ci"], phases=[Phase.explicit, Phase.reuse, Phase.generate], print_blob=False,
                      report_multiple_bugs=False)
    with pytest.raises(Violation, match=r"labels printed for|sent while the printer still holds"):
        run_state_machine_as_test(Mutant, settings=budget)


# --- the past races as scenarios of the model world: the real reconciler prints once, the old one twice ---

def _world(follow: object, copies: int, *, start: float = 0.0, resume: float = 0.0) -> QueueMachine:
    machine_class = type("Scenario", (QueueMachine,), {"follow": staticmethod(follow)})
    machine = machine_class()
    machine.first_job(copies, start, resume)
    return machine


def _printed_once(machine: QueueMachine) -> None:
    machine.teardown()  # the faults stop: every job ends
    for job in machine.appliance.jobs.values():
        assert (job.state, machine.world.printed(job.id)) == ("completed", job.copies), job


def _stop_longer_than_the_print_time_then_a_slow_take_up(follow: object) -> None:
    """e2c69a3: the cover open for 60 s mid-job, then the printer takes 15 s to go on with its kept label."""
    machine = _world(follow, 1, resume=15.0)
    machine.tick(1.0)  # sent
    machine.printer_fault("cover-open")
    machine.tick(60.0)
    machine.printer_fault(None)
    machine.tick(45.0)
    _printed_once(machine)


def _a_slow_start_past_the_print_time(follow: object) -> None:
    """9583d44: a printer that starts a job 19.5 s after receiving it, longer than the job's print time."""
    machine = _world(follow, 1, start=19.5)
    machine.tick(45.0)
    _printed_once(machine)


def test_a_long_stop_then_a_slow_take_up_prints_once() -> None:
    _stop_longer_than_the_print_time_then_a_slow_take_up(reconcile.follow)
    with pytest.raises(Violation):
        _stop_longer_than_the_print_time_then_a_slow_take_up(resume_counts_from_sending)


def test_a_slow_start_longer_than_the_print_time_prints_once() -> None:
    _a_slow_start_past_the_print_time(reconcile.follow)
    with pytest.raises(Violation):
        _a_slow_start_past_the_print_time(lost_without_idle_spell)


def test_a_power_cut_part_way_prints_only_the_rest() -> None:
    machine = _world(reconcile.follow, 3)
    machine.tick(1.0)
    while machine.world.printed(1) < 1:
        machine.tick(1.0)
    machine.power_cut()  # the two labels still to come are lost with the power
    machine.power_on()
    _printed_once(machine)
    assert machine.appliance.jobs[1].attempts == 2 and machine.appliance.sends == 2


def test_status_silent_while_printing_then_back_completes_without_a_resend() -> None:
    machine = _world(reconcile.follow, 3, start=2.0)
    machine.tick(1.0)  # sent
    machine.snmp(True)
    machine.tick(20.0)  # it printed all three meanwhile, saying nothing
    assert machine.appliance.jobs[1].stopped_for == "status-lost"
    machine.snmp(False)
    _printed_once(machine)
    assert machine.appliance.sends == 1


def test_a_restart_while_stopped_completes_from_the_kept_job() -> None:
    machine = _world(reconcile.follow, 2)
    machine.tick(1.0)
    machine.printer_fault("media-empty")
    machine.restart_appliance()
    machine.tick(20.0)
    machine.printer_fault(None)
    _printed_once(machine)
    assert machine.appliance.sends == 1


def test_a_printer_swapped_mid_job_ends_the_job_and_prints_nothing_more() -> None:
    machine = _world(reconcile.follow, 3, start=5.0)
    machine.tick(1.0)
    machine.swap_printer(counter=0)
    machine.teardown()
    job = machine.appliance.jobs[1]
    assert (job.state, job.why, machine.world.printed(1)) == ("aborted", "Replaced", 0)


def test_a_canceled_jobs_kept_label_is_watched_for_through_a_slow_take_up_and_a_restart() -> None:
    """Found by this machine: the next job was sent 2 busy polls after the cover closed, or at once
    after a restart, while the printer still kept a canceled job's label, and counted done with it."""
    for restart in (False, True):
        machine = _world(reconcile.follow, 1, resume=5.0)
        machine.submit(1)
        machine.tick(1.0)  # the first job is at the printer
        machine.printer_fault("cover-open")
        assert machine.appliance.cancel_stopped()
        if restart:
            machine.restart_appliance()
        machine.printer_fault(None)  # it goes on with the kept label 5 s later
        machine.teardown()
        assert machine.appliance.jobs[1].why == "printed-after-cancel"
        assert (machine.appliance.jobs[2].state, machine.world.printed(2)) == ("completed", 1)
