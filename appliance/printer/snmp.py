"""Probe a Brother printer over SNMP: one GET for the status block and the standard printer OIDs.

pysnmp is heavy (≈120 ms and ≈15 MiB to import), so it is imported on the first probe,
never at module import. One `SnmpEngine` serves the whole process (per event loop:
pysnmp binds its dispatcher to the loop that created it).

Version "auto" starts with v2c and alternates with v1 on each timed-out try, so an
unreachable printer costs `timeout × (retries + 1)` whatever the version; the version
that answered is remembered per address.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from pysnmp.hlapi.v3arch.asyncio import SnmpEngine

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

_MP_MODEL = {"v1": 0, "v2c": 1}


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


# --- the engine, one per process (per event loop) -------------------------------------

_engines: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SnmpEngine] = weakref.WeakKeyDictionary()
_versions: dict[tuple[str, int], Literal["v2c", "v1"]] = {}


def _engine() -> SnmpEngine:
    from pysnmp.hlapi.v3arch.asyncio import SnmpEngine

    loop = asyncio.get_running_loop()
    engine = _engines.get(loop)
    if engine is None:
        engine = SnmpEngine()
        _engines[loop] = engine
    return engine


def close_engine() -> None:
    """Release the running loop's engine (its UDP sockets). The next probe makes a new one."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    engine = _engines.pop(loop, None)
    if engine is not None:
        engine.close_dispatcher()


# --- one GET --------------------------------------------------------------------------


class _Timeout(Exception):
    pass


async def _get(
    host: str, port: int, community: str, version: Literal["v2c", "v1"], timeout: float, oids: list[str]
) -> dict[str, Any]:
    """One request, no retry: {oid: pysnmp value}; values may be NoSuchObject/NoSuchInstance."""
    from pysnmp.hlapi.v3arch.asyncio import (
        CommunityData,
        ContextData,
        ObjectIdentity,
        ObjectType,
        UdpTransportTarget,
        get_cmd,
    )
    from pysnmp.proto import errind

    try:
        target = await UdpTransportTarget.create((host, port), timeout=timeout, retries=0)
    except Exception as exc:  # pysnmp wraps resolution failures in its own error types
        raise SnmpError(f"cannot reach {host}:{port}: {exc}") from exc
    remaining = list(oids)
    values: dict[str, Any] = {}
    while remaining:
        err_ind, err_status, err_index, var_binds = await get_cmd(
            _engine(),
            CommunityData(community, mpModel=_MP_MODEL[version]),
            target,
            ContextData(),
            *[ObjectType(ObjectIdentity(oid)) for oid in remaining],
            lookupMib=False,
        )
        if isinstance(err_ind, errind.RequestTimedOut):
            raise _Timeout
        if err_ind:
            raise SnmpError(f"SNMP {version} request to {host}:{port} failed: {err_ind}")
        status = int(err_status)
        if status == 2 and 0 < int(err_index) <= len(remaining):  # v1 noSuchName: drop it and ask again
            remaining.pop(int(err_index) - 1)
            continue
        if status:
            raise SnmpError(f"SNMP {version} error from {host}:{port}: {err_status.prettyPrint()}")
        for name, value in var_binds:
            values[str(name)] = value
        break
    return values


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
    host: str, port: int, version: Literal["v2c", "v1"], rtt: float, tries: int, raw: dict[str, Any]
) -> SnmpProbe:
    got = {name: raw.get(oid) for name, oid in PROBE_OIDS.items()}
    present = {name: value for name, value in got.items() if _present(value)}
    fields: dict[str, Any] = {"missing": tuple(name for name in PROBE_OIDS if name not in present)}
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
) -> SnmpProbe:
    """GET the status block and the printer OIDs in one request. Raises SnmpError.

    Costs at most about `timeout × (retries + 1)` when nothing answers.
    """
    if timeout <= 0 or retries < 0:
        raise ValueError("timeout must be > 0 and retries >= 0")
    key = (host, port)
    tries = retries + 1
    oids = list(PROBE_OIDS.values())
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
        return _build(host, port, use, rtt, attempt + 1, raw)
    _versions.pop(key, None)
    noun = "try" if tries == 1 else "tries"
    raise SnmpError(f"no SNMP answer from {host}:{port} after {tries} {noun}")
