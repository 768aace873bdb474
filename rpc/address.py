"""The appliance's address as a person types it: ``appliance:8631``, ``http://10.0.0.5:8631/``.

A bare ``host:port`` means plain HTTP (what the appliance serves); ``ws://`` is taken as ``http://``
(both endpoints live on the same port). Anything that cannot be an
appliance address is refused here, with the fix, before any connection is tried: aiohttp would
otherwise raise its own exception types for a missing scheme or a bad port.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

__all__ = ["BadAddress", "server_url"]

EXAMPLE = "http://HOST:PORT, e.g. http://appliance:8631"


class BadAddress(ValueError):
    """The text is not an appliance address; the message says what to give instead."""


def server_url(text: str) -> str:
    """``text`` as an http(s) URL without a trailing slash; BadAddress when it cannot be one."""
    raw = text.strip()
    if not raw:
        raise BadAddress(f"the appliance URL is empty; give {EXAMPLE}")
    if "://" not in raw:
        raw = "http://" + raw
    try:
        parts = urlsplit(raw)
        port = parts.port  # raises ValueError for a port that is not 0..65535
    except ValueError as exc:
        raise BadAddress(f"{text!r} is not a URL ({exc}); give {EXAMPLE}") from None
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme.lower(), parts.scheme.lower())
    if scheme not in ("http", "https"):
        raise BadAddress(f"{text!r} uses {scheme}://; the appliance speaks http:// (or https:// behind a proxy): "
                         f"give {EXAMPLE}")
    if not parts.hostname:
        raise BadAddress(f"{text!r} names no host; give {EXAMPLE}")
    if port == 0:
        raise BadAddress(f"{text!r} has port 0; give {EXAMPLE}")
    if parts.query or parts.fragment:
        raise BadAddress(f"{text!r} has a query or fragment; give only {EXAMPLE}")
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/"), "", ""))
