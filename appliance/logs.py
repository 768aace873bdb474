"""structlog set-up: console lines on a TTY, JSON lines otherwise; secrets never logged.

What libraries log through the standard library goes through the same renderer (see StdlibBridge).

`APPLIANCE_LOG_FORMAT=json|console` (or `[log] format`) overrides the TTY guess.
Every line carries the request id bound in `structlog.contextvars` when there is one.
"""

from __future__ import annotations

import logging
import math
import re
import sys
import time
import traceback
from typing import Any, TextIO


def _import_structlog() -> Any:
    """structlog, imported with `rich` hidden when nothing has loaded it yet.

    structlog.dev imports rich (which textual installs) for pretty tracebacks: ≈30 ms and a few MB
    of the server's start on this machine, several times that on a Pi. Our console renderer
    formats tracebacks plainly, so the server never needs rich; the TUI imports it later itself.
    """
    if "rich" in sys.modules or "structlog" in sys.modules:
        import structlog as module

        return module
    sys.modules["rich"] = None  # type: ignore[assignment]  # makes `import rich` raise ImportError
    try:
        import structlog as module
    finally:
        del sys.modules["rich"]
    return module


structlog = _import_structlog()
bind_context = structlog.contextvars.bind_contextvars
unbind_context = structlog.contextvars.unbind_contextvars


SECRET_KEYS = frozenset({"token", "authorization", "x-api-key", "password", "secret", "api_key", "community"})
TOKEN_PATTERN = re.compile(r"la_[A-Za-z0-9_\-]{16,}")
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


def redact(value: Any) -> Any:
    if isinstance(value, str):
        return TOKEN_PATTERN.sub("la_***", value) if "la_" in value else value
    if isinstance(value, dict):
        return {k: ("***" if str(k).lower() in SECRET_KEYS else redact(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    return value


def _redact_processor(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    for key, value in list(event.items()):
        if key.lower() in SECRET_KEYS:
            event[key] = "***"
        elif isinstance(value, (str, dict, list, tuple)):
            event[key] = redact(value)
    return event


def configure(fmt: str = "auto", level: str = "info", stream: TextIO | None = None) -> None:
    stream = stream or sys.stderr
    if fmt == "auto":
        fmt = "console" if stream.isatty() else "json"
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        _redact_processor,
    ]
    if fmt == "json":
        processors.append(structlog.processors.JSONRenderer())
    else:
        processors.append(
            structlog.dev.ConsoleRenderer(colors=stream.isatty(), exception_formatter=structlog.dev.plain_traceback)
        )
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS.get(level, logging.INFO)),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False,
    )
    _bridge_standard_library()


def _bridge_standard_library() -> None:
    """Send what libraries log through the standard library (aiohttp, yoyo, pysnmp, asyncio) through structlog.

    Each record becomes one event, rendered like ours (one JSON object per line off a TTY): a traceback
    rides in the event's `exception` field, never as lines of its own. Below WARNING they stay quiet.
    """
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, StdlibBridge)]:
        root.removeHandler(handler)
    root.addHandler(StdlibBridge())
    root.setLevel(logging.WARNING)


BEARER_PATTERN = re.compile(r"(?i)(bearer\s+)[^\s'\"\\]+")
# aiohttp's parser errors echo the offending bytes after the reason: "Invalid character in X:\n\n  b'…'"
_ECHOED = re.compile(r"(?::\s|:$|\s*b?['\"]|\s*bytearray\().*$")


def redact_text(text: str) -> str:
    """Free text (a library's message, a traceback) with tokens and bearer values replaced by ***."""
    return BEARER_PATTERN.sub(r"\1***", TOKEN_PATTERN.sub("la_***", text))


class LogThrottle:
    """At most one warning per (event, key) every `interval` seconds; the next one says how many were left out."""

    def __init__(self, logger_name: str, interval: float = 10.0, max_keys: int = 10_000) -> None:
        self.log = get(logger_name)
        self.interval = interval
        self.max_keys = max_keys
        self._last: dict[tuple[str, str], tuple[float, int]] = {}

    def __call__(self, event: str, key: str, **fields: Any) -> None:
        now = time.monotonic()
        last, suppressed = self._last.get((event, key), (-math.inf, 0))
        if now - last < self.interval:
            self._last[(event, key)] = (last, suppressed + 1)
            return
        if len(self._last) > self.max_keys:
            self._last.clear()
        self._last[(event, key)] = (now, 0)
        self.log.warning(event, peer=key, suppressed=suppressed, **fields)


def bad_request_reason(exc: BaseException) -> str:
    """What aiohttp's HTTP parser refused, in one short line, without the bytes it echoes back."""
    message = str(getattr(exc, "message", "") or exc)
    first = next((line.strip() for line in message.splitlines() if line.strip()), type(exc).__name__)
    return redact_text(_ECHOED.sub("", first).rstrip(" :"))[:160] or type(exc).__name__


class StdlibBridge(logging.Handler):
    """A standard-library record as one structlog event; a request aiohttp's parser refused as `http.bad_request`.

    Anyone on the network can send malformed HTTP, so those are one warning per peer every ten seconds
    (with the count left out), like `auth.denied`, not an error with a traceback each.
    """

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.throttled = LogThrottle("appliance.web")

    def emit(self, record: logging.LogRecord) -> None:
        try:
            exc = record.exc_info[1] if record.exc_info else None
            if exc is not None and record.name.startswith("aiohttp.") and _is_bad_request(exc):
                peer = record.args[0] if isinstance(record.args, tuple) and record.args else None
                self.throttled("http.bad_request", str(peer or "unix"), reason=bad_request_reason(exc))
                return
            fields: dict[str, Any] = {"logger": record.name}
            if record.exc_info and record.exc_info[0] is not None:
                fields["exception"] = redact_text("".join(traceback.format_exception(*record.exc_info)).rstrip())
            level = record.levelname.lower() if record.levelname.lower() in _LEVELS else "error"
            getattr(get(record.name), level)(redact_text(record.getMessage()), **fields)
        except Exception:
            self.handleError(record)


def _is_bad_request(exc: BaseException) -> bool:
    from aiohttp.http_exceptions import HttpProcessingError

    return isinstance(exc, HttpProcessingError)


def get(name: str = "appliance") -> Any:
    return structlog.get_logger(name)
