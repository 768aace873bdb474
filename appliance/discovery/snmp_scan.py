"""SNMP discovery: a unicast sweep of a few addresses, or one broadcast GET per local network.

Both ask, in one GET, what names a Brother PT/QL: sysDescr, the IEEE 1284 device id, the serial and
the status block (model and loaded media). An agent that answers but is no Brother PT/QL is reported
as such (`Ignored`), not as a printer.

The broadcast goes out on a socket that `open_socket` makes; tests hand in a stub of it, so no test
ever broadcasts.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from ..printer import snmp
from ..printer.media import media_from_status
from .candidate import Candidate, brother_model, loaded_media

FIELDS = ("sys_descr", "serial", "device_id", "status_block")
Found = Callable[[Candidate], None]


@dataclass(frozen=True)
class Ignored:
    """An SNMP agent that answered and is not a Brother PT/QL printer."""

    address: str
    port: int
    why: str

    def to_wire(self) -> dict[str, Any]:
        return {"address": self.address, "snmp_port": self.port, "why": self.why}


def from_probe(probe: snmp.SnmpProbe) -> Candidate | Ignored:
    """What an SNMP answer says: a Brother PT/QL candidate, or why it is not one."""
    status = probe.status
    model = brother_model(getattr(status, "model", None), probe.device_id.get("MDL"),
                          probe.device_id.get("MODEL"), probe.sys_descr)
    if model is None:
        said = probe.device_id.get("MDL") or probe.sys_descr or "nothing that names a model"
        return Ignored(probe.host, probe.port, f"answers SNMP but is not a Brother PT/QL printer ({said!r})")
    media_id = None
    if status is not None:
        media = media_from_status(model, status.media_width_mm, status.media_type_code, status.media_length_mm)
        media_id = media.id if media else None
    return Candidate(model=model.name, uri=f"tcp://{probe.host}:9100", found_by={"snmp"}, serial=probe.serial or None,
                     address=probe.host, snmp_port=probe.port, media=media_id, family=model.family,
                     media_description=loaded_media(media_id, model.family) if status is not None else None)


async def ensure_loaded() -> None:
    if not snmp.loaded():  # ~60 ms of imports: off the event loop
        await asyncio.to_thread(snmp.load)


async def sweep(hosts: Iterable[str], *, port: int, community: str, timeout: float, found: Found,
                ignored: Callable[[Ignored], None]) -> None:
    """Ask every host at once (one v2c try, then a v1 one, each `timeout / 2`); report each answer as it comes."""
    await ensure_loaded()

    async def ask(host: str) -> None:
        try:
            probe = await snmp.probe(host, port=port, community=community, timeout=timeout / 2, retries=1,
                                     fields=FIELDS)
        except (snmp.SnmpError, OSError):
            return
        result = from_probe(probe)
        (found if isinstance(result, Candidate) else ignored)(result)  # type: ignore[arg-type]

    await asyncio.gather(*(ask(host) for host in hosts))


# --- broadcast -------------------------------------------------------------------------------


class DatagramSocket(Protocol):
    def sendto(self, data: bytes, address: tuple[str, int]) -> None: ...

    def close(self) -> None: ...


Received = Callable[[bytes, tuple[str, int]], None]
OpenSocket = Callable[[Received], Awaitable[DatagramSocket]]


class _Collector(asyncio.DatagramProtocol):
    def __init__(self, received: Received) -> None:
        self.received = received

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        self.received(data, (str(addr[0]), int(addr[1])))

    def error_received(self, exc: Exception) -> None:
        pass


async def open_broadcast_socket(received: Received) -> DatagramSocket:
    """A UDP socket allowed to broadcast (the real one; tests pass a stub instead)."""
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(lambda: _Collector(received), local_addr=("0.0.0.0", 0),
                                                       allow_broadcast=True)
    return transport  # type: ignore[return-value]


def decode_answer(data: bytes, sender: tuple[str, int], request_ids: dict[int, str]) -> snmp.SnmpProbe | None:
    """An answer to one of our broadcast GETs as a probe result, or None for anything else."""
    from pysnmp.proto.api import PROTOCOL_MODULES

    try:
        version, pdu, request_id = snmp._decode(data)
    except Exception:
        return None
    asked_version = request_ids.get(request_id)
    if asked_version is None:
        return None
    api = PROTOCOL_MODULES[version].apiPDU
    if int(api.get_error_status(pdu)):
        return None
    raw = {str(name): value for name, value in api.get_varbinds(pdu)}
    return snmp._build(sender[0], sender[1], "v1" if version == 0 else "v2c", 0.0, 1, raw, FIELDS)


async def broadcast(networks: Iterable[ipaddress.IPv4Network], *, port: int, community: str, window: float,
                    found: Found, ignored: Callable[[Ignored], None],
                    open_socket: OpenSocket = open_broadcast_socket) -> list[str]:
    """One GET (v2c, then v1 for old agents) to each network's broadcast address; answers for `window` s.
    Returns the broadcast addresses asked."""
    await ensure_loaded()
    request_ids: dict[int, str] = {}
    seen: set[tuple[str, int]] = set()

    def received(data: bytes, sender: tuple[str, int]) -> None:
        if sender in seen:
            return  # the v1 answer of an agent that answered v2c already
        probe = decode_answer(data, sender, request_ids)
        if probe is None:
            return
        seen.add(sender)
        result = from_probe(probe)
        (found if isinstance(result, Candidate) else ignored)(result)  # type: ignore[arg-type]

    sock = await open_socket(received)
    asked: list[str] = []
    oids = tuple(snmp.PROBE_OIDS[name] for name in FIELDS)
    try:
        base = int(time.monotonic() * 1000) % (2**30)
        for n, network in enumerate(networks):
            target = str(network.broadcast_address)
            for k, version in enumerate(("v2c", "v1")):
                request_id = base + 2 * n + k + 1
                request_ids[request_id] = version
                try:
                    sock.sendto(snmp._encode(version, community, oids, request_id), (target, port))
                except OSError:
                    continue
            asked.append(target)
        await asyncio.sleep(window)
    finally:
        sock.close()
    return asked
