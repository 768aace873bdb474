"""The 32-byte Brother status block: parse it, explain it, and build one (for the virtual printer).

The same layout arrives as a reply to ``ESC i S``, as an automatic notification and over SNMP.
Two field lessons shape :attr:`PrinterStatus.reasons`: an open cover zeroes the media fields, so
cover-open is decided first; and a missing cassette sets *no* error bit — only width and type are 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

from appliance.printer.models import model_by_status_code

__all__ = ["MEDIA_HOLDER", "MEDIA_NOUN", "PrinterStatus", "StatusError", "Wording", "build_status_block", "describe",
           "parse_status", "series_of", "worded"]

HEADER = b"\x80\x20\x42"
SIZE = 32

_ERRORS_1 = ("no-media", "end-of-media", "cutter-jam", "weak-batteries", "printer-in-use", "turned-off",
             "high-voltage-adapter", "fan")  # fmt: skip
_ERRORS_2 = ("wrong-media", "expansion-buffer-full", "communication-error", "comm-buffer-full", "cover-open",
             "overheating", "media-cannot-feed", "system-error")  # fmt: skip
_QL_ERRORS_2 = tuple("cancel-key" if name == "overheating" else name for name in _ERRORS_2)

MEDIA_TYPES = {0x00: "none", 0x01: "laminated", 0x03: "non-laminated", 0x11: "heat-shrink-2:1",
               0x17: "heat-shrink-3:1", 0x0A: "continuous", 0x0B: "die-cut",
               0xFF: "incompatible"}  # fmt: skip
STATUS_TYPES = {0x00: "reply", 0x01: "printing-completed", 0x02: "error", 0x04: "turned-off",
                0x05: "notification", 0x06: "phase-change"}  # fmt: skip
PHASES = {0x00: "idle", 0x01: "printing"}
NOTIFICATIONS = {0x00: None, 0x01: "cover-open", 0x02: "cover-closed", 0x03: "cooling-started",
                 0x04: "cooling-finished"}  # fmt: skip
TAPE_COLORS = {0x00: None, 0x01: "white", 0x02: "other", 0x03: "clear", 0x04: "red", 0x05: "blue",
               0x06: "yellow", 0x07: "green", 0x08: "black", 0x09: "clear-white-text", 0x20: "matte-white",
               0x21: "matte-clear", 0x22: "matte-silver", 0x23: "satin-gold", 0x24: "satin-silver",
               0xF0: "cleaning", 0xF1: "stencil", 0xFF: "incompatible"}  # fmt: skip
TEXT_COLORS = {0x00: None, 0x01: "white", 0x02: "other", 0x04: "red", 0x05: "blue", 0x08: "black",
               0x0A: "gold", 0x81: "black-red", 0xFF: "incompatible"}  # fmt: skip

# error name → IPP-style printer-state-reason, in the order reasons are reported.
_REASONS = (
    ("end-of-media", "media-empty"),
    ("wrong-media", "media-mismatch"),
    ("cutter-jam", "media-jam"),
    ("media-cannot-feed", "media-jam"),
    ("overheating", "overheating"),
    ("cancel-key", "job-canceled-at-device"),
    ("weak-batteries", "weak-batteries"),
    ("turned-off", "shutdown"),
    ("high-voltage-adapter", "wrong-power-adapter"),
    ("fan", "fan-failure"),
    ("communication-error", "communication-error"),
    ("expansion-buffer-full", "buffer-full"),
    ("comm-buffer-full", "buffer-full"),
    ("system-error", "system-error"),
    ("printer-in-use", "printer-in-use"),
)
_NOT_STOPPING = {"weak-batteries", "printer-in-use", "cooling"}

# A reason's sentence: one for every printer, or one per series ("pt": tape cassettes; "ql": DK rolls of
# continuous tape or die-cut labels) with a neutral one (None) for a printer whose series is unknown.
Wording = str | Mapping[str | None, str]

# What a printer's media is called where a sentence names it: the stock ("12mm tape", "62mm roll") and
# what holds it ("load a tape cassette", "load a DK roll").
MEDIA_NOUN: Wording = {"pt": "tape", "ql": "roll", None: "media"}
MEDIA_HOLDER: Wording = {"pt": "tape cassette", "ql": "DK roll", None: "tape cassette or label roll"}

_DESCRIPTIONS: dict[str, Wording] = {
    "cover-open": "Cover open — close it to continue",
    "media-needed": {
        "pt": "No tape cassette loaded — insert one",
        "ql": "No DK roll loaded — insert a roll of continuous tape or die-cut labels",
        None: "No tape or labels loaded — insert a tape cassette or a label roll",
    },
    "media-empty": {
        "pt": "The tape ran out — put in a new tape cassette; the printer then finishes the job",
        "ql": "The roll ran out (its continuous tape or its last die-cut label) — put in a new DK roll; the "
              "printer then finishes the job",
        None: "The tape or labels ran out — load new ones; the printer then finishes the job",
    },
    "media-mismatch": {
        "pt": "Wrong tape cassette loaded — put in the tape (width and type) this label was made for",
        "ql": "Wrong roll loaded — put in the DK roll this label was made for (its width, and continuous tape "
              "or die-cut labels of its size)",
        None: "Wrong tape or labels loaded — load the ones this label was made for",
    },
    "media-jam": {
        "pt": "The tape jammed or cannot feed, or the cutter is stuck — open the cover, take the cassette out "
              "and clear it",
        "ql": "The labels jammed or cannot feed, or the cutter is stuck — open the roll compartment, take the "
              "roll out and clear the jam",
        None: "The tape or labels jammed or cannot feed, or the cutter is stuck — open the cover and clear it",
    },
    "overheating": "Print head too hot — printing resumes when it has cooled down",
    "cooling": "Print head cooling — printing resumes by itself",
    "job-canceled-at-device": "Job cancelled on the printer",
    "weak-batteries": "Batteries are weak — connect the AC adapter",
    "shutdown": "Printer is turning off",
    "wrong-power-adapter": "Wrong power adapter — use the one supplied with the printer",
    "fan-failure": "Fan failure — switch the printer off and on; service it if it persists",
    "communication-error": "Communication error — the job was garbled; send it again",
    "buffer-full": "Printer buffer full — wait and send the job again",
    "system-error": "Printer system error — switch it off and on again",
    "printer-in-use": "Printer busy with another job",
    "printer-offline": "Printer not reachable — check power and connection",
    # while a job's raster is at the printer (the queue says so: StatusMonitor.job_sent), for the
    # printer and that job alike; "not reachable" was wrong there: the label came out in trials
    "status-lost": "The printer stopped answering status requests after a job was sent to it: it may still be "
                   "printing, and the label may come out. The job is followed again when it answers; if it does "
                   "not, check its power and network",
    "status-unavailable": "The printer takes jobs but does not answer status requests — check [printers.snmp] "
                          "(community, port), or set enabled = false to print without status",
    "model-mismatch": "Another model answers at this address than the configuration names — fix model in [[printers]]",
    "jobs-refused": "The printer answers status requests but refuses print jobs — is another computer printing "
                    "to it, or raw printing (port 9100) switched off? Jobs wait until it takes them",
    "printer-ambiguous": "More than one USB printer of this model is plugged in — add ?serial=… to its usb:// URI "
                         "(`appliance check` lists the serials), or unplug the other one. Jobs wait",
    "printer-busy": "The printer is busy: printing a label from elsewhere, or another program holds its USB device "
                    "(a CUPS queue?) — jobs wait until it is free",
}


class StatusError(ValueError):
    """Not a status block: wrong length or header."""


def _name(table: dict[int, str | None], code: int) -> str | None:
    return table.get(code, f"unknown-0x{code:02x}")


def _code(table: dict[int, str | None], name: str | None, what: str) -> int:
    for code, known in table.items():
        if known == name:
            return code
    if name and name.startswith("unknown-0x"):
        return int(name[10:], 16)
    raise ValueError(f"unknown {what} {name!r}; known: {', '.join(str(v) for v in table.values())}")


@dataclass(frozen=True, slots=True)
class PrinterStatus:
    """A parsed status block. ``reasons`` and ``state`` are derived, not stored."""

    series: int
    model_code: int
    model: str | None
    media_width_mm: int
    media_type: str
    media_type_code: int
    media_length_mm: int
    errors: tuple[str, ...]
    status_type: str
    phase: str
    phase_number: int
    notification: str | None
    tape_color: str | None
    text_color: str | None
    mode: int

    @property
    def family(self) -> str:
        return "ql" if self.series == 0x34 else "pt"

    @property
    def reasons(self) -> list[str]:
        """IPP-style reasons, most important first ("cover-open" beats everything)."""
        errors = set(self.errors)
        reasons: list[str] = []
        cover_open = "cover-open" in errors or self.notification == "cover-open"
        if cover_open:
            reasons.append("cover-open")
        elif "no-media" in errors or (self.media_width_mm == 0 and self.media_type_code == 0):
            reasons.append("media-needed")
        for error, reason in _REASONS:
            if error in errors and reason not in reasons:
                reasons.append(reason)
        if self.notification == "cooling-started":
            reasons.append("cooling")
        return reasons

    @property
    def state(self) -> str:
        """ "stopped" when a person must act, else "printing" or "idle"."""
        if any(reason not in _NOT_STOPPING for reason in self.reasons):
            return "stopped"
        if self.phase == "printing" or "printer-in-use" in self.errors:
            return "printing"
        return "idle"

    def describe(self) -> list[str]:
        """Human sentences for every reason, in order, in the words of this printer's series."""
        return [describe(reason, self.family) for reason in self.reasons]

    def to_bytes(self) -> bytes:
        fields = asdict(self)
        del fields["model"]
        del fields["media_type_code"]
        return build_status_block(**fields)


