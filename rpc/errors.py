"""JSON-RPC error codes: the standard ones and the appliance's own."""

from __future__ import annotations

from typing import Any

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
UNAUTHORIZED = -32001
NOT_FOUND = -32002
NOT_ALLOWED = -32003
PRINTER_UNAVAILABLE = -32004
RATE_LIMITED = -32005

MESSAGES = {
    PARSE_ERROR: "Parse error",
    INVALID_REQUEST: "Invalid Request",
    METHOD_NOT_FOUND: "Method not found",
    INVALID_PARAMS: "Invalid params",
    INTERNAL_ERROR: "Internal error",
    UNAUTHORIZED: "Unauthorized",
    NOT_FOUND: "Not found",
    NOT_ALLOWED: "Not allowed in the current state",
    PRINTER_UNAVAILABLE: "Printer unavailable",
    RATE_LIMITED: "Rate limited",
}

_MISSING: Any = object()


class RpcError(Exception):
    """An error that goes to the caller as a JSON-RPC error object.

    Raised by method implementations (server side) and by the client when the
    server answers with an error.
    """

    code: int = INTERNAL_ERROR

    def __init__(self, message: str | None = None, data: Any = _MISSING, *, code: int | None = None):
        if code is not None:
            self.code = code
        self.message = message or MESSAGES.get(self.code, "Error")
        self.data = data
        super().__init__(self.message)

    @property
    def has_data(self) -> bool:
        return self.data is not _MISSING

    def to_error_object(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.has_data:
            error["data"] = self.data
        return error

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code}, {self.message!r})"


class InvalidParams(RpcError):
    """A parameter is wrong: `data` names the field and the reason."""

    code = INVALID_PARAMS

    def __init__(self, field: str, reason: str, message: str | None = None, **extra: Any):
        self.field = field
        self.reason = reason
        super().__init__(message or f"Invalid params: {field}: {reason}", {"field": field, "reason": reason, **extra})


class Unauthorized(RpcError):
    code = UNAUTHORIZED


class NotFound(RpcError):
    code = NOT_FOUND


class NotAllowed(RpcError):
    code = NOT_ALLOWED


class PrinterUnavailable(RpcError):
    code = PRINTER_UNAVAILABLE


class RateLimited(RpcError):
    code = RATE_LIMITED


_BY_CODE: dict[int, type[RpcError]] = {
    UNAUTHORIZED: Unauthorized,
    NOT_FOUND: NotFound,
    NOT_ALLOWED: NotAllowed,
    PRINTER_UNAVAILABLE: PrinterUnavailable,
    RATE_LIMITED: RateLimited,
}


def error_from_object(error: dict[str, Any]) -> RpcError:
    """Rebuild a client-side exception from a JSON-RPC error object."""
    code = int(error.get("code", INTERNAL_ERROR))
    message = str(error.get("message", ""))
    data = error.get("data", _MISSING)
    cls = _BY_CODE.get(code)
    return cls(message, data) if cls is not None else RpcError(message, data, code=code)
