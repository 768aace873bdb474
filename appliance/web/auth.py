"""Access control for TCP: API tokens, rate limits and the per-address connection cap.

The unix socket is trusted (its file mode and group decide who may connect) and is
never limited. Over TCP every path but /healthz and /readiness needs a token in
`Authorization: Bearer …` or `X-Api-Key: …`. Without a valid one a request gets 401
whatever the method, with `data` saying whether no token came, the header was not a
token, or the token was not accepted: what the caller knows already. A wrong and a
revoked token get the very same answer, so nothing tells which tokens exist. A path
the appliance does not serve is 404 whatever the token: the paths are the same on
every appliance and documented, and a 401 there sent people hunting for a token
problem when they had mistyped the path.

The hot path stays cheap: a SHA-256 of the presented token and a dict lookup. Token
lookups are cached for at most `CACHE_TTL_S`, so a token revoked by the CLI (another
process) stops working within about a second; `last_used_at` is written at most
once a minute per token, because an SD card wears with every write.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import ipaddress
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from rpc.errors import INVALID_REQUEST, RATE_LIMITED, UNAUTHORIZED
from rpc.wirejson import dumps, loads

from .. import logs
from ..config import AuthSettings
from ..store import tokens as token_store
from ..store.db import Database
from .caller import CALLER_KEY, Caller, transport_of
from .limits import ConnectionCounter, RateLimiter

log = logs.get("appliance.auth")

OPEN_PATHS = frozenset({"/healthz", "/readiness"})
IPP_PATH = "/ipp/print"  # IPP asks for its credentials itself: HTTP Basic, the password a token
CACHE_TTL_S = 1.0
TOUCH_INTERVAL_S = 60.0
MAX_TOKEN_LENGTH = 256
MAX_CACHE = 4096
JSON = "application/json"

SEND = "send `Authorization: Bearer TOKEN` (or `X-Api-Key: TOKEN`)"


def _unauthorized_body(credentials: str, reason: str) -> str:
    error = {"code": UNAUTHORIZED, "message": "Unauthorized", "data": {"credentials": credentials, "reason": reason}}
    return dumps({"jsonrpc": "2.0", "error": error, "id": None})


# by what presented_token() found: None (no header), "" (a header that holds no token), a token not accepted
NO_TOKEN_BODY = _unauthorized_body(
    "missing", f"no token: {SEND}; create one on the appliance with `appliance token create NAME`")
NOT_A_TOKEN_BODY = _unauthorized_body(
    "malformed", f"the Authorization header is not `Bearer TOKEN`, or X-Api-Key is empty: {SEND}")
REFUSED_BODY = _unauthorized_body(
    "refused", "token not accepted (mistyped or revoked?): `appliance token list` on the appliance shows "
    "the tokens it knows; `appliance token create NAME` makes a new one")
NOT_FOUND_BODY = dumps({"jsonrpc": "2.0", "error": {
    "code": INVALID_REQUEST, "message": "Not Found",
    "data": {"field": "path", "reason": "no such path: the appliance serves POST /rpc, GET /ws, GET /healthz, "
             "GET /readiness, GET /metrics and (IPP) POST /ipp/print/PRINTER"}}, "id": None})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Grant:
    """What a request is allowed: scope, and the token (by name and hash) it came with, if any."""

    scope: str
    name: str | None = None
    token_hash: str | None = None


GRANT_KEY: web.RequestKey[Grant] = web.RequestKey("grant", Grant)
BatchCharge = Callable[[bytes], "dict[str, Any] | None"]
BATCH_CHARGE_KEY: web.RequestKey[BatchCharge] = web.RequestKey("batch_charge", object)  # type: ignore[arg-type]


def is_ipp_path(path: str) -> bool:
    return path == IPP_PATH or path.startswith(IPP_PATH + "/")


def basic_password(request: web.Request) -> str | None:
    """The password of `Authorization: Basic …` (any user name): None when there is none."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    import base64
    import binascii

    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ""
    return decoded.partition(":")[2]


def presented_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return ""  # present but not a bearer token: invalid, not missing
    key = request.headers.get("X-Api-Key")
    return key.strip() if key is not None else None


