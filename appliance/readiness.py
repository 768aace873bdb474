"""The deep checks behind GET /readiness and readiness.check (application/health+json).

Each check is one key with a list of entries (one per printer where it is per printer,
`componentId` = printer name). Only the database and the migrations can `fail` (HTTP 503);
everything else is at worst `warn`. Nothing here contacts a printer: printer checks read
the status monitor's cache. Every database query is bounded by DB_TIMEOUT_S, and when
the first one does not answer the others are not tried, so the document comes back
well within a second even when the database or a printer hangs.
"""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
import time
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, TypeVar

from . import __version__
from .clock import now_text
from .reasons import describe

if TYPE_CHECKING:
    from .app import Appliance

ORDER = {"pass": 0, "warn": 1, "fail": 2}
DB_TIMEOUT_S = 0.4
STALE_INTERVALS = 3  # a printer's status is fresh while younger than this many poll intervals
IDLE_HEARTBEAT_S = 5.0  # the worker's idle wait; it beats at least this often when idle
MIN_FREE_MB = 100

T = TypeVar("T")


class DatabaseSilent(Exception):
    """The database did not answer within DB_TIMEOUT_S."""


def entry(status: str, output: str = "", **extra: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"status": status, "time": now_text(), **extra}
    if output:
        found["output"] = output
    return found


async def _bounded(awaitable: Awaitable[T]) -> T:
    try:
        async with asyncio.timeout(DB_TIMEOUT_S):  # not wait_for: on 3.11 it can swallow a cancel
            return await awaitable
    except TimeoutError:
        raise DatabaseSilent(f"no answer within {DB_TIMEOUT_S:g} s") from None


@functools.cache
def _expected_migrations() -> tuple[str, ...]:
    from .store.migrate import migrations_dir

    return tuple(sorted(p.name.removesuffix(".sql") for p in migrations_dir().glob("*.sql")
                        if not p.name.endswith(".rollback.sql")))


# --- database -------------------------------------------------------------------------------------


async def sqlite_check(appliance: Appliance) -> dict[str, Any]:
    from .store.db import DAMAGED_AT_WORK, is_damaged

    if appliance.damaged is not None:  # a call read a damaged page: each later one may too
        return entry("fail", appliance.damaged, componentType="datastore")
    started = time.perf_counter()
    try:
        await _bounded(appliance.db.fetchone("SELECT 1 FROM printers LIMIT 1"))
    except Exception as exc:
        if is_damaged(exc):
            return entry("fail", DAMAGED_AT_WORK, componentType="datastore")
        return entry("fail", f"the database does not answer ({_why(exc)}); see the journal and "
                     "`appliance migrate status`", componentType="datastore")
    ms = (time.perf_counter() - started) * 1000
    return entry("pass", observedValue=round(ms, 3), observedUnit="ms", componentType="datastore")


async def migrations_check(appliance: Appliance) -> dict[str, Any]:
    try:
        rows = await _bounded(appliance.db.fetchall("SELECT migration_id FROM _yoyo_migration"))
        applied = {row["migration_id"] for row in rows}
    except Exception as exc:
        return entry("fail", f"cannot read the applied migrations ({_why(exc)})", componentType="datastore")
    missing = [m for m in _expected_migrations() if m not in applied]
    head = _expected_migrations()[-1] if _expected_migrations() else None
    newer = sorted(applied - set(_expected_migrations()))
    if newer:
        return entry("fail", f"the database was last used by a newer version (migrations {', '.join(newer)} are "
                     "not known here): run that version, or restore a backup made with this one",
                     componentType="datastore")
    if missing:
        return entry("fail", f"migrations not applied: {', '.join(missing)}; run `appliance migrate up` and "
                     "restart", observedValue=len(missing), observedUnit="pending", componentType="datastore")
    return entry("pass", observedValue=head, componentType="datastore")


def _why(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, DatabaseSilent) else type(exc).__name__


