"""GET /healthz (liveness: never touches DB, printer or SNMP) and GET /readiness (deep checks)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from rpc.wirejson import dumps

from .. import __version__

HEALTH_JSON = "application/health+json"
READINESS_KEY: web.AppKey[Callable[[], Awaitable[dict[str, Any]]]] = web.AppKey("readiness")


async def handle_healthz(request: web.Request) -> web.Response:
    return web.Response(text=dumps({"status": "pass", "version": __version__}), content_type=HEALTH_JSON)


async def handle_readiness(request: web.Request) -> web.Response:
    document = await request.app[READINESS_KEY]()
    status = 503 if document.get("status") == "fail" else 200
    return web.Response(text=dumps(document), status=status, content_type=HEALTH_JSON,
                        headers={"Cache-Control": "no-store"})
