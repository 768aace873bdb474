"""A JSON-RPC 2.0 dispatcher that follows the specification to the letter.

Method calls run through jsonrpcserver 5.0.9's `call` (its Result types and
JsonRpcError), but everything around it is done here because 5.0.9 falls short:
it answers a batch with an invalid member with one error instead of an array,
sends exception text to the client, raises on results that are not JSON, never
checks parameter types, and validates every request with jsonschema (~100 µs).

Handlers are `async def handler(ctx: CallContext, **params) -> result`. They raise
`rpc.errors.RpcError` (or a subclass) for errors the caller should see; any other
exception becomes −32603 carrying only the request id, which the log line carries too.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from jsonrpcserver.async_dispatcher import call as _jsonrpcserver_call
from jsonrpcserver.exceptions import JsonRpcError
from jsonrpcserver.request import Request
from jsonrpcserver.result import Success
from jsonrpcserver.sentinels import NODATA

from . import contract
from .errors import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    InvalidParams,
    RpcError,
    Unauthorized,
)
from .schema import SchemaError, validate_object
from .wirejson import WireError, dumps, loads

Handler = Callable[..., Awaitable[Any]]

MAX_BATCH = 1000


@dataclass
class CallContext:
    """Who is calling and over what. `scope` is "trusted" (unix socket), "admin", "read" or None."""

    request_id: str
    scope: str | None = "trusted"
    transport: str = "unix"
    peer: str | None = None
    token_name: str | None = None
    session: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    def may_call(self, method: contract.Method) -> bool:
        if self.scope in ("trusted", "admin"):
            return True
        return self.scope == "read" and not method.admin


@dataclass(frozen=True)
class CallRecord:
    """What the dispatcher tells its observer about each call (for the log line)."""

    method: str | None
    request_id: str
    duration_ms: float
    code: int | None
    notification: bool


class Dispatcher:
    def __init__(
        self,
        handlers: dict[str, Handler],
        *,
        on_call: Callable[[CallRecord], None] | None = None,
        on_internal_error: Callable[[str, str, BaseException], None] | None = None,
        catalogue: dict[str, contract.Method] | None = None,
        known_failure: Callable[[BaseException], RpcError | None] | None = None,
    ) -> None:
        self._catalogue = catalogue if catalogue is not None else contract.CATALOGUE
        missing = set(handlers) - set(self._catalogue)
        if missing:
            raise ValueError(f"handlers for methods not in the contract: {sorted(missing)}")
        self._handlers = handlers
        self._on_call = on_call
        self._on_internal_error = on_internal_error
        # a failure of the server's own that has words for the caller (a full disk), not a bug
        self._known_failure = known_failure

    @property
    def methods(self) -> list[str]:
        return sorted(self._handlers)

    async def dispatch(self, body: str | bytes, ctx: CallContext) -> str | None:
        """Answer a request body; None means no response body (notifications only)."""
        try:
            payload = loads(body)
        except WireError as exc:
            return _error_json(None, PARSE_ERROR, "Parse error", {"reason": exc.reason})
        return await self.dispatch_payload(payload, ctx)

    async def dispatch_payload(self, payload: Any, ctx: CallContext) -> str | None:
        if isinstance(payload, list):
            if not payload:
                return _error_json(None, INVALID_REQUEST, "Invalid Request")
            if len(payload) > MAX_BATCH:
                return _error_json(None, INVALID_REQUEST, "Invalid Request", {"reason": f"batch over {MAX_BATCH}"})
            parts = []
            for member in payload:
                answer = await self._one(member, ctx)
                if answer is not None:
                    parts.append(answer)
            return "[" + ",".join(parts) + "]" if parts else None
        return await self._one(payload, ctx)

    async def _one(self, member: Any, ctx: CallContext) -> str | None:
        started = time.perf_counter()
        problem = _structure_problem(member)
        if problem is not None:
            request_id = member.get("id") if isinstance(member, dict) and _valid_id(member.get("id")) else None
            self._record(None, ctx, started, INVALID_REQUEST, False)
            return _error_json(request_id, INVALID_REQUEST, "Invalid Request", {"reason": problem})
        is_notification = "id" not in member
        request_id = member.get("id")
        name: str = member["method"]
        try:
            result = await self._call(name, member.get("params"), ctx)
        except RpcError as exc:
            self._record(name, ctx, started, exc.code, is_notification)
            if is_notification:
                return None
            return _error_json(request_id, exc.code, exc.message, exc.data if exc.has_data else NODATA)
        if is_notification:
            self._record(name, ctx, started, None, True)
            return None
        try:
            text = '{"jsonrpc":"2.0","result":' + dumps(result) + ',"id":' + dumps(request_id) + "}"
        except (TypeError, ValueError) as exc:
            self._internal(name, ctx, exc)
            self._record(name, ctx, started, INTERNAL_ERROR, False)
            return _error_json(request_id, INTERNAL_ERROR, "Internal error", {"request_id": ctx.request_id})
        self._record(name, ctx, started, None, False)
        return text

    async def _call(self, name: str, params: Any, ctx: CallContext) -> Any:
        method = self._catalogue.get(name)
        handler = self._handlers.get(name)
        if method is None or handler is None:
            raise RpcError("Method not found", {"method": name}, code=METHOD_NOT_FOUND)
        if not ctx.may_call(method):
            raise Unauthorized("This token may not call " + name, {"method": name, "needs": "admin"})
        kwargs = _named_params(method, params)
        try:
            validate_object(kwargs, method.params_schema, "")
        except SchemaError as exc:
            raise InvalidParams(exc.field, exc.reason) from None

        async def adapter(context: CallContext, **arguments: Any) -> Any:
            try:
                value = await handler(context, **arguments)
            except RpcError as exc:
                raise JsonRpcError(exc.code, exc.message, exc.data if exc.has_data else NODATA) from exc
            except Exception as exc:
                known = self._known_failure(exc) if self._known_failure is not None else None
                if known is not None:
                    raise JsonRpcError(known.code, known.message, known.data if known.has_data else NODATA) from exc
                self._internal(name, context, exc)
                raise JsonRpcError(INTERNAL_ERROR, "Internal error", {"request_id": context.request_id}) from exc
            return Success(value)

        outcome = await _jsonrpcserver_call(Request(name, kwargs, None), ctx, adapter)
        if hasattr(outcome, "_error"):
            error = outcome._error
            if error.data is NODATA:
                raise RpcError(error.message, code=error.code)
            raise RpcError(error.message, error.data, code=error.code)
        return outcome._value.result

    def _internal(self, name: str, ctx: CallContext, exc: BaseException) -> None:
        if self._on_internal_error is not None:
            self._on_internal_error(name, ctx.request_id, exc)

    def _record(self, name: str | None, ctx: CallContext, started: float, code: int | None, note: bool) -> None:
        if self._on_call is not None:
            elapsed = (time.perf_counter() - started) * 1000
            self._on_call(CallRecord(name, ctx.request_id, elapsed, code, note))


def _valid_id(value: Any) -> bool:
    return value is None or (isinstance(value, (str, int, float)) and not isinstance(value, bool))


def _structure_problem(member: Any) -> str | None:
    if not isinstance(member, dict):
        return "a request must be an object"
    if member.get("jsonrpc") != "2.0":
        return 'jsonrpc must be "2.0"'
    if not isinstance(member.get("method"), str):
        return "method must be a string"
    if "params" in member and not isinstance(member["params"], (list, dict)):
        return "params must be an array or an object"
    if "id" in member and not _valid_id(member["id"]):
        return "id must be a string, a number or null"
    extra = set(member) - {"jsonrpc", "method", "params", "id"}
    if extra:
        return f"unknown member {sorted(extra)[0]!r}"
    return None


def _named_params(method: contract.Method, params: Any) -> dict[str, Any]:
    if params is None:
        return {}
    if isinstance(params, dict):
        return params
    names = list(method.params)
    if len(params) > len(names):
        raise InvalidParams("params", f"takes at most {len(names)} positional parameters ({', '.join(names)})",
                            f"Invalid params: {method.name} takes at most {len(names)} parameters")
    return dict(zip(names, params, strict=False))


def _error_json(request_id: Any, code: int, message: str, data: Any = NODATA) -> str:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not NODATA:
        error["data"] = data
    return dumps({"jsonrpc": "2.0", "error": error, "id": request_id})
