"""A stand-in for the server's `GET /ws` while appliance/web/ws.py is not there yet.

Implements the agreed protocol over the real dispatcher and event bus: JSON-RPC text
frames, `server.subscribe` → `{"topics", "snapshot"}` then notifications in order,
`notify_resync` on overflow. Used only when the appliance registers no /ws route.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from aiohttp import web

from rpc.dispatcher import CallContext
from rpc.wirejson import dumps


def has_ws_route(routes: list[Any]) -> bool:
    return any(getattr(r, "path", None) == "/ws" for r in routes)


def routes(appliance: Any) -> list[web.RouteDef]:
    async def handle(request: web.Request) -> web.WebSocketResponse:
        from appliance.web.caller import caller_of

        ws = web.WebSocketResponse(heartbeat=20)
        await ws.prepare(request)
        caller = caller_of(request)
        ctx = CallContext(request_id="ws", scope=caller.scope, transport=caller.transport, peer=caller.peer)
        lock = asyncio.Lock()
        pump: asyncio.Task[None] | None = None
        sub: Any = None
        tasks: set[asyncio.Task[Any]] = set()

        async def send(text: str) -> None:
            async with lock:
                if not ws.closed:
                    await ws.send_str(text)

        async def call(method: str, params: dict[str, Any] | None = None) -> Any:
            body = json.dumps({"jsonrpc": "2.0", "method": method, "params": params or {}, "id": 1})
            answer = json.loads(await appliance.dispatcher.dispatch(body, ctx))
            return answer["result"]

        async def run_pump(subscription: Any) -> None:
            while True:
                event = await subscription.get()
                if subscription.overflowed:
                    subscription.overflowed = False
                    await send(dumps({"jsonrpc": "2.0", "method": "notify_resync",
                                      "params": {"dropped": subscription.dropped}}))
                    continue
                await send(dumps({"jsonrpc": "2.0", "method": event.name, "params": event.payload}))

        async def subscribe(message: dict[str, Any]) -> None:
            nonlocal pump, sub
            topics = list((message.get("params") or {}).get("topics") or [])
            if pump is not None:
                pump.cancel()
            if sub is not None:
                sub.close()
            sub = appliance.events.subscribe(topics)
            snapshot: dict[str, Any] = {}
            if "printers" in topics:
                snapshot["printers"] = [await call("printer.status", {"printer_id": p.id})
                                        for p in appliance.printers]
            if "jobs" in topics:
                snapshot["jobs"] = (await call("job.list", {"limit": 20}))["jobs"]
            if "queue" in topics:
                snapshot["queue"] = await call("queue.status")
            await send(dumps({"jsonrpc": "2.0", "result": {"topics": topics, "snapshot": snapshot},
                              "id": message.get("id")}))
            pump = asyncio.get_running_loop().create_task(run_pump(sub))

        async def one(text: str) -> None:
            try:
                message = json.loads(text)
            except ValueError:
                message = None
            if isinstance(message, dict) and message.get("method") == "server.subscribe":
                await subscribe(message)
                return
            answer = await appliance.dispatcher.dispatch(text, ctx)
            if answer is not None:
                await send(answer)

        try:
            async for msg in ws:
                if msg.type == web.WSMsgType.TEXT:
                    task = asyncio.get_running_loop().create_task(one(msg.data))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
        finally:
            if pump is not None:
                pump.cancel()
            for task in tasks:
                task.cancel()
            if sub is not None:
                sub.close()
            with contextlib.suppress(Exception):
                await ws.close()
        return ws

    return [web.get("/ws", handle)]


def install(monkeypatch: Any) -> None:
    """Make every Appliance built from now on serve /ws (the shim unless the real one is wired)."""
    from appliance.app import Appliance

    original = Appliance.web_routes

    def web_routes(self: Any) -> list[Any]:
        found = list(original(self))
        return found if has_ws_route(found) else found + routes(self)

    monkeypatch.setattr(Appliance, "web_routes", web_routes)