def _skipped(why: str) -> dict[str, Any]:
    return entry("warn", f"not checked: {why}")


# --- templates, printers, workers -----------------------------------------------------------------


def templates_check(appliance: Appliance) -> dict[str, Any]:
    registry = appliance.registry
    if registry is None:
        return entry("warn", "templates are not loaded yet")
    usable = len(registry.list())
    broken = registry.broken()
    if broken:
        names = "; ".join(f"templates/{name}.toml: {error}" for name, error in sorted(broken.items()))
        return entry("warn", f"{len(broken)} user template file(s) do not load: {names}",
                     observedValue=usable, observedUnit="templates")
    return entry("pass", observedValue=usable, observedUnit="templates")


def stored_check(printer: Any, stored: set[str]) -> dict[str, Any]:
    if printer.id in stored:
        return entry("pass", componentId=printer.name, observedValue=printer.id)
    return entry("warn", f"printer {printer.name} is configured but not in the database; jobs for it cannot be "
                 "stored (restart the service)", componentId=printer.name)


def status_check(appliance: Appliance, printer: Any) -> dict[str, Any]:
    monitor = printer.monitor
    snapshot = monitor.snapshot
    name = printer.name
    if monitor.prober is None:
        return entry("pass", "this printer reports no status (no SNMP or status channel); freshness not checked",
                     componentId=name, observedValue=snapshot.state)
    if appliance.safe_mode:
        return entry("warn", "not contacted: safe mode", componentId=name, observedValue=snapshot.state)
    limit = STALE_INTERVALS * monitor.interval
    age = snapshot.age_s
    extra = {"componentId": name, "observedValue": age, "observedUnit": "s"}
    if age is None:
        waited = time.monotonic() - appliance.started_monotonic
        if waited < limit:
            return entry("pass", "waiting for the first status answer", **extra)
        return entry("warn", f"{name} has not answered a status request since the appliance started "
                     f"{waited:.0f} s ago ({snapshot.last_error or 'no answer'})", **extra)
    if snapshot.state == "offline":
        held = ("held by another program" if "printer-busy" in snapshot.reasons else
                "taking jobs but not answering status requests (check [printers.snmp])"
                if "status-unavailable" in snapshot.reasons else
                "not answering status requests since a job was sent to it (it may still be printing)"
                if "status-lost" in snapshot.reasons else "offline")
        return entry("warn", f"{name} is {held}: {snapshot.last_error or 'no answer'} "
                     f"({snapshot.failures} failed probes in a row)", **extra)
    if snapshot.reasons:
        return entry("warn", f"{name} needs attention: {'; '.join(snapshot.describe())}", **extra)
    if age > limit:
        return entry("warn", f"{name}'s status is {age:.0f} s old (probed every {monitor.interval:g} s); "
                     f"{snapshot.last_error or 'the status monitor may be stuck'}", **extra)
    return entry("pass", **extra)


def usb_device_check(printer: Any) -> dict[str, Any]:
    """Which device node a usb:// printer is at now (a usb://Brother/MODEL?serial= one is looked up by its
    IEEE 1284 id in sysfs: no byte goes to the printer). Nothing plugged in is a warning, like offline."""
    from .printer.usb_devices import ResolveError, UsbSelector, parse_usb_uri, resolve

    name = printer.name
    target = parse_usb_uri(printer.connect_uri)
    if not isinstance(target, UsbSelector):
        if os.path.exists(target):
            return entry("pass", componentId=name, observedValue=target)
        return entry("warn", f"{name}: {target} is not there (unplugged or switched off?); a printer plugged in "
                     "first may have taken another lp number: name it as usb://Brother/MODEL?serial=SERIAL",
                     componentId=name)  # fmt: skip
    try:
        node = resolve(target)
    except ResolveError as exc:
        return entry("warn", exc.message, componentId=name)
    return entry("pass", f"{target} is {node.name}", componentId=name, observedValue=str(node.path))