def series_of(family: str | None) -> str | None:
    """"pt" or "ql" for a model family ("pt128", "pt560", "ql720") or a status block's ("pt", "ql");
    None when it is not known."""
    series = (family or "")[:2]
    return series if series in ("pt", "ql") else None


def worded(wording: Wording, family: str | None) -> str:
    """The sentence of `wording` for a printer of `family` (see :func:`series_of`): its series' own,
    else the neutral one."""
    if isinstance(wording, str):
        return wording
    return wording.get(series_of(family)) or wording[None]


def describe(reason: str, family: str | None) -> str:
    """A short sentence for a person (the TUI, scripts), for any reason ``PrinterStatus.reasons`` yields,
    in the words of the printer's `family` (a PT takes tape cassettes, a QL DK rolls); neutral if None."""
    wording = _DESCRIPTIONS.get(reason)
    return worded(wording, family) if wording is not None else reason.replace("-", " ").capitalize()


def parse_status(block: bytes) -> PrinterStatus:
    """Parse a 32-byte status block; raise :class:`StatusError` if it is not one."""
    if len(block) != SIZE:
        raise StatusError(f"status block must be {SIZE} bytes, got {len(block)}")
    if block[:3] != HEADER:
        raise StatusError(f"status block header must be 80 20 42, got {block[:3].hex(' ')}")
    series = block[3]
    names_2 = _QL_ERRORS_2 if series == 0x34 else _ERRORS_2
    errors = tuple(name for bit, name in enumerate(_ERRORS_1) if block[8] >> bit & 1)
    errors += tuple(name for bit, name in enumerate(names_2) if block[9] >> bit & 1)
    model = model_by_status_code(series, block[4])
    return PrinterStatus(
        series=series,
        model_code=block[4],
        model=model.name if model else None,
        media_width_mm=block[10],
        media_type=str(_name(MEDIA_TYPES, block[11])),
        media_type_code=block[11],
        media_length_mm=block[17],
        errors=errors,
        status_type=str(_name(STATUS_TYPES, block[18])),
        phase=str(_name(PHASES, block[19])),
        phase_number=block[20] << 8 | block[21],
        notification=_name(NOTIFICATIONS, block[22]),
        tape_color=_name(TAPE_COLORS, block[24]),
        text_color=_name(TEXT_COLORS, block[25]),
        mode=block[15],
    )


