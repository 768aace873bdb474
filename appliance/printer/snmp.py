"""Probe a Brother printer over SNMP: one GET for the status block and the standard printer OIDs.

Messages are built and parsed with pysnmp's protocol layer (`pysnmp.proto.api`, BER by pyasn1)
and sent from one UDP socket per event loop and address family; answers are matched to their
request by request id and sender. pysnmp's high-level API (`hlapi`: SnmpEngine, MIB controller,
message-processing subsystems) is not used: on the development VM it cost ≈5–6 ms of CPU per
nine-OID GET, against ≈3 ms here (≈1.4 ms for the two status OIDs), and ≈11 MiB more memory
once imported; a Raspberry Pi probes every printer once a second while it prints. pysnmp is imported
on the first probe (≈60 ms), never at module import.

Version "auto" starts with v2c and alternates with v1 on each timed-out try, so an
unreachable printer costs `timeout × (retries + 1)` whatever the version; the version
that answered is remembered per address.
"""

from __future__ import annotations

import asyncio
import importlib
import ipaddress
import random
import socket
import sys
import time
import weakref
from dataclasses import dataclass, field
from typing import Any, Literal

Version = Literal["auto", "v2c", "v1"]

OID_STATUS_BLOCK = "1.3.6.1.4.1.2435.3.3.9.1.6.1.0"
OID_SYS_DESCR = "1.3.6.1.2.1.1.1.0"
OID_SYS_NAME = "1.3.6.1.2.1.1.5.0"
OID_HR_DEVICE_STATUS = "1.3.6.1.2.1.25.3.2.1.5.1"
OID_HR_PRINTER_STATUS = "1.3.6.1.2.1.25.3.5.1.1.1"
OID_HR_DETECTED_ERRORS = "1.3.6.1.2.1.25.3.5.1.2.1"
OID_SERIAL = "1.3.6.1.2.1.43.5.1.1.17.1"
OID_PAGE_COUNT = "1.3.6.1.2.1.43.10.2.1.4.1.1"
OID_DEVICE_ID = "1.3.6.1.4.1.2435.2.3.9.1.1.7.0"

STATUS_FIELDS = ("status_block", "page_count")  # what changes from one probe to the next
PROBE_OIDS: dict[str, str] = {
    "status_block": OID_STATUS_BLOCK,
    "sys_descr": OID_SYS_DESCR,
    "sys_name": OID_SYS_NAME,
    "hr_device_status": OID_HR_DEVICE_STATUS,
    "hr_printer_status": OID_HR_PRINTER_STATUS,
    "detected_error_state": OID_HR_DETECTED_ERRORS,
    "serial": OID_SERIAL,
    "page_count": OID_PAGE_COUNT,
    "device_id": OID_DEVICE_ID,
}

HR_DEVICE_STATUS = {1: "unknown", 2: "running", 3: "warning", 4: "testing", 5: "down"}
HR_PRINTER_STATUS = {1: "other", 2: "unknown", 3: "idle", 4: "printing", 5: "warmup"}
# hrPrinterDetectedErrorState (RFC 3805 BITS): bit 0 is the MSB of the first byte.
DETECTED_ERROR_BITS = (
    "lowPaper",
    "noPaper",
    "lowToner",
    "noToner",
    "doorOpen",
    "jammed",
    "offline",
    "serviceRequested",
    "inputTrayMissing",
    "outputTrayMissing",
    "markerSupplyMissing",
    "outputNearFull",
    "outputFull",
    "inputTrayEmpty",
    "overduePreventMaint",
)


class SnmpError(Exception):
    """The printer gave no usable SNMP answer."""


