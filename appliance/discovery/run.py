"""printer.discover: SNMP, DNS-SD and USB side by side, merged by serial, within a time budget.

With `network` the search stays on it (a unicast SNMP sweep, plus the USB ports); without, it looks
on every local network (a broadcast GET and DNS-SD). Whatever the network does, the answer comes
within `timeout_s`: each way of looking gets most of the budget, and whatever is still looking when it
is spent is cancelled.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import logs
from . import networks, snmp_scan, usb
from .candidate import Candidate, Known, merge, settle_names

log = logs.get("appliance.discovery")

LOOKING_SHARE = 0.8  # of timeout_s, for the ways of looking; the rest is the margin to merge and answer
# Set (by the test suite) to keep every search on loopback: no broadcast, no DNS-SD, no other network
LOOPBACK_ONLY = "LA_DISCOVERY_LOOPBACK_ONLY"


def loopback_only() -> bool:
    return bool(os.environ.get(LOOPBACK_ONLY))


@dataclass
class Discovery:
    """One printer.discover: what was found so far, reported to `publish` as it changes."""

    known: list[Known]
    taken: set[str]
    publish: Callable[[dict[str, Any]], None] = lambda wire: None
    found: dict[str, Candidate] = field(default_factory=dict)
    ignored: list[snmp_scan.Ignored] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, candidate: Candidate) -> None:
        same = self.found.get(candidate.key)
        if same is None:
            settle_names([candidate], self.known, self.taken)
            if candidate.suggested_name:
                self.taken.add(candidate.suggested_name)
            self.found[candidate.key] = candidate
            same = candidate
        else:
            before = same.to_wire()
            same.absorb(candidate)
            if same.to_wire() == before:
                return
        self.publish(same.to_wire())

    def skip(self, ignored: snmp_scan.Ignored) -> None:
        self.ignored.append(ignored)

    def answer(self, started: float) -> dict[str, Any]:
        printers = sorted(merge(self.found.values()).values(), key=lambda c: (c.model, c.address or "", c.uri))
        return {"printers": [c.to_wire() for c in printers], "ignored": [i.to_wire() for i in self.ignored],
                "searched": self.notes, "elapsed_s": round(time.monotonic() - started, 3)}


async def discover(*, network: str | None, snmp_port: int, community: str, timeout_s: float,
                   known: Iterable[Known], taken: Iterable[str],
                   publish: Callable[[dict[str, Any]], None] = lambda wire: None,
                   usb_root: Path = Path("/"), open_socket: snmp_scan.OpenSocket | None = None,
                   local_networks: Callable[[], list[Any]] = networks.local_networks) -> dict[str, Any]:
    """Raises networks.NetworkError for a `network` that cannot be swept (before anything is sent)."""
    started = time.monotonic()
    swept = networks.parse_network(network) if network is not None else None
    if loopback_only() and swept is not None and not swept.is_loopback:
        raise networks.NetworkError(f"only loopback addresses may be searched here ({LOOPBACK_ONLY} is set)")
    window = timeout_s * LOOKING_SHARE
    run = Discovery(list(known), set(taken), publish)
    ways: dict[str, Coroutine[Any, Any, Any]] = {}
    if swept is not None:
        addresses = networks.hosts(swept)
        run.notes.append(f"snmp: {len(addresses)} address(es) of {swept} on UDP port {snmp_port}")
        ways["snmp"] = snmp_scan.sweep(addresses, port=snmp_port, community=community, timeout=window,
                                       found=run.add, ignored=run.skip)
    elif loopback_only():
        run.notes.append(f"the local network is not searched here ({LOOPBACK_ONLY} is set)")
    else:
        local = local_networks()
        run.notes.append("snmp: broadcast on " + (", ".join(map(str, local)) if local else "no local network")
                         + f" (UDP port {snmp_port})")
        if local:
            ways["snmp"] = snmp_scan.broadcast(local, port=snmp_port, community=community, window=window,
                                               found=run.add, ignored=run.skip,
                                               **({"open_socket": open_socket} if open_socket else {}))
        ways["dns-sd"] = _dns_sd(window, run)
    ways["usb"] = _usb(usb_root, run)
    tasks = {asyncio.ensure_future(coro): name for name, coro in ways.items()}
    done, late = await asyncio.wait(tasks, timeout=max(0.0, timeout_s - (time.monotonic() - started) - 0.05))
    for task in late:
        task.cancel()
    await asyncio.gather(*late, return_exceptions=True)
    for task in done:
        if task.exception() is not None:
            run.notes.append(f"{tasks[task]}: failed ({type(task.exception()).__name__}: {task.exception()})")
            log.warning("discovery.failed", way=tasks[task], error=str(task.exception()))
    for task in late:
        run.notes.append(f"{tasks[task]}: still looking when the time was up")
    return run.answer(started)


async def _dns_sd(window: float, run: Discovery) -> None:
    try:
        from . import dnssd

        await dnssd.browse(window, run.add)
    except ImportError:
        run.notes.append("dns-sd: python-zeroconf is not installed")
        return
    run.notes.append("dns-sd: _pdl-datastream._tcp, _printer._tcp, _ipp._tcp")


async def _usb(root: Path, run: Discovery) -> None:
    found = await asyncio.to_thread(usb.scan, root)
    for candidate in found:
        run.add(candidate)
    run.notes.append(f"usb: {len(found)} Brother printer(s) on /dev/usb/lp*")
