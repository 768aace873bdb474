"""A printer's input: a byte stream cut into whole jobs and status requests (TCP and USB alike).

A job is whole when it ends with 1A (print and feed), or when the stream ends (`final`). `ESC i S`
is acted on once everything before it is decoded. Bytes that do not decode are reported and dropped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from appliance.printer.decode import DecodedJob, RasterDecodeError, decode_job
from appliance.printer.models import Model

STATUS_REQUEST = b"\x1biS"
PRINT_FEED = b"\x1a"


def at_boundary(buffer: bytes | bytearray) -> bool:
    """The buffer ends where a job or a status request may end: worth trying to decode."""
    return buffer.endswith(PRINT_FEED) or buffer.endswith(STATUS_REQUEST)


def _first_job(data: bytes, exc: RasterDecodeError, model: Model) -> tuple[DecodedJob, int] | None:
    """When a second job follows a complete one (1A, then more bytes), the first one alone."""
    end = exc.offset
    if not 0 < end < len(data) or data[end - 1] != PRINT_FEED[0]:
        return None
    try:
        return decode_job(data[:end], model), end
    except RasterDecodeError:
        return None


async def take(
    buffer: bytearray,
    model: Model,
    *,
    final: bool,
    submit: Callable[[DecodedJob], None],
    status_asked: Callable[[], Awaitable[None]],
    report: Callable[[str], None],
) -> None:
    """Act on every whole job or status request at the front of `buffer`, and consume it."""
    while any(buffer):  # anything but invalidate bytes
        data = bytes(buffer)
        try:
            job, consumed = decode_job(data, model), len(data)
        except RasterDecodeError as exc:
            first = _first_job(data, exc, model)
            if first is None:
                if final:
                    report(f"malformed job: {exc}")
                    buffer.clear()
                return  # maybe more is coming
            job, consumed = first
        asks_status = any(name == "status-request" for name, _ in job.commands)
        whole = consumed == len(data)
        if asks_status and whole and data.endswith(STATUS_REQUEST):
            await status_asked()
        ends_job = bool(job.pages) and job.pages[-1].ended_by == "print-feed"
        if ends_job or (final and job.pages):
            submit(job)
        elif not (not job.pages and (asks_status or final)):
            return  # a job still arriving
        del buffer[:consumed]
    buffer.clear()
