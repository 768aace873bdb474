"""Get-Printer-Attributes: what a printer is and does, from the live status cache (never the printer).

The static part (capabilities, supported values) is built once per printer and media; the live
part (state, reasons, what is loaded, queue length, times) on every request. Both are lists of
codec Attributes, filtered by `requested-attributes`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..printer.media import Media, media_table
from . import codec, codes, media_names
from .codec import Attribute
from .documents import FORMATS

# the printer's reasons (appliance/printer/status.py) as IPP printer-state-reasons
REASONS = {
    "cover-open": "cover-open-error",
    "media-empty": "media-empty-error",
    "media-needed": "media-needed-error",
    "no-media": "media-needed-error",
    "media-mismatch": "media-needed-error",
    "media-jam": "media-jam-error",
    "media-cannot-feed": "media-jam-error",
    "cutter-jam": "media-jam-error",
    "printer-offline": "offline-report",
    "status-lost": "offline-report",
    "overheating": "other-warning",
    "cooling": "other-report",
    "printer-in-use": "other-report",
}
OPERATIONS = sorted(codes.OPERATIONS)
CONTENT_OPTIMIZE = ("auto", "graphics", "photo", "text", "text-and-graphics")
SCALINGS = ("auto", "auto-fit", "fill", "fit", "none")
ORIENTATIONS = (3, 4, 5, 6)
MAX_COPIES = 99
# the job-template and document-description groups of requested-attributes (RFC 8011 §4.2.5.1)
JOB_TEMPLATE = frozenset({
    "copies-default", "copies-supported", "finishings-default", "finishings-supported", "media-default",
    "media-supported", "media-col-default", "media-col-supported", "media-ready", "media-col-ready",
    "orientation-requested-default", "orientation-requested-supported", "output-bin-default", "output-bin-supported",
    "print-color-mode-default", "print-color-mode-supported", "print-content-optimize-default",
    "print-content-optimize-supported", "print-quality-default", "print-quality-supported", "print-scaling-default",
    "print-scaling-supported", "printer-resolution-default", "printer-resolution-supported", "sides-default",
    "sides-supported", "job-hold-until-default", "job-hold-until-supported", "media-size-supported",
    "media-source-supported", "media-type-supported", "media-bottom-margin-supported", "media-left-margin-supported",
    "media-right-margin-supported", "media-top-margin-supported", "multiple-document-handling-default",
    "multiple-document-handling-supported",
})


@dataclass(frozen=True)
class Endpoint:
    """How the client reached this printer: its ipp:// (ipps://) URI, the appliance's URL, the auth asked."""

    printer_uri: str
    more_info: str
    authentication: str  # "basic" or "none"
    security: str = "none"  # "tls" when reached over TLS


def printer_state(runtime: Any) -> tuple[int, list[str], str]:
    """(printer-state, printer-state-reasons, printer-state-message) from the status cache."""
    snapshot = runtime.monitor.snapshot
    reasons = [REASONS.get(r, "other-warning") for r in snapshot.reasons]
    worker = runtime.worker
    busy = snapshot.state == "printing" or (worker is not None and worker.current_job is not None)
    if runtime.paused:
        reasons.append("paused")
    if snapshot.state in ("offline", "unknown") and "offline-report" not in reasons and snapshot.state == "offline":
        reasons.append("offline-report")
    stopped = snapshot.state in ("stopped", "offline") or runtime.paused
    state = codes.PRINTER_STOPPED if stopped else codes.PRINTER_PROCESSING if busy else codes.PRINTER_IDLE
    unique = list(dict.fromkeys(reasons)) or ["none"]
    described = snapshot.describe()
    message = described[0] if described else {codes.PRINTER_IDLE: "Ready", codes.PRINTER_PROCESSING: "Printing",
                                              codes.PRINTER_STOPPED: "Paused" if runtime.paused else "Stopped"}[state]
    return state, unique, message[:127]


def loaded_media(runtime: Any) -> Media | None:
    return runtime.current_media() or runtime.configured_media