def build_status_block(
    *,
    series: int = 0x30,
    model_code: int = 0x68,
    media_width_mm: int = 0,
    media_type: str = "none",
    media_length_mm: int = 0,
    errors: tuple[str, ...] | list[str] = (),
    status_type: str = "reply",
    phase: str = "idle",
    phase_number: int = 0,
    notification: str | None = None,
    tape_color: str | None = None,
    text_color: str | None = None,
    mode: int = 0,
) -> bytes:
    """The status block a real printer would send for these facts (inverse of :func:`parse_status`)."""
    block = bytearray(SIZE)
    block[0:3] = HEADER
    block[3], block[4], block[5], block[6] = series, model_code, 0x30, 0x04
    names_2 = _QL_ERRORS_2 if series == 0x34 else _ERRORS_2
    for error in errors:
        if error in _ERRORS_1:
            block[8] |= 1 << _ERRORS_1.index(error)
        elif error in names_2:
            block[9] |= 1 << names_2.index(error)
        else:
            raise ValueError(f"unknown error {error!r}; known: {', '.join(_ERRORS_1 + names_2)}")
    block[10] = media_width_mm
    block[11] = _code(MEDIA_TYPES, media_type, "media type")
    block[15] = mode
    block[17] = media_length_mm
    block[18] = _code(STATUS_TYPES, status_type, "status type")
    block[19] = _code(PHASES, phase, "phase")
    block[20], block[21] = phase_number >> 8 & 0xFF, phase_number & 0xFF
    block[22] = _code(NOTIFICATIONS, notification, "notification")
    block[24] = _code(TAPE_COLORS, tape_color, "tape colour")
    block[25] = _code(TEXT_COLORS, text_color, "text colour")
    return bytes(block)
