"""stats.summary and readiness.check."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rpc.dispatcher import CallContext

from ..store import history

if TYPE_CHECKING:
    from ..app import Appliance


def handlers(appliance: Appliance) -> dict[str, Any]:
    async def stats_summary(ctx: CallContext, days: int = 7) -> dict[str, Any]:
        return await history.summary(appliance.db, days, [printer.model.family for printer in appliance.printers])

    async def readiness_check(ctx: CallContext) -> dict[str, Any]:
        return await appliance.readiness()

    return {"stats.summary": stats_summary, "readiness.check": readiness_check}
