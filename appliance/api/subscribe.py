"""server.subscribe: a snapshot of printers, recent jobs and the queue, then pushed notifications.

Only a WebSocket session can be subscribed (`ctx.session`, set by web/ws.py). The
session subscribes to the EventBus *before* the snapshot is taken, so no change is
missed; a client may then see an update the snapshot already shows, which is harmless.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from rpc.dispatcher import CallContext
from rpc.errors import NotAllowed

from ..events import SubscriberLimit

if TYPE_CHECKING:
    from ..app import Appliance

RECENT_JOBS = 20


class Session(Protocol):
    async def subscribe(self, topics: list[str]) -> None: ...

    async def unsubscribe(self) -> None: ...


def handlers(appliance: Appliance) -> dict[str, Any]:
    async def snapshot() -> dict[str, Any]:
        printers = [p.status_wire() for p in appliance.printers]
        jobs = (await appliance.queue.listing(None, None, None, RECENT_JOBS, None))["jobs"]
        return {"printers": printers, "jobs": jobs, "queue": await appliance.queue.status()}

    async def server_subscribe(ctx: CallContext, topics: list[str]) -> dict[str, Any]:
        session: Session | None = ctx.session
        if ctx.transport != "ws" or session is None:
            raise NotAllowed("server.subscribe needs a WebSocket: connect to GET /ws",
                             {"field": "transport", "reason": "server.subscribe works only over /ws"})
        wanted = list(dict.fromkeys(topics))
        try:
            await session.subscribe(wanted)
        except SubscriberLimit as exc:
            raise NotAllowed("Too many subscribers; try again later",
                             {"field": "topics", "reason": str(exc)}) from None
        try:
            state = await snapshot()
        except BaseException:
            await session.unsubscribe()
            raise
        return {"topics": wanted, "snapshot": state}

    return {"server.subscribe": server_subscribe}
