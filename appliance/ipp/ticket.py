"""What an IPP request asks of a job: its operation and job-template attributes, checked.

Values the appliance cannot honour are collected as `unsupported` (answered in the
unsupported-attributes group); with ipp-attribute-fidelity true they refuse the job, otherwise
they are ignored and the job prints as well as a label allows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..printer.media import Media
from . import codec, codes, media_names
from .codec import Attribute, Message
from .documents import FORMATS
from .fit import ROTATION, SCALINGS, FitOptions
from .printer_attrs import CONTENT_OPTIMIZE, MAX_COPIES


class IppError(Exception):
    """A request refused with an IPP status; `unsupported` go back in the unsupported-attributes group."""

    def __init__(self, status: int, message: str, unsupported: list[Attribute] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.unsupported = unsupported or []


@dataclass
class Ticket:
    user: str = "anonymous"
    job_name: str | None = None
    document_name: str | None = None
    document_format: str = "application/octet-stream"
    compression: str = "none"
    copies: int = 1
    fit: FitOptions = field(default_factory=FitOptions)
    unsupported: list[Attribute] = field(default_factory=list)
    fidelity: bool = False


def _value(message: Message, tag: int, name: str) -> Attribute | None:
    group = message.group(tag)
    return group.get(name) if group is not None else None


def operation_value(message: Message, name: str) -> Any:
    attr = _value(message, codec.OPERATION_GROUP, name)
    return attr.value if attr is not None else None


def read_ticket(message: Message, media: Media | None) -> Ticket:
    ticket = Ticket()
    ticket.user = str(operation_value(message, "requesting-user-name") or "anonymous")[:255]
    ticket.job_name = _text(operation_value(message, "job-name"))
    ticket.document_name = _text(operation_value(message, "document-name"))
    ticket.fidelity = operation_value(message, "ipp-attribute-fidelity") is True
    fmt = operation_value(message, "document-format")
    if fmt is not None:
        fmt = str(fmt).lower().split(";")[0].strip()
        if fmt not in (*FORMATS, "application/octet-stream"):
            raise IppError(codes.DOCUMENT_FORMAT_NOT_SUPPORTED, f"document-format {fmt} is not supported",
                           [Attribute("document-format", codec.MIME_TYPE, [fmt])])
        ticket.document_format = fmt
    compression = operation_value(message, "compression")
    if compression is not None:
        if compression not in ("none", "gzip", "deflate"):
            raise IppError(codes.COMPRESSION_NOT_SUPPORTED, f"compression {compression} is not supported",
                           [Attribute("compression", codec.KEYWORD, [compression])])
        ticket.compression = str(compression)
    job = message.group(codec.JOB_GROUP)
    orientation: int | None = None
    scaling = "auto"
    dither: bool | None = None
    for attr in job.attributes if job is not None else []:
        value = attr.value
        ok = True
        if attr.name == "copies":
            ok = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_COPIES
            if ok:
                ticket.copies = value
        elif attr.name == "orientation-requested":
            ok = value in ROTATION
            orientation = value if ok else None
        elif attr.name == "print-scaling":
            ok = value in SCALINGS
            scaling = value if ok else scaling
        elif attr.name == "print-content-optimize":
            ok = value in CONTENT_OPTIMIZE
            if value == "photo":
                dither = True
            elif value in ("text", "graphics", "text-and-graphics"):
                dither = False
        elif attr.name == "print-color-mode":
            ok = value in ("auto", "bi-level", "monochrome", "color")
            if value == "bi-level":
                dither = False
        elif attr.name == "media":
            ok = media is None or media_names.matches(str(value), media)
        elif attr.name == "media-col":
            ok = media is None or _media_col_fits(value, media)
        elif attr.name == "sides":
            ok = value == "one-sided"
        elif attr.name in ("print-quality", "printer-resolution", "finishings", "job-hold-until", "output-bin",
                           "multiple-document-handling", "job-priority", "job-sheets", "number-up",
                           "page-ranges", "print-rendering-intent"):
            ok = True  # accepted and ignored: a label printer has one way of doing these
        if not ok:
            ticket.unsupported.append(attr)
    ticket.fit = FitOptions(orientation=orientation, scaling=scaling, dither=dither)
    if ticket.unsupported and ticket.fidelity:
        raise IppError(codes.ATTRIBUTES_NOT_SUPPORTED, "some job attributes cannot be honoured",
                       ticket.unsupported)
    return ticket


def _text(value: Any) -> str | None:
    return str(value)[:255] if value not in (None, "") else None


def _media_col(value: Any) -> dict[str, Any]:
    return {member.name: member.value for member in value} if isinstance(value, list) else {}


def _media_col_fits(value: Any, media: Media) -> bool:
    """A media-col naming the loaded media (by key or size name), or a size of its width (±1 mm)."""
    members = _media_col(value)
    for key in ("media-key", "media-size-name"):
        if key in members:
            return media_names.matches(str(members[key]), media)
    size = _media_col(members.get("media-size"))
    x = size.get("x-dimension")
    if isinstance(x, int):
        across = abs(x - media.width_mm * 100) <= 100
        return across or (media.is_die_cut and abs(x - (media.length_mm or 0) * 100) <= 100)
    return True
