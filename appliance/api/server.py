"""server.info and rpc.discover."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from rpc import API_VERSION, openrpc
from rpc.dispatcher import CallContext

from .. import __version__
from ..readiness import SAFE_MODE_TEXT

if TYPE_CHECKING:
    from ..app import Appliance


def handlers(appliance: Appliance) -> dict[str, Any]:
    discover_cache: dict[str, Any] = {}

    async def server_info(ctx: CallContext) -> dict[str, Any]:
        return {
            "name": "Label Appliance",
            "version": __version__,
            "api_version": API_VERSION,
            "uptime_s": round(time.monotonic() - appliance.started_monotonic, 3),
            "started_at": appliance.started_at,
            "printers": len(appliance.printers),
            "safe_mode": appliance.safe_mode,
            "safe_mode_reason": SAFE_MODE_TEXT if appliance.safe_mode else None,
            "virtual_printer": appliance.simulator is not None,
            "caller": {"transport": ctx.transport, "scope": ctx.scope},
            "tls": appliance.tls.describe() if appliance.tls is not None else None,
        }

    async def rpc_discover(ctx: CallContext) -> dict[str, Any]:
        if not discover_cache:
            discover_cache.update(openrpc.document(__version__))
        return discover_cache

    return {"server.info": server_info, "rpc.discover": rpc_discover}
