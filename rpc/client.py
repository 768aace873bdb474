"""An async JSON-RPC client for the appliance: HTTP over TCP or over the unix socket.

    async with RpcClient(socket_path="/run/appliance/rpc.sock") as client:
        info = await client.call("server.info")
"""

from __future__ import annotations

import itertools
from typing import Any

import aiohttp

from .address import server_url
from .errors import INTERNAL_ERROR, RpcError, error_from_object
from .trust import CertificateRefused, KnownHosts, refusal_for, ssl_for
from .wirejson import dumpb, loads

__all__ = ["CertificateRefused", "RpcClient", "TransportFailure"]


class TransportFailure(RpcError):
    """The server could not be reached or answered with something that is not JSON-RPC."""

    code = INTERNAL_ERROR


class RpcClient:
    def __init__(
        self,
        url: str | None = None,
        *,
        socket_path: str | None = None,
        token: str | None = None,
        timeout: float = 30.0,
        fingerprint: str | None = None,
        known_hosts: KnownHosts | None = None,
    ) -> None:
        """`fingerprint` and `known_hosts`: how an https:// appliance is trusted (see rpc.trust.ssl_for)."""
        if (url is None) == (socket_path is None):
            raise ValueError("give exactly one of url or socket_path")
        self.url = None if url is None else server_url(url)  # BadAddress (a ValueError) says what to give
        self.socket_path = socket_path
        self._token = token
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._ids = itertools.count(1)
        self._session: aiohttp.ClientSession | None = None
        self._fingerprint = fingerprint
        self._known = known_hosts or KnownHosts()
        self._ssl: Any = None  # decided on the first call: True, or the pinned certificate's Fingerprint

    @property
    def endpoint(self) -> str:
        if self.socket_path is not None:
            return "http://localhost/rpc"
        base = (self.url or "").rstrip("/")
        return base if base.endswith("/rpc") else base + "/rpc"

    @property
    def where(self) -> str:
        return f"unix:{self.socket_path}" if self.socket_path else str(self.url)

    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        return headers

    async def _ensure(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.UnixConnector(path=self.socket_path) if self.socket_path else None
            self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout)
        return self._session

    async def call(self, method: str, params: dict[str, Any] | list[Any] | None = None) -> Any:
        request: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": next(self._ids)}
        if params:
            request["params"] = params
        answer = await self.post(request)
        if not isinstance(answer, dict):
            raise TransportFailure(f"unexpected answer from {self.where}")
        if "error" in answer:
            raise error_from_object(answer["error"])
        return answer.get("result")

    async def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        request: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params:
            request["params"] = params
        await self.post(request)

    async def post(self, payload: Any) -> Any:
        """Send any JSON payload (single, batch, notification) and return the decoded answer or None."""
        session = await self._ensure()
        if self._ssl is None:
            self._ssl = True if self.url is None else (await ssl_for(self.url, fingerprint=self._fingerprint,
                                                                     known=self._known) or True)
        try:
            async with session.post(self.endpoint, data=dumpb(payload), headers=self.headers(),
                                    ssl=self._ssl) as response:
                body = await response.read()
        except (aiohttp.ClientConnectionError, OSError) as exc:
            refused = refusal_for(exc, self.url or "", self._known)
            if refused is not None:
                raise refused from None
            if isinstance(exc, aiohttp.ServerDisconnectedError) and (self.url or "").startswith("http:"):
                raise TransportFailure(f"the appliance at {self.where} closed the connection without an answer: if "
                                       "it serves TLS ([server] tls), give its address as https://") from None
            raise TransportFailure(f"cannot reach the appliance at {self.where}: {exc}") from None
        except TimeoutError:
            raise TransportFailure(f"no answer from the appliance at {self.where} in time") from None
        if not body:
            return None
        try:
            return loads(body)
        except ValueError:
            raise TransportFailure(
                f"the appliance at {self.where} answered HTTP {response.status} with no JSON"
            ) from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> RpcClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
