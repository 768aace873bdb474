"""A job's reasons in plain sentences: the one source of that wording for job.get, job.list, the
job notifications and the TUI (which shows what the server says; it has no table of its own).

A reason the printer reports (cover-open, media-empty, printer-offline, jobs-refused, status-lost, …) reads as
printer.status says it (`appliance.printer.status.describe`), so a job and its printer never
disagree; the reasons only a job has are worded here. Both speak of the media the job's printer
takes (a PT's tape cassettes, a QL's DK rolls), given its family; neutrally when it is unknown (a
job whose printer is no longer configured).
"""

from __future__ import annotations

from collections.abc import Iterable

from .printer.status import Wording, worded
from .printer.status import describe as describe_printer_reason

_JOB_REASONS: dict[str, Wording] = {
    "safe-mode": "The appliance restarted in safe mode while this label was at the printer: resume the printer "
                 "(printer.resume) and its page counter tells whether the label came out; cancel the job if you "
                 "checked by hand",
    "printer-replaced": "Another printer answers at this address than the one this label was sent to: check that "
                        "one, and reprint the job if the label did not come out",
    "printer-removed": "Its printer is no longer configured (or was replaced by another model under its name): "
                       "reprint the job, with rerender if the model changed",
    "interrupted": "The appliance restarted mid-job and the printer has no page counter to tell whether the label "
                   "came out: check, and reprint it if not",
    "canceled-by-user": "Canceled on request (job.cancel)",
    "printer-may-still-print": "It was canceled while stopped at the printer, which keeps the job: the label may "
                               "still come out once the printer can print again",
    "printed-after-cancel": "The printer kept this job when it stopped and printed it once it could: the label "
                            "came out although the job was canceled",
    "internal-error": "An internal error ended this job (the server's log says which): reprint it",
    "timed-out": "The printer had the job, but no label came out for too long (print_timeout_s): check the "
                 "printer. The job's timeline says how many of its labels came out; reprint the ones that did not",
    "job-incomplete": {
        "pt": "The printer never printed all of it, though it was sent again: check the printer and its tape "
              "cassette, then reprint the job",
        "ql": "The printer never printed all of it, though it was sent again: check the printer and its DK roll, "
              "then reprint the job",
        None: "The printer never printed all of it, though it was sent again: check the printer and its tape or "
              "labels, then reprint the job",
    },
    "document-unprintable": "The job's stored raster is gone (pruned from the history): reprint it with rerender",
    "send-interrupted": "Sending it to the printer did not finish (the connection broke, or the printer stopped "
                        "taking it), and the printer has no page counter to tell whether its labels came out: check "
                        "the printer, and reprint the job if they did not (it is not sent again by itself: that "
                        "could print them twice)",
    "connection-reset": "The connection to the printer broke while the job was sent: check the printer and the "
                        "network, and reprint the job if no label came out",
    "host-not-found": "The printer's host name cannot be resolved: fix uri in [[printers]]",
    "permission-denied": "The appliance may not open the printer's device: give its user access to it "
                         "(the lp group?)",
    "io-error": "Talking to the printer failed (the server's log says how): check the printer and its uri",
    "storage-damaged": "The appliance's database is damaged (a page SQLite cannot read): nothing more is sent to "
                       "this printer, and every job keeps its state, until an administrator restores a backup made "
                       "with `appliance backup` (the steps are under Restore in docs/install-pi.md §7)",
}


def describe(reason: str, family: str | None) -> str:
    """One sentence for a person about a job's reason, for a printer of `family` (None: unknown)."""
    wording = _JOB_REASONS.get(reason)
    return worded(wording, family) if wording is not None else describe_printer_reason(reason, family)


def describe_all(reasons: Iterable[str], family: str | None) -> list[str]:
    """The sentences for a job's `reasons`, in their order (the job's `descriptions`)."""
    return [describe(reason, family) for reason in reasons]
