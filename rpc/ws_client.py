"""A JSON-RPC 2.0 client over the appliance's WebSocket (`GET /ws`), with subscriptions.

    client = WsClient(socket_path="/run/appliance/rpc.sock")   # or WsClient("http://box:8631", token=...)
    client.add_listener(print)              # Snapshot / Notification / ConnectionState events, in order
    await client.connect(timeout=5)
    snapshot = await client.subscribe(["printers", "jobs", "queue"])
    info = await client.call("server.info")
    async for event in client.events(): ...
    await client.close()

One supervisor task owns the connection: it connects, re-subscribes after every
(re)connect (delivering a fresh `Snapshot` before any notification of that
connection), reads frames, matches answers to calls by id, and on loss fails the
calls in flight with `ConnectionLost` and reconnects with capped exponential
backoff. `notify_resync` (the server dropped notifications for us) triggers a new
`server.subscribe` and so a fresh snapshot. Listeners run in the event loop and
must not block; an exception in one is swallowed so it cannot kill the reader.

Imports only aiohttp and the rest of `rpc`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from .address import server_url
from .errors import INTERNAL_ERROR, RpcError, error_from_object
from .trust import CertificateRefused, KnownHosts, refusal_for, ssl_for
from .wirejson import dumps, loads

# connection states
CONNECTING = "connecting"
CONNECTED = "connected"
DISCONNECTED = "disconnected"  # lost or refused; a retry is scheduled
CLOSED = "closed"  # close() was called; no more retries


class ConnectionLost(RpcError):
    """The WebSocket is not connected, or dropped before the answer came."""

    code = INTERNAL_ERROR


@dataclass(frozen=True)
class ConnectionState:
    state: str
    where: str
    detail: str = ""
    attempt: int = 0  # consecutive failed attempts so far
    retry_in: float | None = None  # seconds until the next attempt (DISCONNECTED only)

    @property
    def connected(self) -> bool:
        return self.state == CONNECTED


@dataclass(frozen=True)
class Snapshot:
    """The answer to server.subscribe: every later notification applies on top of it."""

    topics: tuple[str, ...]
    data: dict[str, Any]
    generation: int  # 1 for the first snapshot, +1 for each later one (reconnect, resync)


@dataclass(frozen=True)
class Notification:
    method: str
    params: dict[str, Any] = field(default_factory=dict)


Event = ConnectionState | Snapshot | Notification
Listener = Callable[[Event], Any]

_END = object()


class WsClient:
    def __init__(
        self,
        url: str | None = None,
        *,
        socket_path: str | None = None,
        token: str | None = None,
        call_timeout: float = 30.0,
        connect_timeout: float = 5.0,
        backoff_initial: float = 0.25,
        backoff_max: float = 10.0,
        heartbeat: float | None = 20.0,
        reconnect: bool = True,
        topics: Sequence[str] = (),
        fingerprint: str | None = None,
        known_hosts: KnownHosts | None = None,
    ) -> None:
        """`fingerprint` and `known_hosts`: how an https:// appliance is trusted (see rpc.trust.ssl_for)."""
        if (url is None) == (socket_path is None):
            raise ValueError("give exactly one of url or socket_path")
        self.url = None if url is None else server_url(url)  # BadAddress (a ValueError) says what to give
        self.socket_path = socket_path
        self._token = token
        self.call_timeout = call_timeout
        self.connect_timeout = connect_timeout
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.heartbeat = heartbeat
        self.reconnect = reconnect
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._subscribe_ids: set[int] = set()
        self._topics: tuple[str, ...] = tuple(topics)  # subscribed on every (re)connect
        self._generation = 0
        self._listeners: list[Listener] = []
        self._queues: list[asyncio.Queue[Any]] = []
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._side_tasks: set[asyncio.Task[Any]] = set()
        self._connected = asyncio.Event()
        self._closing = False
        self.state = ConnectionState(CONNECTING, self.where)
        self.connects = 0  # successful connections so far
        self._last_snapshot: dict[str, Any] = {}
        self._fingerprint = fingerprint
        self._known = known_hosts or KnownHosts()
        self._ssl: Any = None  # decided on the first connect: True, or the pinned certificate's Fingerprint

    # --- addressing --------------------------------------------------------------------------

    @property
    def where(self) -> str:
        return f"unix:{self.socket_path}" if self.socket_path else str(self.url)

    @property
    def endpoint(self) -> str:
        if self.socket_path is not None:
            return "http://localhost/ws"
        base = (self.url or "").rstrip("/")
        for suffix in ("/rpc", "/ws"):
            if base.endswith(suffix):
                base = base[: -len(suffix)]
        return base + "/ws"

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"} if self._token and not self.socket_path else {}

    @property
    def connected(self) -> bool:
        return self._ws is not None and not self._ws.closed and self._connected.is_set()

    @property
    def topics(self) -> tuple[str, ...]:
        return self._topics

    # --- events ------------------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(event)` for every event; returns a function that removes it."""
        self._listeners.append(listener)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return remove

    async def events(self) -> AsyncIterator[Event]:
        """Every event from now on, in order, until close()."""
        queue: asyncio.Queue[Any] = asyncio.Queue()
        self._queues.append(queue)
        try:
            while True:
                item = await queue.get()
                if item is _END:
                    return
                yield item
        finally:
            with contextlib.suppress(ValueError):
                self._queues.remove(queue)

    def _emit(self, event: Event) -> None:
        for listener in list(self._listeners):
            try:
                result = listener(event)
                if asyncio.iscoroutine(result):
                    self._spawn(result)
            except Exception:  # a listener's bug must not kill the connection
                pass
        for queue in list(self._queues):
            queue.put_nowait(event)

    def _set_state(self, state: str, detail: str = "", attempt: int = 0, retry_in: float | None = None) -> None:
        self.state = ConnectionState(state, self.where, detail, attempt, retry_in)
        self._emit(self.state)

    # --- life cycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Start connecting in the background (idempotent)."""
        if self._closing:
            raise ConnectionLost("the client is closed")
        if self._supervisor is None:
            self._supervisor = asyncio.get_running_loop().create_task(self._supervise(), name="ws-client")

    async def connect(self, timeout: float | None = None) -> None:
        """Start, and wait until connected (and subscribed, when topics are set)."""
        self.start()
        try:
            await asyncio.wait_for(self._connected.wait(), timeout)
        except TimeoutError:
            raise ConnectionLost(f"cannot reach the appliance at {self.where}: {self.state.detail}") from None

    async def close(self) -> None:
        if self._closing and self._supervisor is None:
            return
        self._closing = True
        self._connected.clear()
        ws, self._ws = self._ws, None
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()
        task, self._supervisor = self._supervisor, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for side in list(self._side_tasks):
            side.cancel()
        if self._side_tasks:
            await asyncio.gather(*self._side_tasks, return_exceptions=True)
        self._fail_pending("the client was closed")
        if self._session is not None:
            await self._session.close()
            self._session = None
        self._set_state(CLOSED, "closed")
        for queue in list(self._queues):
            queue.put_nowait(_END)

    async def __aenter__(self) -> WsClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- calls -------------------------------------------------------------------------------

    async def call(self, method: str, params: dict[str, Any] | None = None, *, timeout: float | None = None) -> Any:
        """Call a method and return its result; RpcError for an error answer, ConnectionLost when not connected."""
        return await self._call(method, params, timeout=timeout)

    async def subscribe(self, topics: Sequence[str]) -> dict[str, Any]:
        """Subscribe (and re-subscribe after every reconnect); returns the snapshot.

        The snapshot is also delivered to listeners as a `Snapshot` event, before any
        notification that follows it.
        """
        self._topics = tuple(topics)
        if not self.connected:
            await self.connect(self.connect_timeout)
            # the supervisor subscribed as part of connecting
            return self._last_snapshot
        answer = await self._call("server.subscribe", {"topics": list(self._topics)}, subscribe=True)
        return (answer or {}).get("snapshot") or {}

    async def _call(self, method: str, params: dict[str, Any] | None, *, timeout: float | None = None,
                    subscribe: bool = False, ws: aiohttp.ClientWebSocketResponse | None = None) -> Any:
        ws = ws or (self._ws if self._connected.is_set() else None)
        if ws is None or ws.closed:
            raise ConnectionLost(f"not connected to the appliance at {self.where} ({self.state.state})")
        request_id = next(self._ids)
        request: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": request_id}
        if params:
            request["params"] = params
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        if subscribe:
            self._subscribe_ids.add(request_id)
        try:
            try:
                await ws.send_str(dumps(request))
            except (aiohttp.ClientError, ConnectionError, RuntimeError) as exc:
                raise ConnectionLost(f"connection to {self.where} lost: {exc}") from None
            try:
                return await asyncio.wait_for(future, timeout or self.call_timeout)
            except TimeoutError:
                raise ConnectionLost(f"no answer to {method} from {self.where} in time") from None
        finally:
            self._pending.pop(request_id, None)
            self._subscribe_ids.discard(request_id)

    def _fail_pending(self, why: str) -> None:
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(ConnectionLost(why))
        self._subscribe_ids.clear()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._side_tasks.add(task)
        task.add_done_callback(self._side_tasks.discard)

    # --- the supervisor ----------------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        delay = min(self.backoff_max, self.backoff_initial * (2 ** max(0, attempt - 1)))
        return delay * random.uniform(0.8, 1.0)

    async def _open(self) -> aiohttp.ClientWebSocketResponse:
        if self._session is None or self._session.closed:
            connector = aiohttp.UnixConnector(path=self.socket_path) if self.socket_path else None
            self._session = aiohttp.ClientSession(connector=connector)
        if self._ssl is None:
            self._ssl = True if self.url is None else (await ssl_for(self.url, fingerprint=self._fingerprint,
                                                                     known=self._known) or True)
        try:
            return await self._session.ws_connect(
                self.endpoint, headers=self.headers(), heartbeat=self.heartbeat, max_msg_size=64 * 1024 * 1024,
                ssl=self._ssl,
            )
        except aiohttp.ClientError as exc:
            refused = refusal_for(exc, self.url or "", self._known)
            if refused is not None:
                raise refused from None
            raise

    async def _supervise(self) -> None:
        attempt = 0
        while not self._closing:
            self._set_state(CONNECTING, "connecting", attempt)
            try:
                ws = await asyncio.wait_for(self._open(), self.connect_timeout)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                attempt += 1
                if not await self._wait_retry(attempt, _describe_failure(exc)):
                    return
                continue
            self._ws = ws
            reader = asyncio.get_running_loop().create_task(self._read(ws), name="ws-client-reader")
            try:
                if self._topics:
                    await self._call("server.subscribe", {"topics": list(self._topics)}, subscribe=True, ws=ws)
                attempt = 0
                self.connects += 1
                self._connected.set()
                self._set_state(CONNECTED, "connected")
                await reader
                why = "the appliance closed the connection"
                if ws.exception() is not None:
                    why = f"connection lost: {ws.exception()}"
            except asyncio.CancelledError:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await reader
                raise
            except RpcError as exc:
                why = f"subscribe failed: {exc.message}"
            except Exception as exc:
                why = f"connection lost: {exc}"
            finally:
                self._connected.clear()
            if not reader.done():
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await reader
            with contextlib.suppress(Exception):
                await ws.close()
            self._ws = None
            self._fail_pending(why)
            if self._closing:
                return
            attempt += 1
            if not await self._wait_retry(attempt, why):
                return

    async def _wait_retry(self, attempt: int, why: str) -> bool:
        if not self.reconnect:
            self._set_state(DISCONNECTED, why, attempt, None)
            return False
        delay = self._backoff(attempt)
        self._set_state(DISCONNECTED, why, attempt, round(delay, 2))
        await asyncio.sleep(delay)
        return not self._closing

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                try:
                    payload = loads(msg.data)
                except ValueError:
                    continue
                for item in payload if isinstance(payload, list) else [payload]:
                    if isinstance(item, dict):
                        self._handle(item)
            elif msg.type in (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING,
                              aiohttp.WSMsgType.CLOSED):
                break

    def _handle(self, item: dict[str, Any]) -> None:
        if "method" in item and "id" not in item:
            method = str(item["method"])
            params = item.get("params") or {}
            self._emit(Notification(method, params if isinstance(params, dict) else {"params": params}))
            if method == "notify_resync" and self._topics:
                self._spawn(self._resubscribe())
            return
        request_id = item.get("id")
        future = self._pending.get(request_id) if isinstance(request_id, int) else None
        if future is None or future.done():
            return
        if "error" in item and isinstance(item["error"], dict):
            future.set_exception(error_from_object(item["error"]))
            return
        result = item.get("result")
        if request_id in self._subscribe_ids and isinstance(result, dict):
            # deliver the snapshot now, in frame order: before any notification that follows it
            self._generation += 1
            self._last_snapshot = result.get("snapshot") or {}
            topics = tuple(result.get("topics") or self._topics)
            self._emit(Snapshot(topics, self._last_snapshot, self._generation))
        future.set_result(result)

    async def _resubscribe(self) -> None:
        with contextlib.suppress(RpcError):
            await self._call("server.subscribe", {"topics": list(self._topics)}, subscribe=True)


def _describe_failure(exc: BaseException) -> str:
    if isinstance(exc, CertificateRefused):
        return exc.message
    if isinstance(exc, aiohttp.WSServerHandshakeError):
        if exc.status in (401, 403):
            return f"refused (HTTP {exc.status}): check the token"
        if exc.status == 404:
            return "the appliance has no WebSocket endpoint (HTTP 404); is it up to date?"
        return f"WebSocket handshake failed (HTTP {exc.status})"
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    if isinstance(exc, (FileNotFoundError, ConnectionRefusedError)):
        return "not running (connection refused)"
    if isinstance(exc, aiohttp.ClientConnectorError):
        inner = exc.os_error
        if isinstance(inner, (FileNotFoundError, ConnectionRefusedError)):
            return "not running (connection refused)"
        return f"cannot connect: {inner.strerror or inner}"
    return f"cannot connect: {exc}"