@dataclass(frozen=True)
class SnmpProbe:
    host: str
    port: int
    version: Literal["v2c", "v1"]
    round_trip_ms: float
    tries: int
    status_block: bytes | None = None
    status: Any = None  # appliance.printer.status's parsed status, when the block parses
    status_error: str | None = None  # why the block did not parse
    sys_descr: str | None = None
    sys_name: str | None = None
    hr_device_status: int | None = None
    hr_printer_status: int | None = None
    detected_error_state: tuple[str, ...] = ()
    device_id: dict[str, str] = field(default_factory=dict)
    serial: str | None = None
    page_count: int | None = None
    missing: tuple[str, ...] = ()  # probe fields the agent does not have

    @property
    def hr_device_status_name(self) -> str | None:
        return None if self.hr_device_status is None else HR_DEVICE_STATUS.get(self.hr_device_status)

    @property
    def hr_printer_status_name(self) -> str | None:
        return None if self.hr_printer_status is None else HR_PRINTER_STATUS.get(self.hr_printer_status)


def decode_error_bits(data: bytes) -> tuple[str, ...]:
    names: list[str] = []
    for index, name in enumerate(DETECTED_ERROR_BITS):
        byte = index // 8
        if byte < len(data) and data[byte] & (0x80 >> (index % 8)):
            names.append(name)
    return tuple(names)


def parse_device_id(text: str) -> dict[str, str]:
    """`MFG:Brother;CMD:PJL;MDL:PT-P750W;` → {"MFG": "Brother", ...} (IEEE 1284 device id)."""
    result: dict[str, str] = {}
    for part in text.split(";"):
        key, sep, value = part.partition(":")
        if sep and key.strip():
            result[key.strip()] = value.strip()
    return result


# --- the socket, one per event loop and address family ----------------------------------

_MP_MODEL = {"v1": 0, "v2c": 1}  # the message version field of each
ERROR_STATUS = {1: "tooBig", 2: "noSuchName", 3: "badValue", 4: "readOnly", 5: "genErr", 6: "noAccess"}
_versions: dict[tuple[str, int], Literal["v2c", "v1"]] = {}
_NEEDED = ("pysnmp.proto.api", "pyasn1.codec.ber.decoder", "pyasn1.codec.ber.encoder")


class _Endpoint(asyncio.DatagramProtocol):
    """A UDP socket shared by every probe on one loop; answers are matched by request id and sender."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.pending: dict[int, tuple[tuple[str, int], asyncio.Future[Any]]] = {}
        self._ids = random.randrange(1, 2**30)

    def next_id(self) -> int:
        self._ids = self._ids % (2**31 - 2) + 1  # request-id is an Integer32; stay positive
        return self._ids

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        try:
            version, pdu, request_id = _decode(data)
        except Exception:  # not an SNMP answer we can read: a stray datagram, dropped
            return
        waiting = self.pending.get(request_id)
        if waiting is None or waiting[0] != (addr[0], addr[1]) or waiting[1].done():
            return  # late (timed out), or from somebody we did not ask
        waiting[1].set_result((version, pdu))

    def error_received(self, exc: Exception) -> None:
        pass  # ICMP port unreachable and the like: the request times out, as on a real network

    def connection_lost(self, exc: Exception | None) -> None:
        for _, future in self.pending.values():
            if not future.done():
                future.set_exception(SnmpError("the SNMP socket closed"))


_endpoints: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, _Endpoint]] = weakref.WeakKeyDictionary()


async def _endpoint(family: int) -> _Endpoint:
    loop = asyncio.get_running_loop()
    per_family = _endpoints.setdefault(loop, {})
    endpoint = per_family.get(family)
    if endpoint is None or endpoint.transport is None or endpoint.transport.is_closing():
        local = ("::", 0) if family == socket.AF_INET6 else ("0.0.0.0", 0)
        _, endpoint = await loop.create_datagram_endpoint(_Endpoint, local_addr=local, family=family)
        per_family[family] = endpoint
    return endpoint


def load() -> None:
    """Import what a probe needs (≈60 ms); the server does it in a thread before its first probe."""
    for module in _NEEDED:
        importlib.import_module(module)


def loaded() -> bool:
    return all(module in sys.modules for module in _NEEDED)


def close_sockets() -> None:
    """Close the running loop's SNMP sockets (the server does at stop). The next probe opens new ones."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    for endpoint in _endpoints.pop(loop, {}).values():
        if endpoint.transport is not None:
            endpoint.transport.close()