def worker_limit(printer: Any) -> float:
    """How old a worker's heartbeat may be: idle it beats every ~5 s; with a job in hand it beats at
    least every status poll interval, every 5 s of a retry back-off, and after each send attempt."""
    if printer.worker is None or printer.worker.current_job is None:
        return 3 * IDLE_HEARTBEAT_S
    q = printer.queue_settings
    return max(3 * printer.monitor.interval, 3 * IDLE_HEARTBEAT_S,
               q.connect_timeout_s + q.write_timeout_s + IDLE_HEARTBEAT_S)


def worker_check(appliance: Appliance, printer: Any, counts: dict[str, int] | None,
                 stopped: dict[str, int] | None = None) -> dict[str, Any]:
    name = printer.name
    worker = printer.worker
    if worker is None or not worker.alive:
        return entry("warn", f"the queue worker for {name} is not running: its jobs will not print; restart "
                     "the service (`systemctl restart appliance`)", componentId=name)
    age = round(time.monotonic() - worker.heartbeat, 3)
    extra = {"componentId": name, "observedValue": age, "observedUnit": "s"}
    stopped_queue = printer.queue_stopped()
    if stopped_queue is not None:  # sqlite:responseTime fails for it too
        return entry("warn", f"the queue worker for {name} stopped. {stopped_queue['description']}", **extra)
    if age > worker_limit(printer):
        job = f" while on job {worker.current_job}" if worker.current_job is not None else ""
        return entry("warn", f"the queue worker for {name} has not moved for {age:.0f} s{job}", **extra)
    counts = counts or {}
    if printer.paused:
        return entry("warn", f"{name} is paused by a person; {counts.get('pending', 0)} job(s) wait; "
                     "`appliance call printer.resume` to continue", **extra)
    if counts.get("stopped"):
        why = "; ".join(describe(r, printer.family) for r in stopped if r) if stopped else ""
        return entry("warn", f"{counts['stopped']} job(s) on {name} stopped{': ' + why if why else ''}. They print "
                     "once that is fixed; or move or cancel them", **extra)
    if appliance.safe_mode:
        return entry("warn", f"paused by safe mode; {counts.get('pending', 0)} job(s) wait", **extra)
    return entry("pass", **extra)


# --- the rest -------------------------------------------------------------------------------------


def subscribers_check(appliance: Appliance) -> dict[str, Any]:
    bus = appliance.events
    count, cap = bus.subscriber_count, bus.max_subscribers
    if count >= cap:
        return entry("warn", f"{count} of {cap} event subscribers: new clients cannot subscribe",
                     observedValue=count, observedUnit="subscribers")
    return entry("pass", observedValue=count, observedUnit="subscribers")


def disk_check(appliance: Appliance) -> dict[str, Any]:
    try:
        free_mb = shutil.disk_usage(appliance.settings.state_dir).free / 1024 / 1024
    except OSError as exc:
        return entry("warn", f"cannot read free space of the state directory ({exc.strerror})")
    if free_mb < MIN_FREE_MB:
        return entry("warn", f"less than {MIN_FREE_MB} MB free in the state directory; the database and "
                     "job history need room", observedValue=round(free_mb), observedUnit="MiB")
    return entry("pass", observedValue=round(free_mb), observedUnit="MiB")


SAFE_MODE_TEXT = ("safe mode: the previous start never got ready, so queues are paused and printers are not "
                  "contacted; check the journal (`journalctl -u appliance -b`), then "
                  "`appliance call printer.resume` to leave it")


def safe_mode_check(appliance: Appliance) -> dict[str, Any]:
    if appliance.safe_mode:
        return entry("warn", SAFE_MODE_TEXT, observedValue=True)
    return entry("pass", observedValue=False)


ENCODER_FALLBACK_TEXT = ("the C raster encoder was not built (no C compiler or Python headers at install): labels "
                         "are encoded by Pillow and libtiff, several times slower; to build it, install gcc and "
                         "python3-dev and reinstall the package")


