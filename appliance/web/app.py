"""The aiohttp application: routes and middlewares. Knows HTTP, not the domain."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiohttp import web

from rpc.dispatcher import Dispatcher

from .health import READINESS_KEY, handle_healthz, handle_readiness
from .middleware import request_context
from .rpc_http import DISPATCHER_KEY, MAX_BODY_KEY, handle_rpc, wrong_method


def build(
    dispatcher: Dispatcher,
    readiness: Callable[[], Awaitable[dict[str, Any]]],
    *,
    max_body: int,
    extra_middlewares: Iterable[Any] = (),
    extra_routes: Iterable[web.RouteDef] = (),
) -> web.Application:
    app = web.Application(middlewares=[request_context, *extra_middlewares], client_max_size=max_body + 1024,
                          handler_args={"access_log": None})
    app[DISPATCHER_KEY] = dispatcher
    app[MAX_BODY_KEY] = max_body
    app[READINESS_KEY] = readiness
    app.add_routes([
        web.post("/rpc", handle_rpc),
        web.route("*", "/rpc", wrong_method),
        web.get("/healthz", handle_healthz),
        web.get("/readiness", handle_readiness),
        *extra_routes,
    ])
    return app
