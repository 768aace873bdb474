"""The appliance: builds its services and starts/stops them in order.

Start: state dir (safe-mode marker) → migrations (before our own connection) → database →
templates → printers (the embedded virtual printer when none is configured) → queue workers →
listeners → READY → status monitors (their first probe is not worth delaying READY).
Stop is the reverse, after STOPPING.
"""

from __future__ import annotations

import asyncio
import errno
import sqlite3
import time
from pathlib import Path
from typing import Any

from rpc.contract import CATALOGUE
from rpc.dispatcher import CallRecord, Dispatcher
from rpc.errors import NotAllowed, RpcError

from . import logs
from .clock import now_text
from .config import PrinterSettings, Settings, SnmpSettings, parse_listen
from .events import EventBus
from .printer import snmp
from .printer.media import media_words
from .printer.status import MEDIA_NOUN, worded
from .start_marker import SAFE_AFTER, StartMarker
from .state_lock import StateDirInUse, StateLock
from .store import migrate
from .store.db import DAMAGED_AT_WORK, Database, damaged_message, is_damaged
from .systemd import Notifier

log = logs.get("appliance")
FIRST_PRUNE_AFTER_S = 60.0  # seconds after the start before history is first pruned
rpc_log = logs.get("appliance.rpc")


class Appliance:
    def __init__(self, settings: Settings, *, notifier: Notifier | None = None) -> None:
        self.settings = settings
        self.notifier = notifier or Notifier()
        self.db = Database(settings.db_path)
        self.state_lock = StateLock(settings.state_dir)
        self.events = EventBus(settings.auth.max_subscribers, settings.auth.ws_buffer)
        self.started_monotonic = time.monotonic()
        self.started_at = now_text()
        self.safe_mode = False
        self.ready = False
        self.stopping = False
        self.migration_head: str | None = None
        self.printers: list[Any] = []
        self.queue: Any = None
        self.simulator: Any = None
        self.registry: Any = None
        self.roster: Any = None  # queue.roster.Roster: printer.add / update / remove
        self._tasks: set[asyncio.Task[Any]] = set()
        self.last_problem: str | None = None
        self.damaged: str | None = None  # a read found the database damaged past the start's bounded check
        self.listeners: Any = None
        self.dispatcher: Dispatcher | None = None
        self.access: Any = None  # web.auth.AccessGuard, built with the listeners
        self.ws_hub: Any = None  # web.ws.WsHub
        self.ipp: Any = None  # ipp.http.IppHttp, made by the first IPP request
        self.dnssd: Any = None  # ipp.dnssd.Announcer ([ipp] enabled)
        self.tls: Any = None  # tls.ServedCertificate when [server] tls is on
        from .metrics import Tally

        self.tally = Tally()  # in-memory counters behind GET /metrics
        self._stop_event = asyncio.Event()

    # --- wiring ------------------------------------------------------------------------------

    def handlers(self) -> dict[str, Any]:
        from .api import batches, jobs, printers, server, stats, subscribe, templates

        found: dict[str, Any] = {}
        for module in (server, subscribe, printers, templates, jobs, batches, stats):
            found.update(module.handlers(self))
        return found

    def build_dispatcher(self) -> Dispatcher:
        call_log = rpc_log.bind()  # a concrete logger: the module's lazy proxy binds again on every use

        def on_call(record: CallRecord) -> None:
            # A successful read (a method the read scope may call) is a debug line: scripts and the
            # TUI poll printer.status and job.get, and a line per poll would fill the SD card's
            # journal. Changes and every error stay at info.
            if record.code is None:
                method = CATALOGUE.get(record.method or "")
                emit = call_log.debug if method is not None and not method.admin else call_log.info
                outcome = "ok"
            else:
                emit, outcome = call_log.info, f"error {record.code}"
            extra = {"notification": True} if record.notification else {}
            emit("rpc.call", method=record.method, request_id=record.request_id,
                 duration_ms=round(record.duration_ms, 2), outcome=outcome, **extra)
            self.tally.rpc_call(record.method, record.code, record.duration_ms)

        def on_internal_error(method: str, request_id: str, exc: BaseException) -> None:
            rpc_log.error("rpc.internal_error", method=method, request_id=request_id, exc_info=exc)

        def known_failure(exc: BaseException) -> RpcError | None:
            if isinstance(exc, sqlite3.Error) and getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
                rpc_log.warning("rpc.storage_full", db=str(self.settings.db_path), error=str(exc))
                return NotAllowed("the appliance's storage is full: nothing was stored. Free space on it (or lower "
                                  "[history] keep_days / artifact_days) and try again",
                                  {"reason": "storage-full"})
            if is_damaged(exc):  # a page the start's bounded check did not read (store.db.integrity_problems)
                self.note_damaged(exc, "a call")
                return NotAllowed(DAMAGED_AT_WORK, {"reason": "storage-damaged"})
            return None

        return Dispatcher(self.handlers(), on_call=on_call, on_internal_error=on_internal_error,
                          known_failure=known_failure)

    def note_damaged(self, exc: BaseException, found_by: str) -> None:
        """A read or write met a damaged page (a call, a queue worker, the history pruning): the journal
        says so once, with the way back; /readiness fails and STATUS= names it from then on."""
        if self.damaged is None:
            log.error("appliance.database_damaged", db=str(self.settings.db_path), error=str(exc), found_by=found_by,
                      what=damaged_message(self.settings.db_path, exc))
        self.damaged = DAMAGED_AT_WORK
        self.last_problem = "the database is damaged: restore a backup"

    async def readiness(self) -> dict[str, Any]:
        """The /readiness document; a bug in a check becomes a `fail` entry, never a traceback."""
        from .readiness import check, entry

        try:
            return await check(self)
        except Exception:
            log.exception("readiness.check_failed")
            from . import __version__

            return {"status": "fail", "version": __version__, "checks": {"appliance:readiness": [
                entry("fail", "the readiness checks themselves failed; see the journal")]}}

    # --- life cycle --------------------------------------------------------------------------

    async def start(self) -> None:
        settings = self.settings
        state_dir = settings.state_dir
        state_dir.mkdir(parents=True, exist_ok=True)
        self.state_lock.acquire()  # before the marker, migrations or recovery touch anything
        marker = StartMarker(state_dir / "starting.marker")
        died = marker.begin()
        self.safe_mode = died >= SAFE_AFTER
        if self.safe_mode:
            log.warning("appliance.safe_mode", why=f"the last {died} starts never reached ready; queues stay paused "
                        "and printers are not contacted until printer.resume")
        elif died:
            log.warning("appliance.start_cut_short", why="the last start never reached ready (a power cut while "
                        "starting?); starting normally, and in safe mode if this one does not get ready either")
        from .tls import TlsError
        from .web.listeners import SocketInUse

        try:
            await self._open_database()
            await self._start_printers()
            self.dispatcher = self.build_dispatcher()
            await self._start_listeners()
        except sqlite3.DatabaseError as exc:  # found damaged past the migrations' look (recovering jobs, say)
            if not is_damaged(exc):
                raise
            marker.clear()
            raise migrate.MigrationError(damaged_message(settings.db_path, exc)) from exc
        except (SocketInUse, OSError, migrate.MigrationError, TlsError):
            # the address taken, a damaged database: a setting or a file to fix, said in one line, not a
            # crash. Safe mode is for starts that die or hang, so the next start must not come up paused.
            marker.clear()
            raise
        self._tasks.add(asyncio.get_running_loop().create_task(self._housekeeping(), name="housekeeping"))
        marker.clear()
        self.ready = True
        self.notifier.ready(self.status_line())
        if not self.safe_mode:  # the first probes (and pysnmp's import) come after READY, not before
            for printer in self.printers:
                printer.monitor.start()
        self._announce()
        if settings.server.watchdog:
            self.notifier.start_watchdog()
            self.notifier.dump_hangs()  # systemd's watchdog counts from READY on; so does the hang dump
        log.info("appliance.ready", url=self.listeners.url, socket=str(settings.socket_path),
                 tls_fingerprint=self.tls.fingerprint if self.tls is not None else None,
                 state_dir=str(state_dir), printers=len(self.printers), safe_mode=self.safe_mode)

    async def _open_database(self) -> None:
        """Migrations (before our own connection), then the connection; a damaged file is a MigrationError."""
        self.migration_head = (await asyncio.to_thread(migrate.ensure_head, self.settings.db_path)).head
        await self.db.open()

    async def _start_printers(self) -> None:
        from .labels.registry import TemplateRegistry
        from .queue import runtime
        from .queue.service import JobQueue
        from .store import printers as printer_store

        settings = self.settings
        self.registry = TemplateRegistry.from_state_dir(settings.state_dir, font_dirs=tuple(settings.labels.font_dirs))
        self.registry.list()  # parse built-ins and user templates once, now, not on the first request
        from .queue.roster import Roster

        async def store(printers: list[Any]) -> None:
            await printer_store.upsert(self.db, [
                {"id": p.id, "name": p.name, "model": p.model.name, "uri": p.uri,
                 "media": p.configured_media.id if p.configured_media else None} for p in printers])

        built = [runtime.build(p, settings.queue) for p in settings.printers]
        await store(built)  # first: a configured printer takes its name from one added at run time
        self.roster = Roster(self)
        built += await self.roster.load()  # printer.add's, stored in the database
        if not built:
            built = [await self._start_virtual_printer()]
            await store(built)
        for printer in built:
            printer.monitor.on_change = self._status_changed_for(printer)
            self.tally.time_probes(printer.name, printer.monitor)
        self.printers = built
        self.queue = JobQueue(self.db, self.events, self.registry, built, on_damaged=self.note_damaged)
        self.events.add_tap(self.tally.event)
        await self.queue.start(safe_mode=self.safe_mode)
        from .store import documents

        if await documents.abandon_incoming(self.db, [p.id for p in built]):  # IPP documents cut off by a stop
            log.warning("ipp.incoming_jobs_aborted")

    async def _start_virtual_printer(self) -> Any:
        """No printer configured: the embedded virtual printer (labels land as PNGs in <state_dir>/printed/)."""
        from .queue import runtime
        from .simulator.runner import Simulator

        sim_settings = self.settings.simulator
        speed = None if sim_settings.speed == "instant" else float(sim_settings.speed)
        self.simulator = Simulator(sim_settings.model, sim_settings.tape,
                                   snmp=("127.0.0.1", 0) if sim_settings.snmp else None,
                                   out_dir=self.settings.state_dir / "printed", speed=speed)
        await self.simulator.start()
        printer = PrinterSettings(name="virtual", model=sim_settings.model, uri=f"virtual://{sim_settings.model}",
                                  media=sim_settings.tape, poll_interval_s=sim_settings.poll_interval_s,
                                  busy_poll_interval_s=sim_settings.busy_poll_interval_s,
                                  snmp=SnmpSettings(enabled=sim_settings.snmp, host="127.0.0.1", timeout=0.5))
        return runtime.build(printer, self.settings.queue, connect_uri=self.simulator.uri,
                             snmp_port=self.simulator.snmp_port, virtual=True)

    def _announce(self) -> None:
        """DNS-SD for every printer, after READY (python-zeroconf is imported only when it announces)."""
        ipp = self.settings.ipp
        if not ipp.enabled:
            return
        from urllib.parse import urlparse

        from .ipp.dnssd import Announcer

        host, _ = parse_listen(self.settings.server.listen)
        port = urlparse(self.listeners.url).port or 0
        self.dnssd = Announcer(enabled=ipp.advertise, host=host, port=port, auth=ipp.auth, tls=self.tls is not None)
        task = asyncio.get_running_loop().create_task(self.dnssd.start(self.printers), name="dnssd")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _status_changed_for(self, printer: Any) -> Any:
        from .store import printers as printer_store

        stored: list[Any] = [None]

        def changed(snapshot: Any) -> None:
            wire = printer.status_wire(snapshot)
            self.events.publish("printers", "notify_printer_status", wire)
            if snapshot.reasons:
                self.last_problem = f"{printer.name}: {snapshot.describe()[0]}"
            media = snapshot.media.id if snapshot.media else None
            # idle ↔ printing flips every job: announce them, but only store what a person needs to know
            lasting = "ready" if snapshot.state in ("idle", "printing") else snapshot.state
            key = (lasting, snapshot.reasons, media)
            if self.db.is_open and not self.stopping and key != stored[0]:
                stored[0] = key

                async def save() -> None:
                    try:
                        await printer_store.save_status(self.db, printer.id, lasting, list(snapshot.reasons), media,
                                                        {"source": snapshot.source, "last_error": snapshot.last_error})
                    except Exception as exc:  # the status stays in memory; the row catches up on the next change
                        if is_damaged(exc):
                            self.note_damaged(exc, f"saving {printer.name}'s status")
                        else:
                            log.warning("printer.status_not_saved", printer=printer.name, error=str(exc))

                task = asyncio.get_running_loop().create_task(save(), name="save-printer-status")
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            if printer.worker is not None:
                printer.worker.wake()

        return changed

    async def _housekeeping(self) -> None:
        """Prune history now and then; keep systemd's STATUS= line current."""
        from .store import history

        history_settings = self.settings.history
        # the first pruning comes a minute after the start, not during it: a start (after a power cut,
        # say) reads and writes no more than it must, and the workers take up their jobs first
        last_prune = time.monotonic() - history_settings.prune_interval_s + FIRST_PRUNE_AFTER_S
        last_status = ""
        while True:
            if time.monotonic() - last_prune > history_settings.prune_interval_s:
                last_prune = time.monotonic()
                try:
                    pruned = await history.prune(self.db, keep_days=history_settings.keep_days,
                                                 keep_jobs=history_settings.keep_jobs,
                                                 artifact_days=history_settings.artifact_days)
                    if any(pruned.values()):
                        log.info("history.pruned", **pruned)
                except Exception as exc:
                    if is_damaged(exc):
                        self.note_damaged(exc, "the history pruning")
                    else:
                        log.error("history.prune_failed", error=str(exc))
            if self.tls is not None:
                self.tls.reload_if_changed()  # `appliance tls rotate` while running: new connections get it
            line = await self.status_text()
            if line != last_status:
                self.notifier.status(line)
                last_status = line
            await asyncio.sleep(5.0)

    async def status_text(self) -> str:
        """systemd's STATUS= line: safe mode, each printer, jobs waiting, the last problem."""
        parts = ["SAFE MODE: queues paused, printers not contacted; `appliance call printer.resume` leaves it"] \
            if self.safe_mode else []
        for printer in self.printers:
            snap = printer.monitor.snapshot
            media = media_words(snap.media.id, printer.family) if snap.media else \
                f"no {worded(MEDIA_NOUN, printer.family)}"
            paused = " (paused)" if printer.paused else ""
            parts.append(f"{printer.name}: {snap.state}{paused}, {media}")
        if self.queue is not None and self.db.is_open:
            try:
                async with asyncio.timeout(2.0):  # not wait_for: on 3.11 it can swallow a cancel
                    totals = (await self.queue.status())["totals"]
                parts.append(f"jobs: {totals['pending']} pending, {totals['stopped']} stopped")
            except Exception:
                parts.append("jobs: unknown (database busy)")
        if self.last_problem:
            parts.append(f"last problem: {self.last_problem}")
        return "; ".join(parts)

    def check_accepting(self) -> None:
        if self.stopping:
            raise NotAllowed("the appliance is shutting down; try again in a moment",
                             {"field": "server", "reason": "shutting down"})

    async def leave_safe_mode(self) -> None:
        if not self.safe_mode:
            return
        self.safe_mode = False
        log.info("appliance.safe_mode_left")
        for printer in self.printers:
            printer.monitor.start()
            if printer.worker is not None:
                printer.worker.allow_contact()  # follows the jobs left at the printer, even when paused
                if not printer.paused:
                    printer.worker.resume()

    def _access_guard(self) -> Any:
        from .web.auth import AccessGuard

        if self.access is None:
            self.access = AccessGuard.from_settings(self.db, self.settings.auth)
            if self.settings.metrics.public:
                self.access.open_paths = self.access.open_paths | {"/metrics"}
        return self.access

    def web_middlewares(self) -> list[Any]:
        """Middlewares after the request-id one: access control (tokens, rate limits, connection cap)."""
        return [self._access_guard().middleware]

    def web_routes(self) -> list[Any]:
        """Routes beyond /rpc, /healthz and /readiness: the WebSocket, /metrics."""
        from aiohttp import web

        from .web.ws import WsHub

        assert self.dispatcher is not None
        self.ws_hub = WsHub(self.dispatcher, self.events, self._access_guard(), self.settings.auth)
        endpoint: list[Any] = []

        async def metrics(request: web.Request) -> web.StreamResponse:
            if not endpoint:  # web.metrics (and prometheus_client) only once someone scrapes
                from .web.metrics import MetricsEndpoint

                endpoint.append(MetricsEndpoint(self))
            return await endpoint[0].handle(request)  # type: ignore[no-any-return]

        return [web.get("/ws", self.ws_hub.handle), web.get("/metrics", metrics), *self.ipp_routes()]

    def ipp_routes(self) -> list[Any]:
        """POST /ipp/print and /ipp/print/<printer> ([ipp] enabled); appliance/ipp/ is imported on the first request."""
        from aiohttp import web

        if not self.settings.ipp.enabled:
            return []
        loaded: list[Any] = []

        async def handle(request: web.Request) -> web.StreamResponse:
            if not loaded:
                from .ipp.http import IppHttp

                self.ipp = IppHttp(self)
                loaded.append(self.ipp.handle)
            return await loaded[0](request)

        return [web.post("/ipp/print", handle), web.post("/ipp/print/{printer}", handle)]

    async def _start_listeners(self) -> None:
        from .web import app as web_app
        from .web.listeners import Listeners

        assert self.dispatcher is not None
        host, port = parse_listen(self.settings.server.listen)
        if self.settings.server.tls != "off":
            from . import tls

            files = await asyncio.to_thread(tls.ensure, self.settings.server, self.settings.state_dir)
            if files is not None:
                self.tls = tls.ServedCertificate(files)
        app = web_app.build(self.dispatcher, self.readiness, max_body=self.settings.server.max_body_bytes,
                            extra_middlewares=self.web_middlewares(), extra_routes=self.web_routes())
        self.listeners = Listeners(
            app,
            host=host,
            port=port,
            socket_path=self.settings.socket_path,
            socket_mode=int(self.settings.server.socket_mode, 8),
            socket_group=self.settings.server.socket_group,
            shutdown_timeout=min(self.settings.server.shutdown_timeout_s, 10.0),
            ssl_context=self.tls.context if self.tls is not None else None,
        )
        await self.listeners.start()

    def status_line(self) -> str:
        mode = "SAFE MODE, queues paused; " if self.safe_mode else ""
        return f"{mode}{len(self.printers)} printer(s) ready"

    def request_stop(self) -> None:
        self._stop_event.set()

    async def wait_stopped(self) -> None:
        await self._stop_event.wait()

    async def stop(self) -> None:
        if self.stopping:
            return
        self.stopping = True
        if not self.state_lock.held:  # start never got the state directory: nothing here is ours to stop
            await self.notifier.close()
            return
        self.notifier.stopping("shutting down")
        log.info("appliance.stopping")
        for step in self._stop_steps():
            try:
                await step()
            except Exception as exc:  # keep stopping: every later step still matters
                log.error("appliance.stop_step_failed", step=step.__qualname__, error=str(exc))
        log.info("appliance.stopped")

    def _stop_steps(self) -> list[Any]:
        """Reverse of start: workers finish the label being sent, then WebSockets, listeners, the label
        drawing thread, monitors, the simulator, background writes and last the database."""
        steps: list[Any] = [self._cancel_tasks]
        if self.queue is not None:
            timeout = self.settings.server.shutdown_timeout_s

            async def stop_workers() -> None:
                await self.queue.stop(timeout)

            steps.append(stop_workers)
        if self.dnssd is not None:  # withdrawn first: nobody should find a printer that is going away
            steps.append(self.dnssd.stop)
        if self.ws_hub is not None:
            steps.append(self.ws_hub.close_all)
        if self.listeners is not None:
            steps.append(self.listeners.stop)
        if self.queue is not None:  # after the listeners: the calls they waited for were still drawn
            steps += [self.queue.drawer.close, self.queue.settle_events]
        if self.access is not None:
            steps.append(self.access.stop)
        steps += [printer.monitor.stop for printer in self.printers]
        steps.append(close_snmp_sockets)
        if self.simulator is not None:
            steps.append(self.simulator.stop)
        # a probe that finished while stopping may have queued a status write: settle it before closing
        steps += [self._cancel_tasks, self.db.close, self.notifier.close, self._release_state]
        worker_limit = self.settings.server.shutdown_timeout_s + STEP_LIMIT_S
        return [bounded_step(step, worker_limit if step.__name__ == "stop_workers" else STEP_LIMIT_S)
                for step in steps]

    async def _release_state(self) -> None:
        self.state_lock.release()

    async def _cancel_tasks(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()


STEP_LIMIT_S = 10.0  # no stop step may hang the shutdown past systemd's TimeoutStopSec


async def close_snmp_sockets() -> None:
    snmp.close_sockets()


def bounded_step(step: Any, seconds: float) -> Any:
    """`step` cancelled after `seconds`, so one stuck task cannot keep the process from exiting cleanly."""

    async def run() -> None:
        try:
            async with asyncio.timeout(seconds):
                await step()
        except TimeoutError:
            log.error("appliance.stop_step_timeout", step=step.__qualname__, seconds=seconds)

    run.__qualname__ = step.__qualname__
    return run


def _write_atomically(path: Path, text: str) -> None:
    """Whoever waits for `path` to appear must never read it half-written."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text)
    partial.replace(path)


def start_refusal(exc: BaseException, listen: str) -> str | None:
    """The one-line message for a start refused by what is already running here, or None.

    Another server on the state directory or the socket, or the TCP address taken: `serve` and
    the demo both say it this way, with the fix, instead of a traceback.
    """
    from .tls import TlsError
    from .web.listeners import SocketInUse

    if isinstance(exc, SocketInUse | StateDirInUse | TlsError):
        return str(exc)
    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        return f"cannot listen on {listen}: the address is in use (another server?); choose another with --listen"
    return None


async def serve(settings: Settings, *, ready_file: Path | None = None) -> int:
    """Run until SIGTERM/SIGINT; returns the exit status (0 after a clean stop).

    The watchdog pings start before start-up (migrations on an SD card can be slow, and the
    loop stays free meanwhile); from READY on a late ping also dumps every thread's stack, and
    faulthandler is on, so a hang shows its stacks in the journal.
    On SIGTERM: STOPPING=1, submits get −32003, the label being sent finishes (bounded by
    server.shutdown_timeout_s), pending jobs stay stored, the database is closed.
    """
    import signal

    from .heap import keep_bitmaps_in_heap
    from .systemd import enable_faulthandler, schedule_block_loop

    enable_faulthandler()
    log.info("appliance.heap", bitmaps_in_heap=keep_bitmaps_in_heap())  # before any label is drawn
    appliance = Appliance(settings)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, appliance.request_stop)
    if settings.server.watchdog:
        appliance.notifier.start_watchdog()  # pings during start-up; stacks are dumped on hangs after READY
    try:
        await appliance.start()
        if ready_file is not None:
            await asyncio.to_thread(_write_atomically, ready_file, appliance.listeners.url)
        schedule_block_loop()
        await appliance.wait_stopped()
    finally:
        await appliance.stop()
    return 0