class Authenticator:
    """Token hash → Grant, from SQLite through a short-lived cache."""

    def __init__(self, db: Database, *, cache_ttl: float = CACHE_TTL_S, touch_interval: float = TOUCH_INTERVAL_S):
        self.db = db
        self.cache_ttl = cache_ttl
        self.touch_interval = touch_interval
        self._cache: dict[str, tuple[float, Grant | None]] = {}
        self._touched: dict[str, float] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.lookups = 0  # database look-ups, for tests and benchmarks

    async def grant(self, token: str) -> Grant | None:
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        return await self.grant_for_hash(token_store.hash_token(token))

    async def grant_for_hash(self, token_hash: str) -> Grant | None:
        now = time.monotonic()
        cached = self._cache.get(token_hash)
        if cached is not None and cached[0] > now:
            grant = cached[1]
        else:
            grant = await self._load(token_hash)
            if len(self._cache) >= MAX_CACHE:
                self._cache.clear()
            self._cache[token_hash] = (now + self.cache_ttl, grant)
        if grant is None or grant.token_hash is None or not hmac.compare_digest(grant.token_hash, token_hash):
            return None
        self._used(grant.name or "", now)
        return grant

    async def _load(self, token_hash: str) -> Grant | None:
        self.lookups += 1
        found = await token_store.lookup(self.db, token_hash)
        if found is None:
            return None
        name, scope, stored = found
        return Grant(scope=scope, name=name, token_hash=stored)

    def _used(self, name: str, now: float) -> None:
        last = self._touched.get(name)
        if last is not None and now - last < self.touch_interval:
            return
        self._touched[name] = now
        task = asyncio.get_running_loop().create_task(self._touch(name), name="token-touch")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _touch(self, name: str) -> None:
        try:
            await token_store.touch(self.db, name)
        except Exception as exc:  # last_used_at is a courtesy; never fail a request for it
            log.warning("auth.touch_failed", token_name=name, error=type(exc).__name__)

    async def stop(self) -> None:
        tasks = list(self._tasks)
        await asyncio.gather(*tasks, return_exceptions=True)


def unauthorized(token: str | None) -> web.Response:
    """401 for what presented_token() found: nothing, a header without a token, or a token not accepted."""
    body = NO_TOKEN_BODY if token is None else NOT_A_TOKEN_BODY if not token else REFUSED_BODY
    return web.Response(status=401, text=body, content_type=JSON, headers={"WWW-Authenticate": "Bearer"})


def not_found() -> web.Response:
    return web.Response(status=404, text=NOT_FOUND_BODY, content_type=JSON)


def rate_limited_error(retry_after: float) -> dict[str, Any]:
    return {"code": RATE_LIMITED, "message": "Rate limited", "data": {"retry_after_s": round(retry_after, 3)}}


def batch_size(data: str | bytes) -> int:
    """How many calls a JSON-RPC body holds (1 for a single call, or for what is not JSON at all)."""
    head = data.lstrip()[:1]
    if head not in (b"[", "["):
        return 1
    try:
        payload = loads(data)
    except ValueError:
        return 1
    return len(payload) if isinstance(payload, list) else 1


def rate_limited(retry_after: float) -> web.Response:
    return refused_for_rate(rate_limited_error(retry_after))


def refused_for_rate(error: dict[str, Any]) -> web.Response:
    """HTTP 429 carrying the −32005 `error`; Retry-After when waiting can help."""
    body = dumps({"jsonrpc": "2.0", "error": error, "id": None})
    retry_after = error.get("data", {}).get("retry_after_s")
    headers = {} if retry_after is None else {"Retry-After": str(max(1, math.ceil(retry_after)))}
    return web.Response(status=429, text=body, content_type=JSON, headers=headers)


def too_many_connections(limit: int) -> web.Response:
    error = {"code": RATE_LIMITED, "message": "Too many connections",
             "data": {"field": "connections", "reason": f"more than {limit} concurrent connections from this address",
                      "retry_after_s": 1.0}}
    return web.Response(status=429, text=dumps({"jsonrpc": "2.0", "error": error, "id": None}), content_type=JSON,
                        headers={"Retry-After": "1"})