def encoder_check() -> dict[str, Any]:
    """Which raster encoder this install has: informational, it always passes (both give the same bytes)."""
    from .printer import raster

    if raster._native_lines is None:
        return entry("pass", ENCODER_FALLBACK_TEXT, observedValue="pillow")
    return entry("pass", observedValue="c")


TLS_WARN_DAYS = 30


def tls_check(served: Any) -> dict[str, Any]:
    """The fingerprint clients pin (what `appliance check` shows); warn a month before it expires."""
    import datetime

    expires = served.expires
    if expires is None:
        return entry("warn", "the certificate's expiry cannot be read (`appliance tls show` says why)",
                     observedValue=served.fingerprint)
    days = (expires - datetime.datetime.now(datetime.UTC)).days
    text = f"expires {expires:%Y-%m-%d}"
    if days < TLS_WARN_DAYS:
        return entry("warn", f"{text}, in {days} days: make a new one (`appliance tls rotate`, or new files)",
                     observedValue=served.fingerprint)
    return entry("pass", text, observedValue=served.fingerprint)


async def check(appliance: Appliance) -> dict[str, Any]:
    """The whole document; never raises."""
    checks: dict[str, list[dict[str, Any]]] = {}
    checks["sqlite:responseTime"] = [await sqlite_check(appliance)]
    db_ok = checks["sqlite:responseTime"][0]["status"] == "pass"
    stored: set[str] = set()
    counts: dict[str, dict[str, int]] = {}
    stopped: dict[str, dict[str, int]] = {}
    if db_ok:
        checks["migrations:head"] = [await migrations_check(appliance)]
        from .store import jobs

        try:
            stored = {r["id"] for r in await _bounded(appliance.db.fetchall("SELECT id FROM printers"))}
            counts = await _bounded(jobs.counts(appliance.db))
            if any(c.get("stopped") for c in counts.values()):
                stopped = await _bounded(jobs.stopped_reasons(appliance.db))
        except Exception as exc:
            db_ok = False
            checks["sqlite:responseTime"] = [entry("fail", f"the database stopped answering ({_why(exc)})",
                                                   componentType="datastore")]
    else:
        checks["migrations:head"] = [entry("fail", "not checked: the database does not answer")]
    checks["templates:loaded"] = [templates_check(appliance)]
    printers = appliance.printers
    checks["printers:stored"] = [stored_check(p, stored) if db_ok else
                                 {**_skipped("the database does not answer"), "componentId": p.name}
                                 for p in printers]
    checks["printer:status"] = [status_check(appliance, p) for p in printers]
    checks["queue:worker"] = [worker_check(appliance, p, counts.get(p.id), stopped.get(p.id)) for p in printers]
    usb = [p for p in printers if p.connect_uri.startswith("usb:")]
    if usb:
        checks["printer:usbDevice"] = [usb_device_check(p) for p in usb]
    checks["events:subscribers"] = [subscribers_check(appliance)]
    checks["disk:free"] = [disk_check(appliance)]
    checks["appliance:safeMode"] = [safe_mode_check(appliance)]
    checks["raster:encoder"] = [encoder_check()]
    checks["ipp:dnssd"] = [dnssd_check(appliance)]
    if appliance.tls is not None:
        checks["tls:certificate"] = [tls_check(appliance.tls)]
    worst = max((e["status"] for entries in checks.values() for e in entries), key=ORDER.__getitem__)
    return {"status": worst, "version": __version__, "checks": checks}


def dnssd_check(appliance: Appliance) -> dict[str, Any]:
    """Whether the printers are announced over DNS-SD (IPP Everywhere); a failure to announce is a warn."""
    if not appliance.settings.ipp.enabled:
        return entry("pass", "IPP is off ([ipp] enabled = false)")
    announcer = appliance.dnssd
    if announcer is None:
        return entry("pass", "not started yet")
    return entry("warn" if announcer.problem else "pass", announcer.status)
