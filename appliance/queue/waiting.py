"""What a pending job waits for, said on the job when it is read (nothing is stored).

The worker writes a reason on the job it is trying to send (`printer-offline`, `printer-busy`, …).
The jobs behind that one, and every job of a paused printer, are never tried, so they carry no
reason of their own: a script that submitted a label to a paused printer saw `pending`, no
reasons and position 1, and could not tell why nothing came out. `waiting` answers that on
job.get, job.list and print.submit, from what the queue knows now:

    {"reason": "printer-paused", "description": "…", "ahead": 0}

and, when the job waits behind another, that job's id as `behind_job_id`. It is None for a job
that is not pending, or that is the next to go out with nothing in its way.

A job at the printer (processing, stopped) waits too when its printer's worker stopped at a
damaged database (`storage-damaged`): nothing follows it until a backup is restored, and its
stored state must not be changed to say so (writing to that file is what must not happen).
"""

from __future__ import annotations

from typing import Any

from ..printer.media import MediaError
from ..reasons import describe
from ..store.jobs import Queued
from .gate import blocker
from .runtime import PrinterRuntime


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def waiting(job: dict[str, Any], runtime: PrinterRuntime | None, ahead: int,
            head: Queued | None) -> dict[str, Any] | None:
    """Why the pending `job` (as on the wire) is not printing now, or one at the printer is not followed;
    `ahead`: how many jobs go out before it, `head` the first of them (from jobs.places), None if none."""
    if job["state"] not in ("pending", "processing", "stopped"):
        return None
    if job["state"] == "processing" or head is None:  # at the printer, or first in line: nothing ahead
        ahead, head = 0, None

    def said(reason: str, description: str, behind: Queued | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"reason": reason, "description": description, "ahead": ahead}
        if behind is not None:
            out["behind_job_id"] = behind.id
        return out

    worker = runtime.worker if runtime is not None else None
    if runtime is not None and worker is not None and worker.halted is not None:
        # a damaged database: nothing goes out, and a job at the printer is not followed, until a restore
        return said(worker.halted, describe(worker.halted, runtime.family))
    if job["state"] != "pending":
        return None
    if runtime is None:
        return said("printer-removed", "its printer is no longer configured: move it to another (job.move)")
    family = runtime.family  # the words of its printer's media (tape cassettes or DK rolls)
    if worker is not None and not worker.contact:
        return said("safe-mode", "the appliance runs in safe mode and contacts no printer: "
                                 "printer.resume lets this printer print")
    if runtime.paused:
        return said("printer-paused", f"printer {runtime.name}'s queue is paused (printer.pause): printer.resume "
                                      f"sends it" + (f", after {_plural(ahead, 'job')} ahead of it" if ahead
                                                     else ""))
    if job["reasons"]:  # the worker tried it and said why it waits
        return said(job["reasons"][0], describe(job["reasons"][0], family))
    try:
        media = runtime.media_named(job["media"])
    except MediaError:  # a tape this model has no longer: the worker says so when it gets there
        reason = None
    else:
        reason = blocker(runtime.monitor.snapshot, media.width_mm, media.length_mm)
    if reason is not None:
        return said(reason, describe(reason, family))
    if head is None:
        return None
    if head.state == "stopped":
        why = describe(head.reasons[0], family) if head.reasons else "it needs a person"
        return said("queued", f"behind job {head.id}, stopped: {why}", head)
    if head.state == "pending" and head.reasons:
        return said(head.reasons[0], f"behind job {head.id}, which waits: {describe(head.reasons[0], family)}", head)
    doing = "at the printer" if head.state == "processing" else "next"
    return said("queued", f"{_plural(ahead, 'job')} ahead of it; job {head.id} is {doing}", head)
