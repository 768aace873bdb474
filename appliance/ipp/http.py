"""POST /ipp/print and /ipp/print/<printer>: HTTP in, IPP out.

The body is spooled (in memory up to 1 MiB, then a temporary file) with a bound, the IPP part
read, then the operation runs. Over TCP with `[ipp] auth = "token"` a request needs HTTP Basic
with an appliance token as its password (any user name); a refusal is HTTP 401 with
`WWW-Authenticate: Basic`, so CUPS and macOS ask for it. The unix socket needs nothing.
"""

from __future__ import annotations

import asyncio
import tempfile
from typing import IO, Any

from aiohttp import web

from rpc.errors import RpcError

from .. import logs
from ..web.caller import transport_of
from . import codec, codes
from .codec import Message, MessageError
from .dnssd import resource_path
from .operations import IppError, IppService, Request, response
from .printer_attrs import Endpoint

log = logs.get("appliance.ipp")
IPP_TYPE = "application/ipp"
SPOOL_IN_MEMORY = 1 << 20


class IppHttp:
    def __init__(self, appliance: Any) -> None:
        self.app = appliance
        self.service = IppService(appliance)
        self.settings = appliance.settings.ipp

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/ipp/print", self.handle), web.post("/ipp/print/{printer}", self.handle)]

    def _runtime(self, name: str | None) -> Any:
        printers = self.app.printers
        if not name:
            return printers[0] if printers else None
        return next((p for p in printers if p.name == name), None)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        asked = request.match_info.get("printer")  # aiohttp decodes it: /ipp/print/Front%20desk -> "Front desk"
        if request.content_type != IPP_TYPE:
            return web.Response(status=400, text="an IPP request has Content-Type: application/ipp\n")
        transport, peer = transport_of(request)
        try:  # the 8-byte header is judged before the credentials: a client that cannot be answered at all
            head = await request.content.readexactly(8)  # (version, request-id 0) hears so, not 401 first
        except asyncio.IncompleteReadError as exc:
            head = exc.partial
        refusal = _refusal(head)
        if refusal is not None:
            log.warning("ipp.bad_request", reason=refusal.reason, printer=asked or "")
            return _ipp(response(_placeholder(head), refusal.status, refusal.reason))
        may_change = True
        if transport == "tcp" and self.settings.auth == "token":  # before the printer is looked up: a
            grant = await self.app.access.basic_grant(request, peer)  # stranger learns no printer's name
            if grant is None:
                return web.Response(status=401, text="send an appliance token as the password (any user name)\n",
                                    headers={"WWW-Authenticate": 'Basic realm="appliance", charset="UTF-8"'})
            may_change = grant.scope != "read"
        runtime = self._runtime(asked)
        if runtime is None:
            names = ", ".join(p.name for p in self.app.printers)
            return web.Response(status=404, text=f"no such printer; the printers are {names}\n")
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 - closed below
        spool.write(head)
        try:
            return await self._answer(request, spool, runtime, transport, may_change)
        finally:
            spool.close()

    async def _answer(self, request: web.Request, spool: IO[bytes], runtime: Any, transport: str,
                      may_change: bool) -> web.StreamResponse:
        limit = self.settings.max_document_bytes + codec.MAX_ATTRIBUTES_BYTES
        total = spool.tell()
        too_large = False
        async for chunk in request.content.iter_chunked(64 * 1024):
            total += len(chunk)
            if total > limit:
                too_large = True
                break
            spool.write(chunk)
        spool.seek(0)
        head = spool.read(8)
        spool.seek(0)
        placeholder = _placeholder(head)
        if too_large:
            log.warning("ipp.too_large", printer=runtime.name, limit=limit)
            return _ipp(response(placeholder, codes.REQUEST_ENTITY_TOO_LARGE,
                                 f"the request is larger than {self.settings.max_document_bytes} bytes "
                                 "([ipp] max_document_bytes)"))
        try:
            message = codec.read_message(spool)
            _check_operation_group(message)
        except MessageError as exc:
            log.warning("ipp.bad_request", reason=exc.reason, printer=runtime.name)
            return _ipp(response(placeholder, exc.status, exc.reason))
        endpoint = self._endpoint(request, runtime, transport)
        try:
            answer = await self.service.handle(Request(message, spool, runtime, endpoint, may_change))
        except IppError as exc:
            if exc.status >= codes.INTERNAL_ERROR or exc.status in (codes.BAD_REQUEST,):
                log.warning("ipp.refused", op=codes.OPERATIONS.get(message.code, hex(message.code)),
                            status=codes.STATUS_NAMES.get(exc.status, hex(exc.status)), reason=exc.message)
            answer = response(message, exc.status, exc.message, exc.unsupported)
        except RpcError as exc:  # what the queue refuses (shutting down, a damaged database): in its words
            log.warning("ipp.refused", op=codes.OPERATIONS.get(message.code, hex(message.code)), reason=exc.message)
            answer = response(message, codes.NOT_POSSIBLE, exc.message)
        except Exception:
            log.exception("ipp.internal_error", op=codes.OPERATIONS.get(message.code, hex(message.code)))
            answer = response(message, codes.INTERNAL_ERROR, "internal error; the appliance's log says more")
        return _ipp(answer)

    def _endpoint(self, request: web.Request, runtime: Any, transport: str) -> Endpoint:
        host = request.host if transport == "tcp" else "localhost"
        tls = request.secure  # [server] tls on: the same listener serves ipps://
        return Endpoint(printer_uri=f"ipp{'s' if tls else ''}://{host}/{resource_path(runtime.name)}",
                        more_info=f"http{'s' if tls else ''}://{host}/readiness",
                        authentication="basic" if self.settings.auth == "token" and transport == "tcp" else "none",
                        security="tls" if tls else "none")


