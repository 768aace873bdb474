"""The counters behind GET /metrics, kept in memory as things happen.

Plain dicts and lists, no prometheus_client here: the server pays for that library only when
someone scrapes (appliance/web/metrics.py turns these into metric families). Scraping reads
what is counted here and what the appliance already caches (printer snapshots, the last queue
summary it published), so it never touches a printer or runs a heavy query.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from rpc.contract import CATALOGUE
from rpc.errors import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    NOT_ALLOWED,
    NOT_FOUND,
    PARSE_ERROR,
    PRINTER_UNAVAILABLE,
    RATE_LIMITED,
    UNAUTHORIZED,
)

from .events import Event

RPC_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
PROBE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0)
FINAL_STATES = ("completed", "canceled", "aborted")
OUTCOMES = {PARSE_ERROR: "parse_error", INVALID_REQUEST: "invalid_request", METHOD_NOT_FOUND: "method_not_found",
            INVALID_PARAMS: "invalid_params", INTERNAL_ERROR: "internal_error", UNAUTHORIZED: "unauthorized",
            NOT_FOUND: "not_found", NOT_ALLOWED: "not_allowed", PRINTER_UNAVAILABLE: "printer_unavailable",
            RATE_LIMITED: "rate_limited"}
REMEMBERED_JOBS = 4096  # finished jobs remembered, so a job announced twice is counted once


@dataclass
class Histogram:
    """Cumulative-ready bucket counts: counts[i] is observations <= buckets[i] (not cumulated yet)."""

    buckets: tuple[float, ...]
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    n: int = 0

    def observe(self, seconds: float) -> None:
        if not self.counts:
            self.counts = [0] * len(self.buckets)
        self.n += 1
        self.total += seconds
        for i, bound in enumerate(self.buckets):
            if seconds <= bound:
                self.counts[i] += 1
                break

    def cumulative(self) -> list[tuple[str, int]]:
        """[(le, count)] as Prometheus has them, +Inf last."""
        out, running = [], 0
        for bound, count in zip(self.buckets, self.counts or [0] * len(self.buckets), strict=True):
            running += count
            out.append((repr(float(bound)), running))
        out.append(("+Inf", self.n))
        return out


class Tally:
    """What happened since the start: RPC calls, status probes, finished jobs, labels and media."""

    def __init__(self) -> None:
        self.rpc: dict[tuple[str, str], Histogram] = {}
        self.probes: dict[tuple[str, str], Histogram] = {}
        self.jobs_finished: dict[tuple[str, str], int] = {}
        self.labels: dict[tuple[str, str], int] = {}  # (printer_id, media) → labels printed
        self.media_mm: dict[tuple[str, str], float] = {}  # (printer_id, media) → mm of tape or roll
        self.queue: dict[str, Any] | None = None  # the last queue summary published (notify_queue_changed)
        self._finished: OrderedDict[int, None] = OrderedDict()

    def rpc_call(self, method: str | None, code: int | None, duration_ms: float) -> None:
        """One call: its method (one the contract knows, else "other": a caller cannot make up label
        values without end) and its outcome ("ok" or the error's name)."""
        name = method if method in CATALOGUE else "other"
        outcome = "ok" if code is None else OUTCOMES.get(code, "error")
        histogram = self.rpc.get((name, outcome))
        if histogram is None:
            histogram = self.rpc[(name, outcome)] = Histogram(RPC_BUCKETS)
        histogram.observe(duration_ms / 1000.0)

    def time_probes(self, printer: str, monitor: Any) -> None:
        """Time each status probe of `monitor` (SNMP, or the USB status request) by its outcome."""
        prober: Callable[[], Awaitable[Any]] | None = monitor.prober
        if prober is None:
            return

        async def timed() -> Any:
            started = time.perf_counter()
            outcome = "error"
            try:
                result = await prober()
                outcome = "ok" if result is not None else "no_answer"
                return result
            finally:
                self.probe(printer, outcome, time.perf_counter() - started)

        monitor.prober = timed

    def probe(self, printer: str, outcome: str, seconds: float) -> None:
        histogram = self.probes.get((printer, outcome))
        if histogram is None:
            histogram = self.probes[(printer, outcome)] = Histogram(PROBE_BUCKETS)
        histogram.observe(seconds)

    def event(self, event: Event) -> None:
        """An EventBus tap: count jobs as they finish, keep the queue summary as it is published.
        Never raises: a count gone wrong must not stop the event reaching its subscribers."""
        try:
            if event.name == "notify_job_updated":
                self.job_updated(event.payload)
            elif event.name == "notify_queue_changed":
                self.queue = event.payload
        except Exception:  # a payload of an unexpected shape: that job goes uncounted
            pass

    def job_updated(self, job: dict[str, Any]) -> None:
        state, job_id = job.get("state"), job.get("id")
        if state not in FINAL_STATES or not isinstance(job_id, int) or job_id in self._finished:
            return
        self._finished[job_id] = None
        if len(self._finished) > REMEMBERED_JOBS:
            self._finished.popitem(last=False)
        printer = str(job.get("printer_id") or "")
        key = (printer, state)
        self.jobs_finished[key] = self.jobs_finished.get(key, 0) + 1
        if state != "completed":
            return
        copies = int(job.get("copies") or 1)
        where = (printer, str(job.get("media") or ""))
        self.labels[where] = self.labels.get(where, 0) + copies
        self.media_mm[where] = self.media_mm.get(where, 0.0) + float(job.get("length_mm") or 0.0) * copies