class AccessGuard:
    """The middleware's state: authenticator, rate limiter, connection counter, settings."""

    def __init__(self, authenticator: Authenticator, settings: AuthSettings) -> None:
        self.auth = authenticator
        self.trust_loopback = settings.trust_loopback
        self.rates = RateLimiter(settings.rate_per_s, settings.rate_burst)
        self.connections = ConnectionCounter(settings.max_connections_per_address)
        self.throttled_log = logs.LogThrottle("appliance.auth", max_keys=MAX_CACHE)
        self.open_paths = OPEN_PATHS  # and /metrics with [metrics] public = true
        self.rate_limited = 0  # requests and calls refused for their rate, since start (for /metrics)
        self._loopback: dict[str, bool] = {}
        self.middleware = self._build_middleware()

    @classmethod
    def from_settings(cls, db: Database, settings: AuthSettings) -> AccessGuard:
        return cls(Authenticator(db), settings)

    def is_loopback(self, peer: str) -> bool:
        known = self._loopback.get(peer)
        if known is None:
            try:
                known = ipaddress.ip_address(peer.split("%", 1)[0]).is_loopback
            except ValueError:
                known = False
            if len(self._loopback) < MAX_CACHE:
                self._loopback[peer] = known
        return known

    def take(self, peer: str, grant: Grant | None, units: int = 1) -> float:
        """`units` from the address's bucket and the token's; the seconds to wait, 0.0, or inf (never)."""
        wait = self.rates.take("a:" + peer, units=units)
        if not wait and grant is not None and grant.name is not None:
            wait = self.rates.take("t:" + grant.name, units=units)
        if wait:
            self.rate_limited += units
            self.throttled_log("rate.limited", peer, token_name=grant.name if grant else None)
        return wait

    def charge_batch(self, peer: str, grant: Grant | None, data: str | bytes) -> dict[str, Any] | None:
        """A batch costs one unit per call: the request paid one; take the rest, or the error to answer."""
        size = batch_size(data)
        if size <= 1:
            return None
        if size > self.rates.burst:  # could never pass, however long the caller waited
            return {"code": RATE_LIMITED, "message": "Rate limited",
                    "data": {"field": "batch", "reason": f"{size} calls in one batch; over TCP a batch may "
                             f"hold at most {int(self.rates.burst)} (auth.rate_burst): send smaller batches"}}
        wait = self.take(peer, grant, size - 1)
        return rate_limited_error(wait) if wait else None

    async def authenticate(self, token: str | None, request: web.Request, peer: str) -> Grant | None:
        """The grant of `token` (what presented_token() found in `request`), None when refused."""
        if self.trust_loopback and self.is_loopback(peer):
            return Grant(scope="admin")
        if token is None:
            self.throttled_log("auth.denied", peer, reason="no token", path=request.path)
            return None
        grant = await self.auth.grant(token)
        if grant is None:
            self.throttled_log("auth.denied", peer, reason="unknown or revoked token", path=request.path)
        return grant

    async def basic_grant(self, request: web.Request, peer: str) -> Grant | None:
        """IPP over TCP: the grant of the token sent as the HTTP Basic password, None when refused."""
        if self.trust_loopback and self.is_loopback(peer):
            return Grant(scope="admin")
        token = basic_password(request)
        grant = await self.auth.grant(token) if token else None
        if grant is None:
            reason = "no credentials" if token is None else "unknown or revoked token"
            self.throttled_log("auth.denied", peer, reason=reason, path=request.path)
        return grant

    async def still_valid(self, grant: Grant) -> bool:
        """For long-lived connections: is the token they opened with still there?"""
        if grant.token_hash is None:
            return True
        return await self.auth.grant_for_hash(grant.token_hash) is not None

    def _build_middleware(self) -> Any:
        @web.middleware
        async def access_control(request: web.Request, handler: Handler) -> web.StreamResponse:
            if request.path in self.open_paths:
                return await handler(request)
            transport, peer = transport_of(request)
            if transport == "unix":
                request[CALLER_KEY] = Caller("unix", peer, "trusted")
                return await handler(request)
            if not self.connections.acquire(peer):
                self.throttled_log("connections.refused", peer, limit=self.connections.limit)
                return too_many_connections(self.connections.limit)
            try:
                wait = self.rates.take("a:" + peer)
                if wait:
                    self.rate_limited += 1
                    self.throttled_log("rate.limited", peer)
                    return rate_limited(wait)
                if isinstance(request.match_info.http_exception, web.HTTPNotFound):
                    return not_found()  # before the token: the paths are no secret, a 401 here misleads
                if is_ipp_path(request.path):  # HTTP Basic, checked by the IPP handler (appliance/ipp/http.py)
                    request[CALLER_KEY] = Caller("tcp", peer, None)
                    return await handler(request)
                token = presented_token(request)
                grant = await self.authenticate(token, request, peer)
                if grant is None:
                    return unauthorized(token)
                if grant.name is not None:
                    wait = self.rates.take("t:" + grant.name)
                    if wait:
                        self.rate_limited += 1
                        self.throttled_log("rate.limited", peer, token_name=grant.name)
                        return rate_limited(wait)
                request[CALLER_KEY] = Caller("tcp", peer, grant.scope, grant.name)
                request[GRANT_KEY] = grant
                request[BATCH_CHARGE_KEY] = functools.partial(self.charge_batch, peer, grant)
                return await handler(request)
            finally:
                self.connections.release(peer)

        return access_control

    async def stop(self) -> None:
        await self.auth.stop()
