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


def media_noun(family: str | None) -> str:
    """What a printer's media is called (its `capabilities.family` from printer.list): a PT's tape, a
    QL's roll (DK rolls: continuous tape or die-cut labels); "media" when the family is not known."""
    series = (family or "")[:2]
    return {"pt": "tape", "ql": "roll"}.get(series, "media")


def media_words(media_id: str | None, family: str | None) -> str:
    """A stock by its id, as the server names it: "12mm tape", "62mm roll"; die-cut labels are labels of
    a size ("29×90 mm labels"), not a roll; "-" when there is none."""
    if not media_id:
        return "-"
    width, x, length = media_id.partition("x")
    if x and width.replace(".", "", 1).isdigit() and length.isdigit():
        return f"{width}×{length} mm labels"
    return f"{media_id} {media_noun(family)}"


def tape(media: dict[str, Any] | None, family: str | None = None) -> str:
    """The loaded media in words; `family` names it (see media_noun). Die-cut labels read as labels
    ("29 × 90 mm die-cut labels"), not as a roll's kind."""
    noun = media_noun(family)
    if not media or not media.get("id"):
        return f"no {noun}"
    width, length = media.get("width_mm"), media.get("length_mm")
    if isinstance(width, int | float) and isinstance(length, int | float) and length:  # die-cut labels
        parts, noun = [f"{width:g} × {length:g} mm die-cut labels"], "labels"
    else:
        parts = [f"{width:g} mm" if isinstance(width, int | float) else str(media.get("id"))]
        if media.get("kind"):
            parts.append(str(media["kind"]))
    text, back = media.get("text_color"), media.get("tape_color")
    if text and back:
        parts.append(f"{text} on {back}")
    elif back:
        parts.append(f"{back} {noun}")
    return ", ".join(parts)


def mm(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value / 1000:.2f} m" if value >= 1000 else f"{value:.0f} mm"
