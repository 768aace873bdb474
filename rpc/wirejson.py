"""JSON for the wire: compact, UTF-8, datetimes as RFC 3339 UTC with `Z`.

Reading is strict where Python's json module is lenient, because whatever a request carries may
be echoed back (the id) or stored (label fields): NaN and Infinity are not JSON, a number too big
for a float is not a number we can answer with, and a lone UTF-16 surrogate (``"\\ud800"``) is not
text: it cannot be written as UTF-8, so the answer, the log line and SQLite would all fail on it.
"""

from __future__ import annotations

import json
import math
import re
import sys
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import PurePath
from typing import Any


def rfc3339(moment: datetime) -> str:
    """`2026-11-22T03:06:30.123Z` — naive datetimes are taken as UTC."""
    if moment.tzinfo is not None and moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    # isoformat truncates to milliseconds like the old strftime did, at a third of its cost, and
    # pads the year to four digits
    return moment.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, bytes):
        raise TypeError("bytes are not JSON; encode them (base64) first")
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


_encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=_default)


def dumps(value: Any) -> str:
    return _encoder.encode(value)


def dumpb(value: Any) -> bytes:
    return _encoder.encode(value).encode()


class WireError(ValueError):
    """The text is not JSON this wire accepts; ``reason`` says why in words a caller can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _no_constant(name: str) -> Any:
    raise WireError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise WireError(f"the number {text[:40]} is too large")
    return value


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE_ESCAPE_B = re.compile(_SURROGATE_ESCAPE.pattern.encode())
_SURROGATE = re.compile("[\ud800-\udfff]")


def _lone_surrogate(value: Any) -> str | None:
    """The first string in `value` (keys included) holding an unpaired surrogate, or None."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def loads(data: str | bytes) -> Any:
    """Parse JSON text; raises :class:`WireError` (a ValueError) for anything the wire refuses."""
    try:
        value = json.loads(data, parse_constant=_no_constant, parse_float=_finite)
    except WireError:
        raise
    except RecursionError:
        raise WireError("nested too deeply") from None
    except UnicodeDecodeError:
        raise WireError("not UTF-8") from None
    except ValueError as exc:
        if "integer string conversion" in str(exc):  # Python's own limit, whose message names sys.*
            raise WireError(f"a number has more than {sys.get_int_max_str_digits()} digits; no parameter takes "
                            "one that long") from None
        raise WireError(f"not JSON: {exc}") from None
    # pairs of escapes join into one character while parsing; only a lone half survives
    if isinstance(data, bytes):
        suspect = _SURROGATE_ESCAPE_B.search(data) is not None
    else:
        suspect = _SURROGATE_ESCAPE.search(data) is not None or _SURROGATE.search(data) is not None
    if suspect and _lone_surrogate(value) is not None:
        raise WireError("a string holds a lone UTF-16 surrogate (\\ud800-\\udfff), which is not text")
    return value
