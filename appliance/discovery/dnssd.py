"""DNS-SD discovery: Brother PT/QL printers announcing `_pdl-datastream._tcp`, `_printer._tcp` or `_ipp._tcp`.

python-zeroconf is imported only here, only when a local-network search runs (never for a CIDR sweep,
never at server start). It multicasts on the local network, so tests cover `from_service` (what a
service's TXT record says) and not the browse itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

from .candidate import Candidate, brother_model

SERVICE_TYPES = ("_pdl-datastream._tcp.local.", "_printer._tcp.local.", "_ipp._tcp.local.")


def _text(value: bytes | str | None) -> str | None:
    if value is None:
        return None
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value


def from_service(name: str, addresses: list[str], txt: Mapping[bytes | str, bytes | str | None],
                 port: int | None = None) -> Candidate | None:
    """A candidate from one resolved service: its TXT `ty`/`product`/`usb_MDL` must name a Brother PT/QL.
    A `_pdl-datastream._tcp` service's `port` is its raw port; the others' (IPP, LPD) are not: 9100."""
    record = {(_text(k) or "").lower(): _text(v) for k, v in txt.items()}
    if "brother" not in " ".join(filter(None, (record.get("usb_mfg"), record.get("ty"), record.get("mfg"),
                                                 name))).lower():
        return None
    model = brother_model(record.get("usb_mdl"), record.get("product"), record.get("ty"), record.get("mdl"), name)
    if model is None or not addresses:
        return None
    serial = record.get("sn") or record.get("serial") or None
    raw = port if port and "_pdl-datastream." in name else 9100
    return Candidate(model=model.name, uri=f"tcp://{addresses[0]}:{raw}", found_by={"dns-sd"}, serial=serial,
                     address=addresses[0], family=model.family)


async def browse(window: float, found: Callable[[Candidate], None]) -> None:
    """Browse the service types for `window` seconds, resolving each service as it appears."""
    from zeroconf import ServiceStateChange
    from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

    azc = AsyncZeroconf()
    tasks: set[asyncio.Task[None]] = set()

    async def resolve(service_type: str, name: str) -> None:
        info = AsyncServiceInfo(service_type, name)
        if await info.async_request(azc.zeroconf, int(window * 1000)):
            candidate = from_service(name, info.parsed_addresses(), info.properties or {}, info.port)
            if candidate is not None:
                found(candidate)

    def changed(zeroconf: object, service_type: str, name: str, state_change: object) -> None:
        if state_change is ServiceStateChange.Added:
            task = asyncio.get_running_loop().create_task(resolve(service_type, name))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    browser = AsyncServiceBrowser(azc.zeroconf, list(SERVICE_TYPES), handlers=[changed])
    try:
        await asyncio.sleep(window)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await browser.async_cancel()
        await azc.async_close()
