"""Wall-clock times as the store and the wire want them: RFC 3339 UTC with a Z."""

from __future__ import annotations

from datetime import UTC, datetime

from rpc.wirejson import rfc3339


def now() -> datetime:
    return datetime.now(UTC)


def now_text() -> str:
    return rfc3339(now())


def parse(text: str) -> datetime:
    """Parse the RFC 3339 text the store writes (and what callers send as `since`)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
