"""What the TUI knows of the server: the last snapshot with every notification applied on top."""

from __future__ import annotations

import time
from typing import Any

from .fmt import advice

RECENT = 20
DEFAULT_PROBE_INTERVAL_S = 10.0
STATUS_SLACK_S = 2.0  # a probe takes a moment; how late a status may be before it is asked for again
# worked out by the server when a job is read (not in notifications): stale once the job changes
DERIVED = ("waiting", "position", "printer_name")
_STAGE = {"pending": 0, "held": 0, "processing": 1, "stopped": 1, "canceled": 2, "aborted": 2, "completed": 2}


def _rank(job: dict[str, Any]) -> int:
    return _STAGE.get(str(job.get("state")), 0)


def merged(known: dict[str, Any], newer: dict[str, Any]) -> dict[str, Any]:
    """A job as known, updated by a newer report of it; what the server worked out from the older
    job (DERIVED) goes unless the newer report says it again or is of the same moment."""
    same_moment = str(newer.get("updated_at") or "") == str(known.get("updated_at") or "")
    return {**{k: v for k, v in known.items() if same_moment or k not in DERIVED}, **newer}


class Store:
    def __init__(self) -> None:
        self.printers: dict[str, dict[str, Any]] = {}
        self.printer_info: dict[str, dict[str, Any]] = {}  # printer.list rows: model, capabilities
        self.received: dict[str, float] = {}  # printer id -> monotonic time its status arrived
        self.jobs: dict[int, dict[str, Any]] = {}
        self.queue: dict[str, Any] = {}
        self.discovered: dict[str, dict[str, Any]] = {}  # printer.discover's finds, by serial (or uri)
        self.generation = 0
        self.loaded = False

    def apply_snapshot(self, data: dict[str, Any], generation: int = 0) -> None:
        now = time.monotonic()
        if "printers" in data:
            self.printers = {p["printer_id"]: p for p in data["printers"]}
            self.received = dict.fromkeys(self.printers, now)
        if "jobs" in data:
            self.jobs = {int(j["id"]): j for j in data["jobs"]}
        if "queue" in data:
            self.queue = data["queue"]
        self.generation = generation
        self.loaded = True

    def apply(self, method: str, params: dict[str, Any]) -> str | None:
        """Apply one notification; returns the topic it changed (or None)."""
        if method == "notify_printer_status" and params.get("removed"):  # printer.remove, or one stepped aside
            self.printers.pop(params.get("printer_id"), None)
            self.printer_info.pop(params.get("printer_id"), None)
            return "printers"
        if method == "notify_discovery":  # printer.discover, called by this client: a printer found
            self.discovered[str(params.get("serial") or params.get("uri"))] = params
            return "discovery"
        if method == "notify_printer_status" and "printer_id" in params:
            self.printers[params["printer_id"]] = params
            self.received[params["printer_id"]] = time.monotonic()
            return "printers"
        if method == "notify_job_updated" and "id" in params:
            job_id = int(params["id"])
            known = self.jobs.get(job_id, {})
            new_at, old_at = str(params.get("updated_at") or ""), str(known.get("updated_at") or "")
            if new_at < old_at or (new_at == old_at and _rank(params) < _rank(known)):
                # older than what we have: an action's answer that arrived after the worker's next
                # notification (RFC 3339 UTC stamps of one format compare as text; within one
                # millisecond, a job only moves forward: pending, then at the printer, then done)
                return None
            self.jobs[job_id] = merged(known, params)
            if len(self.jobs) > RECENT * 3:
                for old in sorted(self.jobs)[: len(self.jobs) - RECENT * 2]:
                    del self.jobs[old]
            return "jobs"
        if method == "notify_queue_changed":
            self.queue = params
            for entry in params.get("printers") or []:  # printer.pause/resume say so here, not in a status
                status = self.printers.get(entry.get("printer_id"))
                said = {key: entry[key] for key in ("paused", "queue_stopped") if key in entry}
                if status is not None and said:
                    self.printers[entry["printer_id"]] = {**status, **said}
            return "queue"
        return None

    def recent_jobs(self, limit: int = RECENT) -> list[dict[str, Any]]:
        return [self.jobs[k] for k in sorted(self.jobs, reverse=True)[:limit]]

    def age_of(self, printer_id: str) -> float | None:
        status = self.printers.get(printer_id)
        if status is None or status.get("age_s") is None:
            return None
        return float(status["age_s"]) + (time.monotonic() - self.received.get(printer_id, time.monotonic()))

    def status_due(self, printer_id: str) -> bool:
        """The server has probed this printer since the status kept here, without announcing it (it
        announces changes, not probes): ask again, so "probed … ago" stays near the probe interval.
        A printer that stopped answering keeps its old status there too: its age grows either way."""
        # a server from before probe_interval_s: its default interval
        interval = (self.printers.get(printer_id) or {}).get("probe_interval_s", DEFAULT_PROBE_INTERVAL_S)
        age = self.age_of(printer_id)
        if not interval or age is None:
            return False
        since = time.monotonic() - self.received.get(printer_id, 0.0)
        return age > interval + min(interval / 2, STATUS_SLACK_S) and since >= interval

    def waiting(self, job: dict[str, Any]) -> str | None:
        """Why a pending job does not print yet, in words; None when nothing holds it back.

        The printer's pause comes from the store (it follows printer.pause/resume at once); the rest
        from the job's `waiting` as job.get said it, or from its reasons and its printer's status.
        A job at the printer (processing, stopped) is said to wait only while its printer's queue is
        stopped (`queue_stopped`): nothing follows it until then.
        """
        printer = self.printers.get(job.get("printer_id") or "") or {}
        stopped = printer.get("queue_stopped") or {}
        if job.get("state") in ("pending", "processing", "stopped") and stopped:
            return str(stopped.get("description") or stopped.get("reason"))
        if job.get("state") != "pending":
            return None
        if printer.get("paused"):
            return "its printer's queue is paused: P on the Dashboard resumes it"
        descriptions = printer.get("descriptions") or []
        holding = printer.get("state") in ("offline", "stopped") or "jobs-refused" in (printer.get("reasons") or ())
        if holding and descriptions:  # the printer as it is now, before what was said when the job was read
            return str(descriptions[0])
        said = job.get("waiting") or {}
        if said.get("description") and said.get("reason") != "printer-paused":
            return str(said["description"])
        return advice(job) if job.get("reasons") else None

    def printer_name(self, printer_id: str | None) -> str:
        if printer_id is None:
            return "-"
        status = self.printers.get(printer_id) or self.printer_info.get(printer_id) or {}
        return str(status.get("name") or printer_id[:8])
