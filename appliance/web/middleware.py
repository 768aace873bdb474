"""Request ids, one log line per HTTP request (debug for passing health polls), no traceback to a caller."""

from __future__ import annotations

import itertools
import secrets
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from .. import logs

log = logs.get("appliance.http")
REQUEST_ID_KEY: web.RequestKey[str] = web.RequestKey("request_id", str)
POLLED_PATHS = frozenset(("/healthz", "/readiness", "/metrics"))  # polled for ever: debug lines when they pass

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


_ID_PREFIX = secrets.token_hex(3)
_id_counter = itertools.count(secrets.randbelow(1 << 24))


def new_request_id() -> str:
    """12 hex digits: a random prefix per process and a counter. Unique, not secret (a third of
    the cost of 6 random bytes per request, which is what it was)."""
    return f"{_ID_PREFIX}{next(_id_counter) & 0xFFFFFF:06x}"


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    request_id = new_request_id()
    request[REQUEST_ID_KEY] = request_id
    started = time.perf_counter()
    logs.bind_context(request_id=request_id)
    status = 500
    try:
        response = await handler(request)
        status = response.status
        response.headers["X-Request-Id"] = request_id
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    except ConnectionResetError:  # the client went away mid-request: nothing to answer, nothing wrong here
        log.info("http.client_gone", path=request.path)
        status = 499  # nginx's "client closed request"; the answer goes nowhere
        return web.Response(status=status)
    except Exception:
        log.exception("http.unhandled", path=request.path)
        status = 500
        return web.json_response(
            {"status": "fail", "error": "internal error", "request_id": request_id},
            status=500,
            headers={"X-Request-Id": request_id},
        )
    finally:
        if request.path not in ("/rpc", "/ws"):  # RPC calls get their own line with the method
            # a passing health poll is a debug line (a monitor polls every few seconds, for ever)
            emit = log.debug if status < 400 and request.path in POLLED_PATHS else log.info
            emit(
                "http.request",
                method=request.method,
                path=request.path,
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )
        logs.unbind_context("request_id")
