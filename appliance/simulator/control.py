"""The simulator's control endpoint: JSON-RPC 2.0 over HTTP (POST /), for tests and people.

Methods:
  sim.state → the whole state (knobs, status block, errors, printed labels and files)
  sim.set {cover_open?, tape?, tape_remaining_mm?, offline?, drop_after_bytes?, speed?,
           snmp_silent?, snmp_delay_ms?, resume_after_s?, cooling?} → the state after the change;
           with a USB port also {unplugged?, answers_status?} (appliance.simulator.usb)
Invalid params → -32602 with {"field": ..., "reason": ...} in error.data; nothing is changed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from aiohttp import web

from appliance.simulator.state import VirtualPrinter

PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS = -32700, -32600, -32601, -32602


class RpcError(Exception):
    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


def _params(params: Any) -> dict[str, Any]:
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise RpcError(INVALID_PARAMS, "Invalid params", {"field": "params", "reason": "must be an object"})
    return params


class Port(Protocol):
    """Knobs of a port beside the printer's own (the USB device's `unplugged`, …)."""

    def check(self, changes: dict[str, Any]) -> dict[str, Any]: ...

    def apply(self, changes: dict[str, Any]) -> None: ...

    def to_json(self) -> dict[str, Any]: ...


def methods(printer: VirtualPrinter, port: Port | None = None,
            port_knobs: tuple[str, ...] = ()) -> dict[str, Callable[[dict[str, Any]], Any]]:  # fmt: skip
    def whole() -> Any:
        return printer.to_json() | (port.to_json() if port is not None else {})

    def state(params: dict[str, Any]) -> Any:
        if params:
            field = next(iter(params))
            raise RpcError(INVALID_PARAMS, "Invalid params", {"field": field, "reason": "unknown parameter"})
        return whole()

    def set_(params: dict[str, Any]) -> Any:
        if not params:
            raise RpcError(INVALID_PARAMS, "Invalid params", {"field": "params", "reason": "nothing to set"})
        own = {name: value for name, value in params.items() if port is None or name not in port_knobs}
        try:
            theirs = port.check({n: v for n, v in params.items() if n not in own}) if port is not None else {}
            if own:
                printer.update(**own)
        except ValueError as exc:
            field, _, reason = str(exc).partition(": ")
            raise RpcError(INVALID_PARAMS, "Invalid params", {"field": field, "reason": reason}) from None
        if port is not None and theirs:
            port.apply(theirs)
        return whole()

    return {"sim.state": state, "sim.set": set_}


def _error(request_id: Any, exc: RpcError) -> dict[str, Any]:
    error: dict[str, Any] = {"code": exc.code, "message": exc.message}
    if exc.data is not None:
        error["data"] = exc.data
    return {"jsonrpc": "2.0", "id": request_id, "error": error}


def dispatch_one(table: dict[str, Callable[[dict[str, Any]], Any]], request: Any) -> dict[str, Any] | None:
    if not isinstance(request, dict) or request.get("jsonrpc") != "2.0" or not isinstance(request.get("method"), str):
        return _error(None, RpcError(INVALID_REQUEST, "Invalid Request"))
    is_notification = "id" not in request
    request_id = request.get("id")
    try:
        method = table.get(request["method"])
        if method is None:
            raise RpcError(METHOD_NOT_FOUND, "Method not found", {"method": request["method"]})
        result = method(_params(request.get("params")))
    except RpcError as exc:
        return None if is_notification else _error(request_id, exc)
    return None if is_notification else {"jsonrpc": "2.0", "id": request_id, "result": result}


def make_app(printer: VirtualPrinter, port: Port | None = None, port_knobs: tuple[str, ...] = ()) -> web.Application:
    table = methods(printer, port, port_knobs)

    async def handle(request: web.Request) -> web.Response:
        try:
            body = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            return web.json_response(_error(None, RpcError(PARSE_ERROR, "Parse error")))
        if isinstance(body, list):
            if not body:
                return web.json_response(_error(None, RpcError(INVALID_REQUEST, "Invalid Request")))
            replies = [reply for item in body if (reply := dispatch_one(table, item)) is not None]
            return web.json_response(replies) if replies else web.Response(status=204)
        reply = dispatch_one(table, body)
        return web.json_response(reply) if reply is not None else web.Response(status=204)

    app = web.Application()
    app.router.add_post("/", handle)
    return app


class ControlServer:
    def __init__(self, printer: VirtualPrinter, port: Port | None = None, port_knobs: tuple[str, ...] = ()) -> None:
        self.printer = printer
        self.port = port
        self.port_knobs = port_knobs
        self._runner: web.AppRunner | None = None
        self._address: tuple[str, int] | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> tuple[str, int]:
        self._runner = web.AppRunner(make_app(self.printer, self.port, self.port_knobs), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self._address = (host, self._runner.addresses[0][1])
        return self._address

    @property
    def url(self) -> str:
        if self._address is None:
            raise RuntimeError("the control endpoint is not running")
        host, port = self._address
        return f"http://{host}:{port}/"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
