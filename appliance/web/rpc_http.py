"""POST /rpc: read the body (bounded), dispatch, answer. No body for notifications."""

from __future__ import annotations

from aiohttp import web

from rpc.dispatcher import CallContext, Dispatcher
from rpc.errors import INVALID_REQUEST
from rpc.wirejson import dumps

from .auth import BATCH_CHARGE_KEY, refused_for_rate
from .caller import caller_of
from .middleware import REQUEST_ID_KEY

DISPATCHER_KEY: web.AppKey[Dispatcher] = web.AppKey("dispatcher", Dispatcher)
MAX_BODY_KEY: web.AppKey[int] = web.AppKey("max_body", int)
SERVICES_KEY = "appliance.services"

JSON = "application/json"


def _refusal(status: int, message: str, field: str, reason: str, **headers: str) -> web.Response:
    """A JSON-RPC Invalid Request error for an HTTP request refused before dispatch, with its HTTP status."""
    body = dumps({
        "jsonrpc": "2.0",
        "error": {"code": INVALID_REQUEST, "message": message, "data": {"field": field, "reason": reason}},
        "id": None,
    })
    return web.Response(status=status, text=body, content_type=JSON, headers=headers or None)


def too_large(limit: int) -> web.Response:
    return _refusal(413, "Request too large", "body", f"larger than {limit} bytes")


def not_json(content_type: str) -> web.Response:
    return _refusal(415, "Invalid Request", "Content-Type", f"expected application/json, not {content_type!r}: "
                    "without a token, a form or text/plain post could come from any web page")


async def wrong_method(request: web.Request) -> web.Response:
    """GET /rpc (a browser, a misconfigured client): a JSON-RPC answer saying how to call, not a bare 405."""
    return _refusal(405, "Invalid Request", "method", f"HTTP {request.method} /rpc: send JSON-RPC 2.0 with POST "
                    "(Content-Type: application/json), or use GET /ws for a WebSocket", Allow="POST")


async def read_body(request: web.Request, limit: int) -> bytes | None:
    """The body, or None when it is larger than `limit` (read no further than that)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(65536)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def handle_rpc(request: web.Request) -> web.Response:
    limit = request.app[MAX_BODY_KEY]
    body = await read_body(request, limit)
    if body is None:
        return too_large(limit)
    charge = request.get(BATCH_CHARGE_KEY)  # over TCP a batch pays one rate unit per call
    if charge is not None and (refusal := charge(body)) is not None:
        return refused_for_rate(refusal)
    caller = caller_of(request)
    if caller.transport == "tcp" and caller.token_name is None and request.content_type != JSON:
        # trust_loopback lets tokenless calls in: a browser's cross-site form post must not be one
        return not_json(request.content_type)
    ctx = CallContext(
        request_id=request[REQUEST_ID_KEY],
        scope=caller.scope,
        transport=caller.transport,
        peer=caller.peer,
        token_name=caller.token_name,
    )
    answer = await request.app[DISPATCHER_KEY].dispatch(body, ctx)
    if answer is None:
        return web.Response(status=204)
    return web.Response(text=answer, content_type=JSON)