# --- one GET --------------------------------------------------------------------------


class _Timeout(Exception):
    pass


_requests: dict[tuple[str, str, tuple[str, ...]], Any] = {}  # built once; only the request id changes


def _encode(version: Literal["v2c", "v1"], community: str, oids: tuple[str, ...], request_id: int) -> bytes:
    from pyasn1.codec.ber import encoder
    from pysnmp.proto.api import PROTOCOL_MODULES

    api = PROTOCOL_MODULES[_MP_MODEL[version]]
    key = (version, community, oids)
    message = _requests.get(key)
    if message is None:
        pdu = api.GetRequestPDU()
        api.apiPDU.set_defaults(pdu)
        api.apiPDU.set_varbinds(pdu, [(api.ObjectIdentifier(oid), api.null) for oid in oids])
        message = api.Message()
        api.apiMessage.set_defaults(message)
        api.apiMessage.set_community(message, community)
        api.apiMessage.set_pdu(message, pdu)
        _requests[key] = message
    api.apiPDU.set_request_id(api.apiMessage.get_pdu(message), request_id)
    return bytes(encoder.encode(message))


def _decode(data: bytes) -> tuple[int, Any, int]:
    """(message version, PDU, request id) of an SNMP v1/v2c answer; raises on anything else."""
    from pyasn1.codec.ber import decoder
    from pysnmp.proto.api import PROTOCOL_MODULES, decodeMessageVersion

    version = int(decodeMessageVersion(data))
    api = PROTOCOL_MODULES[version]
    message, _ = decoder.decode(data, asn1Spec=api.Message())
    pdu = api.apiMessage.get_pdu(message)
    return version, pdu, int(api.apiPDU.get_request_id(pdu))


async def _address(host: str, port: int) -> tuple[int, tuple[str, int]]:
    try:  # an address needs no lookup (getaddrinfo runs in a thread: a hop per probe)
        ip = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return (socket.AF_INET6 if ip.version == 6 else socket.AF_INET), (str(ip), port)
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except OSError as exc:
        raise SnmpError(f"cannot reach {host}:{port}: {exc}") from exc
    family, _, _, _, sockaddr = infos[0]
    return family, (str(sockaddr[0]), int(sockaddr[1]))


async def _get(
    host: str, port: int, community: str, version: Literal["v2c", "v1"], timeout: float, oids: list[str]
) -> dict[str, Any]:
    """One request, no retry: {oid: pysnmp value}; values may be NoSuchObject/NoSuchInstance."""
    from pysnmp.proto.api import PROTOCOL_MODULES

    family, address = await _address(host, port)
    endpoint = await _endpoint(family)
    api = PROTOCOL_MODULES[_MP_MODEL[version]].apiPDU
    remaining = list(oids)
    loop = asyncio.get_running_loop()
    while True:
        request_id = endpoint.next_id()
        future: asyncio.Future[Any] = loop.create_future()
        endpoint.pending[request_id] = (address, future)
        try:
            if endpoint.transport is None:
                raise SnmpError("the SNMP socket is not open")
            endpoint.transport.sendto(_encode(version, community, tuple(remaining), request_id), address)
            answered_version, pdu = await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise _Timeout from None
        finally:
            endpoint.pending.pop(request_id, None)
        if answered_version != _MP_MODEL[version]:
            raise SnmpError(f"{host}:{port} answered an SNMP {version} request in another version")
        status = int(api.get_error_status(pdu))
        index = int(api.get_error_index(pdu))
        if status == 2 and 0 < index <= len(remaining):  # v1 noSuchName: drop that OID and ask again
            remaining.pop(index - 1)
            if not remaining:
                return {}
            continue
        if status:
            name = ERROR_STATUS.get(status, str(status))
            raise SnmpError(f"SNMP {version} error from {host}:{port}: {name}")
        return {str(name): value for name, value in api.get_varbinds(pdu)}