def build(runtime: Any, endpoint: Endpoint, *, queued: int, started_monotonic: float, max_kb: int,
          dnssd_name: str) -> list[Attribute]:
    """Every attribute of the printer, live ones included."""
    model = runtime.model
    loaded = runtime.current_media()  # what the printer has now (none: media-needed), not what is configured
    every = sorted(media_table(model).values(), key=lambda m: (m.is_die_cut, m.width_mm, m.length_mm or 0))
    supported_names: list[str] = []
    for media in every:
        supported_names += [media_names.name(media), *media_names.range_names(media)]
    default_media = loaded_media(runtime) or every[0]
    state, reasons, message = printer_state(runtime)
    dpi = model.dpi
    resolution = (dpi, dpi, codec.RESOLUTION_DPI)
    up = max(1, int(time.monotonic() - started_monotonic) + 1)
    I, K, T, N, U, E, B = codec.INTEGER, codec.KEYWORD, codec.TEXT, codec.NAME, codec.URI, codec.ENUM, codec.BOOLEAN  # noqa: E741
    a: list[Attribute] = []

    def add(name: str, tag: int, *values: Any) -> None:
        a.append(Attribute(name, tag, list(values)))

    add("printer-uri-supported", U, endpoint.printer_uri)
    add("uri-security-supported", K, endpoint.security)
    add("uri-authentication-supported", K, "requesting-user-name" if endpoint.authentication == "none" else "basic")
    add("printer-name", N, runtime.name)
    add("printer-info", T, f"{runtime.name} ({model.name})"[:127])
    add("printer-location", T, "")
    add("printer-make-and-model", T, f"Brother {model.name}")
    add("printer-more-info", U, endpoint.more_info)
    add("printer-device-id", T, f"MFG:Brother;MDL:{model.name};CMD:PWGRaster,URF,PDF,PNG,JPEG;CLS:PRINTER;")
    add("printer-uuid", U, f"urn:uuid:{_uuid(runtime.id)}")
    add("printer-dns-sd-name", N, dnssd_name)
    add("printer-kind", K, "labels")
    add("printer-state", E, state)
    add("printer-state-reasons", K, *reasons)
    add("printer-state-message", T, message)
    add("printer-is-accepting-jobs", B, runtime.queue_stopped() is None)
    add("printer-up-time", I, up)
    add("printer-current-time", codec.DATE_TIME, datetime.now(UTC))
    add("printer-state-change-time", I, 1)
    add("printer-config-change-time", I, 1)
    add("queued-job-count", I, queued)
    add("operations-supported", E, *OPERATIONS)
    add("charset-configured", codec.CHARSET, "utf-8")
    add("charset-supported", codec.CHARSET, "utf-8")
    add("natural-language-configured", codec.LANGUAGE, "en")
    add("generated-natural-language-supported", codec.LANGUAGE, "en")
    add("ipp-versions-supported", K, "1.1", "2.0")
    add("ipp-features-supported", K, "ipp-everywhere")
    add("pdl-override-supported", K, "attempted")
    add("compression-supported", K, "none", "gzip", "deflate")
    add("document-format-default", codec.MIME_TYPE, "application/octet-stream")
    add("document-format-supported", codec.MIME_TYPE, *FORMATS, "application/octet-stream")
    add("multiple-document-jobs-supported", B, False)
    add("multiple-operation-time-out", I, 60)
    add("multiple-operation-time-out-action", K, "process-job")
    add("job-ids-supported", B, True)
    add("which-jobs-supported", K, "completed", "not-completed", "all")
    add("job-k-octets-supported", codec.RANGE, (0, max_kb))
    add("color-supported", B, False)
    add("pages-per-minute", I, 10)
    add("identify-actions-default", K, "display")
    add("identify-actions-supported", K, "display")
    add("copies-default", I, 1)
    add("copies-supported", codec.RANGE, (1, MAX_COPIES))
    add("finishings-default", E, 3)
    add("finishings-supported", E, 3)
    add("job-hold-until-default", K, "no-hold")
    add("job-hold-until-supported", K, "no-hold")
    add("multiple-document-handling-default", K, "separate-documents-uncollated-copies")
    add("multiple-document-handling-supported", K, "separate-documents-uncollated-copies")
    add("media-default", K, media_names.name(default_media))
    add("media-supported", K, *supported_names)
    if loaded is not None:
        add("media-ready", K, media_names.name(loaded))
        add("media-col-ready", codec.BEG_COLLECTION, media_names.media_col(loaded))
    else:
        add("media-ready", codec.NO_VALUE, None)
    add("media-col-default", codec.BEG_COLLECTION, media_names.media_col(default_media))
    add("media-col-supported", K, "media-bottom-margin", "media-left-margin", "media-right-margin", "media-size",
        "media-source", "media-top-margin", "media-type")
    add("media-size-supported", codec.BEG_COLLECTION, *[media_names.size_supported(m) for m in every])
    add("media-source-supported", K, "main-roll")
    add("media-type-supported", K, *sorted({media_names.media_type(m) for m in every}))
    for side in ("bottom", "left", "right", "top"):
        add(f"media-{side}-margin-supported", I, 0)
    add("orientation-requested-default", E, 3)
    add("orientation-requested-supported", E, *ORIENTATIONS)
    add("output-bin-default", K, "face-up")
    add("output-bin-supported", K, "face-up")
    add("print-color-mode-default", K, "monochrome")
    add("print-color-mode-supported", K, "auto", "bi-level", "monochrome")
    add("print-content-optimize-default", K, "auto")
    add("print-content-optimize-supported", K, *CONTENT_OPTIMIZE)
    add("print-quality-default", E, 4)
    add("print-quality-supported", E, 4)
    add("print-scaling-default", K, "auto")
    add("print-scaling-supported", K, *SCALINGS)
    add("printer-resolution-default", codec.RESOLUTION, resolution)
    add("printer-resolution-supported", codec.RESOLUTION, resolution)
    add("sides-default", K, "one-sided")
    add("sides-supported", K, "one-sided")
    add("pwg-raster-document-resolution-supported", codec.RESOLUTION, resolution)
    add("pwg-raster-document-sheet-back", K, "normal")
    add("pwg-raster-document-type-supported", K, "black_1", "sgray_8", "srgb_8")
    add("urf-supported", K, "V1.4", "CP1", "W8", "SRGB24", f"RS{dpi}", "IS1", "MT1")
    add("job-creation-attributes-supported", K, "copies", "document-format", "media", "media-col",
        "orientation-requested", "print-color-mode", "print-content-optimize", "print-quality", "print-scaling",
        "printer-resolution")
    return a


def _uuid(printer_id: str) -> str:
    try:
        return str(uuid.UUID(printer_id))
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, printer_id))


def select(attributes: Iterable[Attribute], requested: list[str] | None) -> list[Attribute]:
    """Those named by requested-attributes (all when absent or "all"; the groups RFC 8011 names)."""
    if not requested or "all" in requested:
        return list(attributes)
    wanted = set(requested)
    template = "job-template" in wanted
    description = "printer-description" in wanted
    return [attr for attr in attributes if attr.name in wanted or (template and attr.name in JOB_TEMPLATE)
            or (description and attr.name not in JOB_TEMPLATE)]
