"""A small SNMP v1/v2c agent over UDP: GET, GETNEXT and GETBULK on a read-only MIB view.

The MIB is a callable returning {OID: pre-encoded BER value}; it is read afresh for
every request, so answers follow whatever the MIB reflects (the virtual printer).
A wrong community or an unsupported version is dropped silently, as real agents do.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import cast

from appliance.simulator import ber
from appliance.simulator.ber import Oid

log = logging.getLogger(__name__)

MibView = Callable[[], Mapping[Oid, bytes]]

GET, GETNEXT, RESPONSE, SET, GETBULK = 0xA0, 0xA1, 0xA2, 0xA3, 0xA5
V1, V2C = 0, 1
NO_ERROR, TOO_BIG, NO_SUCH_NAME, GEN_ERR, NOT_WRITABLE = 0, 1, 2, 5, 17
MAX_REPETITIONS = 64


def octets(data: bytes | str) -> bytes:
    return ber.tlv(ber.OCTET_STRING, data.encode() if isinstance(data, str) else data)


def integer(n: int) -> bytes:
    return ber.encode_int(ber.INTEGER, n)


def counter32(n: int) -> bytes:
    return ber.encode_int(ber.COUNTER32, n & 0xFFFFFFFF)


def timeticks(n: int) -> bytes:
    return ber.encode_int(ber.TIMETICKS, n & 0xFFFFFFFF)


def object_id(oid: Oid | str) -> bytes:
    return ber.encode_oid(ber.parse_oid(oid) if isinstance(oid, str) else oid)


@dataclass(frozen=True, slots=True)
class _Request:
    version: int
    community: bytes
    pdu_type: int
    request_id: int
    field1: int  # error-status, or non-repeaters for GETBULK
    field2: int  # error-index, or max-repetitions for GETBULK
    varbinds: list[tuple[Oid, bytes]]  # OID and the raw value TLV as sent


def _parse(data: bytes) -> _Request:
    message, _ = ber.read_tlv(data)
    version_tlv, community_tlv, pdu_tlv = ber.read_all(ber.expect(message, ber.SEQUENCE))
    version = ber.decode_int(ber.expect(version_tlv, ber.INTEGER))
    community = ber.expect(community_tlv, ber.OCTET_STRING)
    rid, f1, f2, vbl = ber.read_all(pdu_tlv.value)
    varbinds: list[tuple[Oid, bytes]] = []
    for vb in ber.read_all(ber.expect(vbl, ber.SEQUENCE)):
        name, value = ber.read_all(ber.expect(vb, ber.SEQUENCE))
        raw_value = ber.tlv(value.tag, value.value)
        varbinds.append((ber.decode_oid(ber.expect(name, ber.OBJECT_IDENTIFIER)), raw_value))
    return _Request(
        version=version,
        community=community,
        pdu_type=pdu_tlv.tag,
        request_id=ber.decode_int(ber.expect(rid, ber.INTEGER)),
        field1=ber.decode_int(ber.expect(f1, ber.INTEGER)),
        field2=ber.decode_int(ber.expect(f2, ber.INTEGER)),
        varbinds=varbinds,
    )


def _response(req: _Request, status: int, index: int, varbinds: list[tuple[Oid, bytes]]) -> bytes:
    vbl = b"".join(ber.tlv(ber.SEQUENCE, ber.encode_oid(oid) + value) for oid, value in varbinds)
    pdu = integer(req.request_id) + integer(status) + integer(index) + ber.tlv(ber.SEQUENCE, vbl)
    body = integer(req.version) + octets(req.community) + ber.tlv(RESPONSE, pdu)
    return ber.tlv(ber.SEQUENCE, body)


def _missing(oid: Oid, mib: Mapping[Oid, bytes]) -> bytes:
    """noSuchInstance when the object exists with other instances, noSuchObject otherwise."""
    parent = oid[:-1]
    if any(known[: len(parent)] == parent and len(known) == len(oid) for known in mib):
        return ber.tlv(ber.NO_SUCH_INSTANCE, b"")
    return ber.tlv(ber.NO_SUCH_OBJECT, b"")


def _next(oid: Oid, ordered: list[Oid]) -> Oid | None:
    for candidate in ordered:
        if candidate > oid:
            return candidate
    return None


def answer(
    data: bytes, mib: Mapping[Oid, bytes], community: bytes, versions: frozenset[int] = frozenset((V1, V2C))
) -> bytes | None:
    """The response datagram for one request datagram, or None to stay silent."""
    try:
        req = _parse(data)
    except (ber.BerError, ValueError) as exc:
        log.debug("snmp: dropping malformed datagram: %s", exc)
        return None
    if req.version not in versions or req.community != community:
        return None
    if req.pdu_type == GETBULK and req.version == V1:
        return None
    ordered = sorted(mib)
    end = ber.tlv(ber.END_OF_MIB_VIEW, b"")
    out: list[tuple[Oid, bytes]] = []

    if req.pdu_type == SET:
        status = NO_SUCH_NAME if req.version == V1 else NOT_WRITABLE
        return _response(req, status, 1 if req.varbinds else 0, req.varbinds)

    if req.pdu_type == GET:
        for i, (oid, _) in enumerate(req.varbinds, start=1):
            if oid in mib:
                out.append((oid, mib[oid]))
            elif req.version == V1:
                return _response(req, NO_SUCH_NAME, i, req.varbinds)
            else:
                out.append((oid, _missing(oid, mib)))
        return _response(req, NO_ERROR, 0, out)

    if req.pdu_type == GETNEXT:
        for i, (oid, _) in enumerate(req.varbinds, start=1):
            nxt = _next(oid, ordered)
            if nxt is not None:
                out.append((nxt, mib[nxt]))
            elif req.version == V1:
                return _response(req, NO_SUCH_NAME, i, req.varbinds)
            else:
                out.append((oid, end))
        return _response(req, NO_ERROR, 0, out)

    if req.pdu_type == GETBULK:
        non_rep = max(0, min(req.field1, len(req.varbinds)))
        reps = max(0, min(req.field2, MAX_REPETITIONS))
        for oid, _ in req.varbinds[:non_rep]:
            nxt = _next(oid, ordered)
            out.append((nxt, mib[nxt]) if nxt is not None else (oid, end))
        cursors = [oid for oid, _ in req.varbinds[non_rep:]]
        for _ in range(reps):
            if not cursors:
                break
            row: list[tuple[Oid, bytes]] = []
            for j, oid in enumerate(cursors):
                nxt = _next(oid, ordered)
                row.append((nxt, mib[nxt]) if nxt is not None else (oid, end))
                cursors[j] = nxt if nxt is not None else oid
            out.extend(row)
            if all(value == end for _, value in row):
                break
        return _response(req, NO_ERROR, 0, out)

    return _response(req, GEN_ERR, 0, req.varbinds)


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, agent: SnmpAgent) -> None:
        self.agent = agent
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.agent.received += 1
        if self.agent.silent():
            return
        reply = answer(data, self.agent.mib(), self.agent.community, self.agent.versions)
        if reply is None or self.transport is None:
            return
        delay = self.agent.delay_ms() / 1000
        self.agent.answered += 1
        if delay > 0:
            asyncio.get_running_loop().call_later(delay, self._send, reply, addr)
        else:
            self._send(reply, addr)

    def _send(self, reply: bytes, addr: tuple[str, int]) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(reply, addr)


class SnmpAgent:
    """Serves `mib` on a UDP socket. `silent()` and `delay_ms()` are read per request.

    `versions` limits the SNMP versions answered (an old v1-only printer drops v2c requests).
    """

    def __init__(
        self,
        mib: MibView,
        *,
        community: str = "public",
        silent: Callable[[], bool] = lambda: False,
        delay_ms: Callable[[], float] = lambda: 0,
        versions: tuple[str, ...] = ("v1", "v2c"),
    ) -> None:
        self.mib = mib
        self.community = community.encode()
        self.silent = silent
        self.delay_ms = delay_ms
        self.versions = frozenset({"v1": V1, "v2c": V2C}[name] for name in versions)
        self.received = 0
        self.answered = 0
        self._transport: asyncio.DatagramTransport | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> tuple[str, int]:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: _Protocol(self), local_addr=(host, port))
        self._transport = transport
        return self.address

    @property
    def address(self) -> tuple[str, int]:
        if self._transport is None:
            raise RuntimeError("the SNMP agent is not running")
        host, port = self._transport.get_extra_info("sockname")[:2]
        return host, port

    async def stop(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
