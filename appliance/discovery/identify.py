"""What answers at a printer URI (printer.add's and printer.update's probe, before anything is stored)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..config import SnmpSettings
from ..printer import snmp
from ..printer.monitor import port_open
from ..printer.status import StatusError, parse_status
from ..printer.transport import TransportError, open_transport
from . import snmp_scan
from .candidate import Candidate


class Unreachable(Exception):
    """Nothing usable answered at the address; the message says what was tried."""


class NotBrother(Exception):
    """Something answered, and it is no Brother PT/QL printer."""


@dataclass(frozen=True)
class Identity:
    model: str | None  # None: the printer could not say (no SNMP answer, or none asked)
    serial: str | None = None
    media: str | None = None
    note: str | None = None  # what a person should know: the status could not be read, say


async def identify(uri: str, snmp_settings: SnmpSettings, *, timeout: float, model_given: bool) -> Identity:
    """Raises InvalidURIError (a URI no transport opens), Unreachable or NotBrother."""
    parts = urlsplit(uri)
    transport = open_transport(uri, connect_timeout=timeout, status_timeout=timeout) \
        if parts.scheme.lower() == "usb" else open_transport(uri)
    scheme = parts.scheme.lower()
    if scheme == "tcp":
        return await _tcp(parts.hostname or "", parts.port or 9100, snmp_settings, timeout, model_given)
    if scheme == "usb":
        try:
            block = await asyncio.wait_for(transport.request_status(), timeout)
        except (TransportError, OSError, TimeoutError) as exc:
            raise Unreachable(f"{uri} does not answer: {exc or 'no status within ' + str(timeout) + ' s'}") from None
        if block is None:
            raise Unreachable(f"{uri} gave no status")
        try:
            status = parse_status(block)
        except StatusError as exc:
            raise NotBrother(f"{uri} answered something that is not a Brother status ({exc})") from None
        return Identity(status.model)
    if not model_given:  # file://: nothing to ask
        raise Unreachable(f"{uri} cannot say which printer it is: give model")
    return Identity(None)


async def _tcp(host: str, port: int, settings: SnmpSettings, timeout: float, model_given: bool) -> Identity:
    raster = asyncio.ensure_future(port_open(host, port, timeout)())
    answer: snmp.SnmpProbe | None = None
    why = "SNMP is off for it"
    if settings.enabled:
        await snmp_scan.ensure_loaded()
        try:
            answer = await snmp.probe(settings.host or host, port=settings.port, community=settings.community,
                                      timeout=max(0.2, timeout / 2), retries=1,
                                      version="v1" if settings.version == "1" else "auto",
                                      fields=snmp_scan.FIELDS)
        except (snmp.SnmpError, OSError) as exc:
            why = str(exc)
    opened = await raster
    if answer is not None:
        found = snmp_scan.from_probe(answer)
        if not isinstance(found, Candidate):
            raise NotBrother(f"{answer.host}:{answer.port} {found.why}")
        if not opened:
            raise Unreachable(f"{found.model} answers SNMP at {host}, but nothing accepts print jobs on port {port}")
        return Identity(found.model, found.serial, found.media)
    if not opened:
        raise Unreachable(f"nothing answers at {host}: port {port} refuses or does not answer, and {why}")
    if not model_given:
        raise Unreachable(f"{host}:{port} accepts connections but cannot say which printer it is ({why}): "
                          "give model, or the SNMP port and community it answers on")
    return Identity(None, note=f"its status cannot be read: {why}")
