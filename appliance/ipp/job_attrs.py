"""An appliance job (or the pages of an IPP document) as IPP job attributes.

The appliance's job states already follow IPP; a document of several pages is as far as its
least finished page: processing while any page is still to print, stopped when one is.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from . import codec, codes
from .codec import Attribute
from .printer_attrs import REASONS

STATES = {"pending": codes.JOB_PENDING, "held": codes.JOB_HELD, "processing": codes.JOB_PROCESSING,
          "stopped": codes.JOB_STOPPED, "canceled": codes.JOB_CANCELED, "aborted": codes.JOB_ABORTED,
          "completed": codes.JOB_COMPLETED}
ACTIVE = ("pending", "held", "processing", "stopped")
DEFAULT_REASONS = {"pending": "none", "held": "job-hold-until-specified", "processing": "job-printing",
                   "stopped": "printer-stopped", "canceled": "job-canceled-by-user", "aborted": "aborted-by-system",
                   "completed": "job-completed-successfully"}
MESSAGES = {"pending": "Waiting to print", "held": "Held", "processing": "Printing",
            "stopped": "Stopped at the printer", "canceled": "Canceled", "aborted": "Aborted", "completed": "Printed"}
JOB_DESCRIPTION = ("job-id", "job-uri", "job-printer-uri", "job-name", "job-originating-user-name", "job-state",
                   "job-state-reasons", "job-state-message", "number-of-documents", "job-printer-up-time",
                   "time-at-creation", "time-at-processing", "time-at-completed", "date-time-at-creation",
                   "date-time-at-processing", "date-time-at-completed", "job-impressions",
                   "job-impressions-completed", "copies", "document-format", "document-name")


def summary_state(pages: Sequence[sqlite3.Row]) -> tuple[str, list[str]]:
    """The job's state in appliance words, and its reasons, across its pages."""
    states = [p["state"] for p in pages]
    reasons: list[str] = []
    for page in pages:
        reasons += json.loads(page["reasons"])
    if all(s == states[0] for s in states):
        state = states[0]
    elif "stopped" in states:
        state = "stopped"
    elif any(s in ACTIVE for s in states):
        state = "processing" if any(s in ("processing", "completed") for s in states) else "pending"
    elif "aborted" in states:
        state = "aborted"
    elif "canceled" in states:
        state = "canceled"
    else:
        state = "completed"
    return state, list(dict.fromkeys(reasons))


def ipp_reasons(state: str, reasons: list[str]) -> list[str]:
    out = []
    for reason in reasons:
        if reason == "job-incoming":
            out.append("job-incoming")
        elif reason in REASONS:
            out.append(REASONS[reason])
        elif reason == "canceled-by-user":
            out.append("job-canceled-by-user")
    if state == "stopped":
        out.insert(0, "printer-stopped")
    if not out:
        out.append(DEFAULT_REASONS[state])
    return list(dict.fromkeys(out))


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def build(pages: Sequence[sqlite3.Row], printer_uri: str, *, up_time: int, started_wall: float) -> list[Attribute]:
    head = pages[0]
    state, reasons = summary_state(pages)
    done = sum(p["copies"] for p in pages if p["state"] == "completed")
    total = sum(p["copies"] for p in pages) if head["length_mm"] or len(pages) > 1 else 0
    I, K, T, N, U = codec.INTEGER, codec.KEYWORD, codec.TEXT, codec.NAME, codec.URI  # noqa: E741
    a: list[Attribute] = []

    def add(name: str, tag: int, *values: Any) -> None:
        a.append(Attribute(name, tag, list(values)))

    def since_up(text: str | None) -> Any:
        when = _time(text)
        return max(1, int(when.timestamp() - started_wall) + 1) if when else None

    name = head["document_name"] or head["template"]
    add("job-id", I, head["id"])
    add("job-uri", U, f"{printer_uri}/{head['id']}")
    add("job-printer-uri", U, printer_uri)
    add("job-name", N, name)
    add("job-originating-user-name", N, head["user_name"] or "anonymous")
    add("job-state", codec.ENUM, STATES[state])
    add("job-state-reasons", K, *ipp_reasons(state, reasons))
    add("job-state-message", T, MESSAGES[state])
    add("number-of-documents", I, 1 if total else 0)
    add("job-printer-up-time", I, up_time)
    add("time-at-creation", I, since_up(head["created_at"]))
    started = next((p["started_at"] for p in pages if p["started_at"]), None)
    finished = pages[-1]["completed_at"] if state in ("canceled", "aborted", "completed") else None
    add("time-at-processing", I if started else codec.NO_VALUE, since_up(started))
    add("time-at-completed", I if finished else codec.NO_VALUE, since_up(finished))
    add("date-time-at-creation", codec.DATE_TIME, _time(head["created_at"]))
    add("date-time-at-processing", codec.DATE_TIME if started else codec.NO_VALUE, _time(started))
    add("date-time-at-completed", codec.DATE_TIME if finished else codec.NO_VALUE, _time(finished))
    add("job-impressions", I, total)
    add("job-impressions-completed", I, done)
    add("copies", I, head["copies"])
    return a


def select(attributes: list[Attribute], requested: list[str] | None, *, default: tuple[str, ...] | None = None) \
        -> list[Attribute]:
    wanted = requested or (list(default) if default else None)
    if not wanted or "all" in wanted or "job-description" in wanted:
        return attributes
    names = set(wanted)
    return [attr for attr in attributes if attr.name in names]