# --- value conversion ----------------------------------------------------------------


def _present(value: Any) -> bool:
    from pysnmp.proto import rfc1905

    return value is not None and not isinstance(
        value, rfc1905.NoSuchObject | rfc1905.NoSuchInstance | rfc1905.EndOfMibView
    )


def _text(value: Any) -> str:
    return bytes(value.asOctets()).decode("utf-8", errors="replace").strip("\x00 ")


def _parse_status(block: bytes) -> tuple[Any, str | None]:
    from appliance.printer import status as status_module

    try:
        return status_module.parse_status(block), None
    except Exception as exc:  # a strange block must not cost the rest of the probe
        return None, f"{type(exc).__name__}: {exc}"


def _build(
    host: str,
    port: int,
    version: Literal["v2c", "v1"],
    rtt: float,
    tries: int,
    raw: dict[str, Any],
    asked: tuple[str, ...],
) -> SnmpProbe:
    got = {name: raw.get(PROBE_OIDS[name]) for name in asked}
    present = {name: value for name, value in got.items() if _present(value)}
    fields: dict[str, Any] = {"missing": tuple(name for name in asked if name not in present)}
    if "status_block" in present:
        block = bytes(present["status_block"].asOctets())
        fields["status_block"] = block
        fields["status"], fields["status_error"] = _parse_status(block)
    for name in ("sys_descr", "sys_name", "serial"):
        if name in present:
            fields[name] = _text(present[name])
    for name in ("hr_device_status", "hr_printer_status", "page_count"):
        if name in present:
            fields[name] = int(present[name])
    if "detected_error_state" in present:
        fields["detected_error_state"] = decode_error_bits(bytes(present["detected_error_state"].asOctets()))
    if "device_id" in present:
        fields["device_id"] = parse_device_id(_text(present["device_id"]))
    return SnmpProbe(host=host, port=port, version=version, round_trip_ms=rtt, tries=tries, **fields)


async def probe(
    host: str,
    *,
    port: int = 161,
    community: str = "public",
    timeout: float = 1.0,
    retries: int = 1,
    version: Version = "auto",
    fields: tuple[str, ...] = tuple(PROBE_OIDS),
) -> SnmpProbe:
    """GET the status block and the printer OIDs in one request. Raises SnmpError.

    `fields` (names from PROBE_OIDS) limits what is asked; the rest of the result stays empty.
    Costs at most about `timeout × (retries + 1)` when nothing answers.
    """
    if timeout <= 0 or retries < 0:
        raise ValueError("timeout must be > 0 and retries >= 0")
    unknown = [name for name in fields if name not in PROBE_OIDS]
    if unknown or not fields:
        raise ValueError(f"fields must be names from PROBE_OIDS, not {unknown or 'nothing'}")
    key = (host, port)
    tries = retries + 1
    oids = [PROBE_OIDS[name] for name in fields]
    for attempt in range(tries):
        if version != "auto":
            use: Literal["v2c", "v1"] = version
        elif key in _versions:
            use = _versions[key]
        else:
            use = "v2c" if attempt % 2 == 0 else "v1"
        started = time.perf_counter()
        try:
            raw = await _get(host, port, community, use, timeout, oids)
        except _Timeout:
            continue
        rtt = (time.perf_counter() - started) * 1000
        _versions[key] = use
        return _build(host, port, use, rtt, attempt + 1, raw, fields)
    _versions.pop(key, None)
    noun = "try" if tries == 1 else "tries"
    raise SnmpError(f"no SNMP answer from {host}:{port} after {tries} {noun}")
