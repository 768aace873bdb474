"""structlog set-up: console lines on a TTY, JSON lines otherwise; secrets never logged.

`APPLIANCE_LOG_FORMAT=json|console` (or `[log] format`) overrides the TTY guess.
Every line carries the request id bound in `structlog.contextvars` when there is one.
"""

from __future__ import annotations

import logging
import re
import sys
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
    # Libraries that log through the standard library (aiohttp, yoyo, pysnmp) stay quiet below WARNING,
    # and their text is redacted too: aiohttp logs a malformed request with its header lines.
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])


BEARER_PATTERN = re.compile(r"(?i)(bearer\s+)[^\s'\"\\]+")


class RedactingFormatter(logging.Formatter):
    """Standard-library log lines (message and traceback) with tokens replaced by ***."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return BEARER_PATTERN.sub(r"\1***", TOKEN_PATTERN.sub("la_***", text))


def get(name: str = "appliance") -> Any:
    return structlog.get_logger(name)
