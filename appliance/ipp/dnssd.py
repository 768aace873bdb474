"""DNS-SD: each printer announced as an IPP Everywhere printer (`_ipp._tcp` with the `_print` subtype;
`_ipps._tcp`, TXT `TLS=1.2` and an https adminurl when `[server] tls` is on).

The TXT record holds the keys PWG 5100.14 lists, built as data (`txt_record`) so they can be
checked without a network. python-zeroconf is imported only when announcing. Nothing is
announced when the appliance listens on loopback only (nobody else could reach the printer),
or with `[ipp] advertise = false`; what happened is `status`, for readiness and `appliance check`.
Printers added, changed or removed at run time are announced or withdrawn one by one (`add`, `remove`,
called by queue/roster.py).
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import quote

from .. import logs

log = logs.get("appliance.ipp")
SERVICE = "_ipp._tcp.local."
SUBTYPE = "_print._sub._ipp._tcp.local."
SERVICE_TLS = "_ipps._tcp.local."
SUBTYPE_TLS = "_print._sub._ipps._tcp.local."


def resource_path(printer_name: str) -> str:
    """The printer's path below the host, its name URL-encoded ("Front desk" -> ipp/print/Front%20desk)."""
    return f"ipp/print/{quote(printer_name, safe='')}"


def instance_name(printer_name: str, host: str) -> str:
    """The service instance a print dialog lists: "shelf @ appliance" (at most 63 bytes)."""
    return f"{printer_name} @ {host}".encode()[:63].decode(errors="ignore")


def txt_record(runtime: Any, *, admin_url: str, auth: str, priority: int, note: str = "",
               tls: bool = False) -> dict[str, str]:
    """The TXT keys of PWG 5100.14 §4.2 for one printer."""
    from .documents import FORMATS  # here, not at import: the start imports this module, not these
    from .printer_attrs import _uuid

    model = runtime.model
    return {
        "txtvers": "1",
        "qtotal": "1",
        "rp": resource_path(runtime.name),
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
        "TLS": "1.2" if tls else "",
        "mopria-certified": "",
    }


def service_info(runtime: Any, *, hostname: str, port: int, auth: str, priority: int,
                 addresses: list[str] | None, tls: bool = False) -> Any:
    """The zeroconf ServiceInfo of one printer (nothing is sent by making it)."""
    from zeroconf import ServiceInfo

    name = instance_name(runtime.name, hostname)
    service, subtype = (SERVICE_TLS, SUBTYPE_TLS) if tls else (SERVICE, SUBTYPE)
    admin_url = f"{'https' if tls else 'http'}://{hostname}.local:{port}/"
    return ServiceInfo(subtype, f"{name}.{service}", port=port, server=f"{hostname}.local.",
                       properties=txt_record(runtime, admin_url=admin_url, auth=auth, priority=priority, tls=tls),
                       parsed_addresses=addresses)


def loopback_only(host: str) -> bool:
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Announcer:
    """Registers every printer at start, one more as it is added, withdraws one as it goes, all at stop."""

    def __init__(self, *, enabled: bool, host: str, port: int, auth: str, tls: bool = False) -> None:
        self.enabled = enabled
        self.host = host
        self.port = port
        self.auth = auth
        self.tls = tls
        self.status = "off: [ipp] advertise = false" if not enabled else \
            f"not announced: the appliance listens on {host} only" if loopback_only(host) else "not started"
        self.problem: str | None = None
        self._zeroconf: Any = None
        self._hostname = "appliance"
        self._addresses: list[str] | None = None
        self._infos: dict[str, tuple[str, Any]] = {}  # printer id -> (instance name, ServiceInfo)

    @property
    def announced(self) -> list[str]:
        """The instance names announced now."""
        return [name for name, _ in self._infos.values()]

    @property
    def service(self) -> str:
        return "_ipps._tcp" if self.tls else "_ipp._tcp"

    async def start(self, printers: list[Any]) -> None:
        if not self.enabled:
            return
        if loopback_only(self.host):
            self.status = f"not announced: the appliance listens on {self.host} only"
            return
        try:
            from zeroconf.asyncio import AsyncZeroconf

            self._hostname = socket.gethostname().split(".")[0] or "appliance"
            self._addresses = None if self.host in ("*", "", "0.0.0.0", "::") else [self.host]
            self._zeroconf = AsyncZeroconf(interfaces=self._addresses) if self._addresses else AsyncZeroconf()
        except Exception as exc:  # the printers still work by address; say why nobody sees them
            self._failed(exc)
            return
        for runtime in list(printers):
            await self.add(runtime)
        self._say()
        log.info("ipp.dnssd_announced", printers=self.announced)

    async def add(self, runtime: Any) -> None:
        """Announce one printer (a no-op when nothing is announced, or it already is)."""
        if self._zeroconf is None or runtime.id in self._infos:
            return
        info = service_info(runtime, hostname=self._hostname, port=self.port, auth=self.auth,
                            priority=len(self._infos) * 10, addresses=self._addresses, tls=self.tls)
        self._infos[runtime.id] = (instance_name(runtime.name, self._hostname), info)
        try:
            await self._zeroconf.async_register_service(info, allow_name_change=True)
        except Exception as exc:
            del self._infos[runtime.id]
            self._failed(exc)
            return
        self._say()

    async def remove(self, runtime: Any) -> None:
        """Withdraw one printer (removed, renamed, moved, or the virtual printer stepping aside)."""
        entry = self._infos.pop(runtime.id, None)
        if entry is None or self._zeroconf is None:
            return
        try:
            await self._zeroconf.async_unregister_service(entry[1])
        except Exception as exc:
            self._failed(exc)
            return
        self._say()

    def _say(self) -> None:
        names = self.announced
        self.status = f"announced as {self.service}: " + ", ".join(names) if names else \
            f"announced as {self.service}: no printer"

    def _failed(self, exc: Exception) -> None:
        self.problem = f"announcing failed: {type(exc).__name__}: {exc}"
        self.status = self.problem
        log.warning("ipp.dnssd_failed", error=str(exc))

    async def stop(self) -> None:
        if self._zeroconf is None:
            return
        try:
            for _, info in self._infos.values():
                await self._zeroconf.async_unregister_service(info)
            await self._zeroconf.async_close()
        finally:
            self._zeroconf = None
            self._infos.clear()
            self.status = "withdrawn"
