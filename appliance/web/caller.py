"""Who is on the other end of an HTTP request: transport, peer, scope."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web


@dataclass(frozen=True)
class Caller:
    transport: str  # "unix" or "tcp"
    peer: str
    scope: str | None  # "trusted" (unix socket), "admin", "read", or None (no valid token)
    token_name: str | None = None


CALLER_KEY: web.RequestKey[Caller] = web.RequestKey("caller", Caller)


def transport_of(request: web.Request) -> tuple[str, str]:
    """("unix", path) for the trusted socket, ("tcp", "host") otherwise."""
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    if isinstance(sockname, (str, bytes)):
        return "unix", sockname.decode() if isinstance(sockname, bytes) else sockname
    return "tcp", request.remote or "?"


def caller_of(request: web.Request) -> Caller:
    caller = request.get(CALLER_KEY)
    if caller is None:
        transport, peer = transport_of(request)
        caller = Caller(transport, peer, "trusted" if transport == "unix" else None)
    return caller
