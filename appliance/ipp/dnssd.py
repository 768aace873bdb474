"""DNS-SD: each printer announced as an IPP Everywhere printer (`_ipp._tcp` with the `_print` subtype).

The TXT record holds the keys PWG 5100.14 lists, built as data (`txt_record`) so they can be
checked without a network. python-zeroconf is imported only when announcing. Nothing is
announced when the appliance listens on loopback only (nobody else could reach the printer),
or with `[ipp] advertise = false`; what happened is `status`, for readiness and `appliance check`.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

from .. import logs

log = logs.get("appliance.ipp")
SERVICE = "_ipp._tcp.local."
SUBTYPE = "_print._sub._ipp._tcp.local."


def instance_name(printer_name: str, host: str) -> str:
    """The service instance a print dialog lists: "shelf @ appliance" (at most 63 bytes)."""
    return f"{printer_name} @ {host}".encode()[:63].decode(errors="ignore")


def txt_record(runtime: Any, *, admin_url: str, auth: str, priority: int, note: str = "") -> dict[str, str]:
    """The TXT keys of PWG 5100.14 §4.2 for one printer."""
    from .documents import FORMATS  # here, not at import: the start imports this module, not these
    from .printer_attrs import _uuid

    model = runtime.model
    return {
        "txtvers": "1",
        "qtotal": "1",
        "rp": f"ipp/print/{runtime.name}",
        "ty": f"Brother {model.name}",
        "product": f"({model.name})",
        "pdl": ",".join(fmt for fmt in FORMATS),
        "UUID": _uuid(runtime.id),
        "URF": f"V1.4,CP1,W8,SRGB24,RS{model.dpi},IS1,MT1",
        "Color": "F",
        "Duplex": "F",
        "kind": "label",
        "note": note,
        "adminurl": admin_url,
        "priority": str(priority),
        "air": "username,password" if auth == "token" else "none",
        "TLS": "",
        "mopria-certified": "",
    }


def service_info(runtime: Any, *, hostname: str, port: int, auth: str, priority: int,
                 addresses: list[str] | None) -> Any:
    """The zeroconf ServiceInfo of one printer (nothing is sent by making it)."""
    from zeroconf import ServiceInfo

    name = instance_name(runtime.name, hostname)
    return ServiceInfo(SUBTYPE, f"{name}.{SERVICE}", port=port, server=f"{hostname}.local.",
                       properties=txt_record(runtime, admin_url=f"http://{hostname}.local:{port}/", auth=auth,
                                             priority=priority),
                       parsed_addresses=addresses)


def loopback_only(host: str) -> bool:
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Announcer:
    """Registers every printer at start, withdraws them at stop."""

    def __init__(self, *, enabled: bool, host: str, port: int, auth: str) -> None:
        self.enabled = enabled
        self.host = host
        self.port = port
        self.auth = auth
        self.status = "off: [ipp] advertise = false" if not enabled else \
            f"not announced: the appliance listens on {host} only" if loopback_only(host) else "not started"
        self.announced: list[str] = []
        self.problem: str | None = None
        self._zeroconf: Any = None
        self._infos: list[Any] = []

    async def start(self, printers: list[Any]) -> None:
        if not self.enabled:
            return
        if loopback_only(self.host):
            self.status = f"not announced: the appliance listens on {self.host} only"
            return
        try:
            from zeroconf.asyncio import AsyncZeroconf

            hostname = socket.gethostname().split(".")[0] or "appliance"
            addresses = None if self.host in ("*", "", "0.0.0.0", "::") else [self.host]
            self._zeroconf = AsyncZeroconf(interfaces=addresses) if addresses else AsyncZeroconf()
            for index, runtime in enumerate(printers):
                info = service_info(runtime, hostname=hostname, port=self.port, auth=self.auth, priority=index * 10,
                                    addresses=addresses)
                await self._zeroconf.async_register_service(info, allow_name_change=True)
                self._infos.append(info)
                self.announced.append(instance_name(runtime.name, hostname))
            self.status = "announced as _ipp._tcp: " + ", ".join(self.announced)
            log.info("ipp.dnssd_announced", printers=self.announced)
        except Exception as exc:  # the printers still work by address; say why nobody sees them
            self.problem = f"announcing failed: {type(exc).__name__}: {exc}"
            self.status = self.problem
            log.warning("ipp.dnssd_failed", error=str(exc))

    async def stop(self) -> None:
        if self._zeroconf is None:
            return
        try:
            for info in self._infos:
                await self._zeroconf.async_unregister_service(info)
            await self._zeroconf.async_close()
        finally:
            self._zeroconf = None
            self._infos.clear()
            self.announced.clear()
            self.status = "withdrawn"
