"""GET /ws: JSON-RPC 2.0 over a WebSocket, plus server notifications from the EventBus.

One reader task per connection answers requests in order through the same
Dispatcher as POST /rpc. `server.subscribe` (api/subscribe.py) parks a new
EventBus subscription on the session; it goes live only once the answer with the
snapshot has been sent, so the snapshot always comes first. A pump task then
forwards events. Its buffer is the subscription's bounded queue: a client that
falls behind is told `notify_resync {"dropped": N}` and unsubscribed (it calls
server.subscribe again for a fresh snapshot); one that stops reading altogether
is cut off when a send cannot finish within `send_timeout`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

from rpc.dispatcher import CallContext, Dispatcher
from rpc.wirejson import dumps, loads

from .. import logs
from ..config import AuthSettings
from ..events import Event, EventBus, Subscription
from .auth import GRANT_KEY, AccessGuard, Grant, rate_limited_error
from .caller import caller_of
from .middleware import new_request_id

log = logs.get("appliance.ws")

HEARTBEAT_S = 20.0
SEND_TIMEOUT_S = 10.0
CLOSE_TIMEOUT_S = 2.0
REVOKED = 4001  # private-use close code: the token this connection opened with is gone


class WsHub:
    """Owns every open WebSocket session; builds them from requests and closes them at shutdown."""

    def __init__(self, dispatcher: Dispatcher, bus: EventBus, guard: AccessGuard, settings: AuthSettings) -> None:
        self.dispatcher = dispatcher
        self.bus = bus
        self.guard = guard
        self.buffer = settings.ws_buffer
        self.max_message = settings.ws_max_message_bytes
        self.heartbeat = HEARTBEAT_S
        self.send_timeout = SEND_TIMEOUT_S
        self.sessions: set[WsSession] = set()
        self.opened = 0
        self.resyncs = 0
        self.cut_off = 0
        self._text_seq = -1
        self._text = ""

    def notification_text(self, event: Event) -> str:
        """The wire text of an event, serialised once however many sessions send it."""
        if event.seq != self._text_seq:
            self._text = dumps({"jsonrpc": "2.0", "method": event.name, "params": event.payload})
            self._text_seq = event.seq
        return self._text

    async def handle(self, request: web.Request) -> web.StreamResponse:
        caller = caller_of(request)
        origin = request.headers.get("Origin")
        if caller.transport == "tcp" and caller.token_name is None and origin is not None and (
            urlsplit(origin).netloc != request.host
        ):
            # trust_loopback lets tokenless calls in; browsers open WebSockets to any site, so a web
            # page of another origin must not get one (scripts send no Origin, or a token)
            return web.json_response({"error": "cross-origin WebSocket without a token", "origin": origin},
                                     status=403)
        ws = web.WebSocketResponse(heartbeat=self.heartbeat, max_msg_size=self.max_message, timeout=CLOSE_TIMEOUT_S)
        await ws.prepare(request)
        session = WsSession(self, request, ws)
        self.sessions.add(session)
        self.opened += 1
        try:
            await session.run()
        finally:
            self.sessions.discard(session)
            await session.cleanup()
        return ws

    async def close_all(self) -> None:
        """At shutdown: tell every client we are going away (bounded: stuck clients are cut off)."""
        sessions = list(self.sessions)
        await asyncio.gather(*(s.close(1001, "server shutting down") for s in sessions), return_exceptions=True)


class WsSession:
    """One WebSocket connection: what CallContext.session is for calls that arrive on it."""

    def __init__(self, hub: WsHub, request: web.Request, ws: web.WebSocketResponse) -> None:
        self.hub = hub
        self.request = request
        self.ws = ws
        self.caller = caller_of(request)
        self.grant: Grant | None = request.get(GRANT_KEY)
        self.topics: tuple[str, ...] = ()
        self.messages = 0
        self.started = time.monotonic()
        self.close_reason = "client closed"
        self._subscription: Subscription | None = None
        self._pending: Subscription | None = None
        self._pump: asyncio.Task[None] | None = None
        self._send_lock = asyncio.Lock()

    # --- what server.subscribe uses ---------------------------------------------------------

    async def subscribe(self, topics: list[str]) -> None:
        """Replace this connection's subscription; it goes live after the answer is sent."""
        await self.unsubscribe()
        self._pending = self.hub.bus.subscribe(topics, buffer=self.hub.buffer, label=self.caller.peer)
        self.topics = tuple(topics)

    async def unsubscribe(self) -> None:
        pump, self._pump = self._pump, None
        if pump is not None:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump
        for sub in (self._subscription, self._pending):
            if sub is not None:
                sub.close()
        self._subscription = self._pending = None
        self.topics = ()

    def _activate(self) -> None:
        if self._pending is None:
            return
        self._subscription, self._pending = self._pending, None
        self._pump = asyncio.get_running_loop().create_task(self._forward(self._subscription), name="ws-pump")

    # --- reading ----------------------------------------------------------------------------

    async def run(self) -> None:
        log.info("ws.open", peer=self.caller.peer, transport=self.caller.transport, token_name=self.caller.token_name)
        async for message in self.ws:
            if message.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                self.messages += 1
                if not await self._answer(message.data):
                    break
                self._activate()
            elif message.type == WSMsgType.ERROR:
                self.close_reason = f"error: {type(message.data).__name__}"
                break

    async def _answer(self, data: str | bytes) -> bool:
        if self.grant is not None and not await self.hub.guard.still_valid(self.grant):
            await self.close(REVOKED, "token revoked")
            return False
        request_id = new_request_id()
        logs.bind_context(request_id=request_id)
        if self.caller.transport == "tcp":
            wait = self.hub.guard.take(self.caller.peer, self.grant)
            refusal = rate_limited_error(wait) if wait else self.hub.guard.charge_batch(
                self.caller.peer, self.grant, data)  # a batch pays one unit per call
            if refusal is not None:
                answer = limited_answer(data, refusal)
                return answer is None or await self.send(answer)
        ctx = CallContext(request_id=request_id, scope=self.caller.scope, transport="ws", peer=self.caller.peer,
                          token_name=self.caller.token_name, session=self)
        answer = await self.hub.dispatcher.dispatch(data, ctx)
        return answer is None or await self.send(answer)

    # --- writing ----------------------------------------------------------------------------

    async def send(self, text: str) -> bool:
        """Send one frame; a send that cannot finish in time means a stuck client: cut it off."""
        if self.ws.closed:
            return False
        async with self._send_lock:
            try:  # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancel
                async with asyncio.timeout(self.hub.send_timeout):
                    await self.ws.send_str(text)
            except TimeoutError:
                self._cut_off()
                return False
            except (ConnectionError, RuntimeError):
                return False
        return True

    async def _forward(self, sub: Subscription) -> None:
        while True:
            event = None if sub.overflowed else await sub.get()
            if sub.overflowed:
                await self._resync(sub)
                return
            if self.grant is not None and not await self.hub.guard.still_valid(self.grant):
                await self.close(REVOKED, "token revoked")
                return
            assert event is not None
            if not await self.send(self.hub.notification_text(event)):
                return

    async def _resync(self, sub: Subscription) -> None:
        dropped = sub.dropped
        sub.close()
        if self._subscription is sub:
            self._subscription = None
            self.topics = ()
        self.hub.resyncs += 1
        log.warning("ws.resync", peer=self.caller.peer, dropped=dropped, buffer=self.hub.buffer)
        await self.send(dumps({"jsonrpc": "2.0", "method": "notify_resync", "params": {"dropped": dropped}}))

    def _cut_off(self) -> None:
        self.hub.cut_off += 1
        self.close_reason = "stuck: a send did not finish in time"
        log.warning("ws.cut_off", peer=self.caller.peer, send_timeout_s=self.hub.send_timeout)
        transport = self.request.transport
        if transport is not None:
            transport.abort()

    async def close(self, code: int, reason: str) -> None:
        self.close_reason = reason
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT_S + 1.0):
                await self.ws.close(code=code, message=reason.encode())
        except (TimeoutError, ConnectionError, RuntimeError):
            self._cut_off()

    async def cleanup(self) -> None:
        await self.unsubscribe()
        log.info("ws.closed", peer=self.caller.peer, messages=self.messages, reason=self.close_reason,
                 duration_s=round(time.monotonic() - self.started, 3))


def limited_answer(data: str | bytes, error: dict[str, Any]) -> str | None:
    """The −32005 `error` for every request (not notification) in a message, keeping their ids."""
    try:
        payload: Any = loads(data)
    except ValueError:
        payload = None
    members = payload if isinstance(payload, list) else [payload]
    errors = [{"jsonrpc": "2.0", "error": error,
               "id": m.get("id") if isinstance(m, dict) else None}
              for m in members if not (isinstance(m, dict) and "id" not in m)]
    if not errors:
        return None
    return dumps(errors if isinstance(payload, list) else errors[0])