def _placeholder(head: bytes) -> Message:
    """A message with the request's version, code and id, to answer with (zeros where they are missing)."""
    head = head.ljust(8, b"\x00")
    return Message((head[0], head[1]), int.from_bytes(head[2:4], "big"), int.from_bytes(head[4:8], "big", signed=True))


def _refusal(head: bytes) -> MessageError | None:
    """What is wrong with the first 8 bytes of a request (RFC 8011 §4.1.1, §4.1.8), or None."""
    if len(head) < 8:
        return MessageError(codes.BAD_REQUEST, "not an IPP message (shorter than its header)")
    if head[0] not in (1, 2):
        return MessageError(codes.VERSION_NOT_SUPPORTED, f"IPP {head[0]}.{head[1]} is not supported: 1.1 and 2.0 are")
    if int.from_bytes(head[4:8], "big", signed=True) <= 0:
        return MessageError(codes.BAD_REQUEST, "request-id must be 1 or more")
    return None


def _check_operation_group(message: Message) -> None:
    """RFC 8011 §4.1.4: charset then natural language first; a request id; a target."""
    group = message.groups[0] if message.groups else None
    if group is None or group.tag != codec.OPERATION_GROUP or len(group.attributes) < 2:
        raise MessageError(codes.BAD_REQUEST, "the operation attributes are missing")
    first, second = group.attributes[0], group.attributes[1]
    if first.name != "attributes-charset" or second.name != "attributes-natural-language":
        raise MessageError(codes.BAD_REQUEST, "attributes-charset and attributes-natural-language must come first")
    if str(first.value).lower() not in ("utf-8", "us-ascii"):
        raise MessageError(0x040D, f"charset {first.value} is not supported (utf-8)")
    if group.get("printer-uri") is None and group.get("job-uri") is None:
        raise MessageError(codes.BAD_REQUEST, "printer-uri (or job-uri) is required")


def _ipp(message: Message) -> web.Response:
    return web.Response(body=codec.encode_message(message), content_type=IPP_TYPE)
