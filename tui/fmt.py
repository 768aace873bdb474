"""Words and symbols for states (never colour alone), times and sizes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

JOB_STATES = ("pending", "held", "processing", "stopped", "canceled", "aborted", "completed")

JOB_SYMBOLS = {"pending": "…", "held": "‖", "processing": "▶", "stopped": "■", "canceled": "⊘",
               "aborted": "✗", "completed": "✓"}
PRINTER_SYMBOLS = {"idle": "✓", "printing": "▶", "processing": "▶", "stopped": "■", "offline": "✗",
                   "unknown": "?"}
PRINTER_WORDS = {"idle": "ready", "printing": "printing", "processing": "printing", "stopped": "needs attention",
                 "offline": "offline", "unknown": "unknown (not probed yet)"}
NO_STATUS = "? no status (cannot be asked)"  # a printer with no status channel: file://, or TCP with SNMP off
CHECK_SYMBOLS = {"pass": "✓ pass", "warn": "! warn", "fail": "✗ fail"}


def job_state(state: str | None) -> str:
    state = state or "?"
    return f"{JOB_SYMBOLS.get(state, '·')} {state}"


def printer_state(state: str | None) -> str:
    state = state or "unknown"
    return f"{PRINTER_SYMBOLS.get(state, '·')} {PRINTER_WORDS.get(state, state)}"


def advice(job: dict[str, Any]) -> str:
    """What the job's reasons mean, as the server words them (its `descriptions`: one source for the
    TUI, scripts and printer.status); a server from before descriptions: the reasons' names."""
    said = [str(d).rstrip(".") + "." for d in job.get("descriptions") or () if d]
    if said:
        return " ".join(said)
    reasons = job.get("reasons") or []
    if reasons:
        return "Reason: " + ", ".join(r.replace("-", " ") for r in reasons) + "."
    return ""


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def short_time(text: str | None) -> str:
    """Local wall time, HH:MM:SS today, else MM-DD HH:MM."""
    moment = parse_time(text)
    if moment is None:
        return "-"
    local = moment.astimezone()
    if local.date() == datetime.now(UTC).astimezone().date():
        return local.strftime("%H:%M:%S")
    return local.strftime("%m-%d %H:%M")


def age(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    if seconds < 1.5:
        return "just now"
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def loaded_media(status: dict[str, Any]) -> tuple[str, str]:
    """A printer's media noun ("tape", "roll") and its loaded media in one line, as the server words them
    (printer.status's `media_noun`, `media_description`); a server from before them: "media", and the
    media's id or "-" (no words of our own: they would drift from the server's)."""
    media = status.get("media")
    bare = str(media.get("id") or "-") if isinstance(media, dict) else str(media or "-")
    return str(status.get("media_noun") or "media"), str(status.get("media_description") or bare)


def job_media(job: dict[str, Any]) -> str:
    """A job's media as the server words it (`media_description`: "12mm tape", "29×90 mm labels"); a server
    from before it: the media id, or "-"."""
    return str(job.get("media_description") or job.get("media") or "-")


def mm(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value / 1000:.2f} m" if value >= 1000 else f"{value:.0f} mm"
