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

# what a person does about a job stopped for this reason (the server's printer descriptions say more)
REASON_ADVICE = {
    "cover-open": "Close the printer cover; the job then continues by itself.",
    "media-empty": "Load a new tape cassette; the printer then finishes the job.",
    "media-needed": "Insert a tape cassette; the job then continues.",
    "media-mismatch": "Load the tape this label was made for, or cancel and print again for the loaded tape.",
    "media-jam": "Open the cover and clear the jammed tape.",
    "printer-offline": "Check the printer's power and connection; the job waits for it.",
    "overheating": "Wait: printing resumes when the head has cooled down.",
    "printer-busy": "The printer is printing a label from elsewhere (another computer, or the rest of a canceled "
                    "job), or another program holds its USB device (a CUPS queue?); the job waits until it is free.",
    "safe-mode": "The appliance restarted in safe mode while this label was at the printer: resume the printer and "
                 "its page counter tells whether the label came out; cancel the job if you checked by hand.",
    "printer-replaced": "Another printer answers at this address than the one this label was sent to: check that "
                        "one, and reprint the job if the label did not come out.",
    "status-unavailable": "The printer takes jobs but its status cannot be read: check the SNMP community and port "
                          "in [printers.snmp], or set enabled = false there to print without status.",
    "model-mismatch": "Another model answers at the printer's address than the configuration names: set its model "
                      "in [[printers]], restart, and reprint the job (with rerender).",
    "printer-removed": "Its printer is no longer configured (or was replaced by another model under its name): "
                       "reprint the job, with rerender if the model changed.",
    "printed-after-cancel": "The printer kept this job when it stopped and printed it once it could: the "
                            "label came out although the job was canceled.",
    "interrupted": "The appliance restarted mid-job and the printer has no page counter to tell whether "
                   "the label came out: check, and reprint it if not.",
}


def job_state(state: str | None) -> str:
    state = state or "?"
    return f"{JOB_SYMBOLS.get(state, '·')} {state}"


def printer_state(state: str | None) -> str:
    state = state or "unknown"
    return f"{PRINTER_SYMBOLS.get(state, '·')} {PRINTER_WORDS.get(state, state)}"


def advice(reasons: list[str] | None) -> str:
    found = [REASON_ADVICE[r] for r in reasons or () if r in REASON_ADVICE]
    if found:
        return " ".join(found)
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


def tape(media: dict[str, Any] | None) -> str:
    if not media or not media.get("id"):
        return "no tape"
    width, length = media.get("width_mm"), media.get("length_mm")
    if isinstance(width, int | float) and isinstance(length, int | float) and length:  # die-cut labels
        parts = [f"{width:g} × {length:g} mm"]
    else:
        parts = [f"{width:g} mm" if isinstance(width, int | float) else str(media.get("id"))]
    if media.get("kind"):
        parts.append(str(media["kind"]))
    text, back = media.get("text_color"), media.get("tape_color")
    if text and back:
        parts.append(f"{text} on {back}")
    elif back:
        parts.append(f"{back} tape")
    return ", ".join(parts)


def mm(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value / 1000:.2f} m" if value >= 1000 else f"{value:.0f} mm"
