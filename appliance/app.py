"""The appliance: builds its services and starts/stops them in order.

Start: state dir → migrations (before our own connection) → database → templates →
printers (the embedded virtual printer when none is configured) → status monitors →
queue workers → listeners → READY. Stop is the reverse, after STOPPING.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from rpc.dispatcher import CallContext, CallRecord, Dispatcher

from . import logs
from .clock import now_text
from .config import Settings, parse_listen
from .events import EventBus
from .store import migrate
from .store.db import Database
from .systemd import Notifier

log = logs.get("appliance")
rpc_log = logs.get("appliance.rpc")


class Appliance:
    def __init__(self, settings: Settings, *, notifier: Notifier | None = None) -> None:
        self.settings = settings
        self.notifier = notifier or Notifier()
        self.db = Database(settings.db_path)
        self.events = EventBus(settings.auth.max_subscribers, settings.auth.ws_buffer)
        self.started_monotonic = time.monotonic()
        self.started_at = now_text()
        self.safe_mode = False
        self.ready = False
        self.stopping = False
        self.migration_head: str | None = None
        self.printers: list[Any] = []
        self.simulator: Any = None
        self.listeners: Any = None
        self.dispatcher: Dispatcher | None = None
        self._stop_event = asyncio.Event()

    # --- wiring ------------------------------------------------------------------------------

    def handlers(self) -> dict[str, Any]:
        from .api import server

        found: dict[str, Any] = {}
        for module in (server,):
            found.update(module.handlers(self))
        return found

    def build_dispatcher(self) -> Dispatcher:
        def on_call(record: CallRecord) -> None:
            outcome = "ok" if record.code is None else f"error {record.code}"
            extra = {"notification": True} if record.notification else {}
            rpc_log.info("rpc.call", method=record.method, request_id=record.request_id,
                         duration_ms=round(record.duration_ms, 2), outcome=outcome, **extra)

        def on_internal_error(method: str, request_id: str, exc: BaseException) -> None:
            rpc_log.error("rpc.internal_error", method=method, request_id=request_id, exc_info=exc)

        return Dispatcher(self.handlers(), on_call=on_call, on_internal_error=on_internal_error)

    def context(self, request_id: str = "local") -> CallContext:
        return CallContext(request_id=request_id, scope="trusted", transport="local")

    async def readiness(self) -> dict[str, Any]:
        from .readiness import check

        return await check(self)

    # --- life cycle --------------------------------------------------------------------------

    async def start(self) -> None:
        settings = self.settings
        state_dir = settings.state_dir
        state_dir.mkdir(parents=True, exist_ok=True)
        migration_state = await asyncio.to_thread(migrate.ensure_head, settings.db_path)
        self.migration_head = migration_state.head
        await self.db.open()
        self.dispatcher = self.build_dispatcher()
        await self._start_listeners()
        self.ready = True
        self.notifier.ready(self.status_line())
        if settings.server.watchdog:
            self.notifier.start_watchdog()
        log.info("appliance.ready", url=self.listeners.url, socket=str(settings.socket_path),
                 state_dir=str(state_dir), printers=len(self.printers), safe_mode=self.safe_mode)

    async def _start_listeners(self) -> None:
        from .web import app as web_app
        from .web.listeners import Listeners

        assert self.dispatcher is not None
        host, port = parse_listen(self.settings.server.listen)
        app = web_app.build(self.dispatcher, self.readiness, max_body=self.settings.server.max_body_bytes)
        app["appliance"] = self
        self.listeners = Listeners(
            app,
            host=host,
            port=port,
            socket_path=self.settings.socket_path,
            socket_mode=int(self.settings.server.socket_mode, 8),
            socket_group=self.settings.server.socket_group,
            shutdown_timeout=min(self.settings.server.shutdown_timeout_s, 10.0),
        )
        await self.listeners.start()

    def status_line(self) -> str:
        mode = "SAFE MODE, queues paused; " if self.safe_mode else ""
        return f"{mode}{len(self.printers)} printer(s)"

    def request_stop(self) -> None:
        self._stop_event.set()

    async def wait_stopped(self) -> None:
        await self._stop_event.wait()

    async def stop(self) -> None:
        if self.stopping:
            return
        self.stopping = True
        self.notifier.stopping("shutting down")
        log.info("appliance.stopping")
        if self.listeners is not None:
            await self.listeners.stop()
        await self.db.close()
        await self.notifier.close()
        log.info("appliance.stopped")


async def serve(settings: Settings, *, ready_file: Path | None = None) -> int:
    """Run until SIGTERM/SIGINT; returns the exit status."""
    import signal

    appliance = Appliance(settings)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, appliance.request_stop)
    try:
        await appliance.start()
        if ready_file is not None:
            await asyncio.to_thread(ready_file.write_text, appliance.listeners.url)
        await appliance.wait_stopped()
    finally:
        await appliance.stop()
    return 0
