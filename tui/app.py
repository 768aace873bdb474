"""The Textual application: one WebSocket connection, a Store fed by its snapshot and
notifications, and the screens (modes) that render the Store.

All network I/O runs in workers; handlers never await the network. The connection
(and the import of aiohttp behind it) starts only after the first paint.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import signal
import sys
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.screen import Screen

from rpc.errors import RpcError

from .config import Target
from .model import Store

TOPICS = ("printers", "jobs", "queue")
HANGUP_GRACE_S = 3.0  # after the terminal went away, how long an orderly exit may take


@dataclass(frozen=True)
class Conn:
    state: str = "connecting"
    detail: str = ""
    attempt: int = 0
    retry_in: float | None = None


def _dashboard() -> Screen[Any]:
    from .screens.dashboard import DashboardScreen

    return DashboardScreen()


def _print() -> Screen[Any]:
    from .screens.printing import PrintScreen

    return PrintScreen()


def _jobs() -> Screen[Any]:
    from .screens.jobs import JobsScreen

    return JobsScreen()


def _health() -> Screen[Any]:
    from .screens.health import HealthScreen

    return HealthScreen()


def _printers() -> Screen[Any]:
    from .screens.printers import PrintersScreen

    return PrintersScreen()


def _stats() -> Screen[Any]:
    from .screens.health import StatsScreen

    return StatsScreen()


class ApplianceApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "Label Appliance"
    MODES: ClassVar[dict[str, Any]] = {
        "dashboard": _dashboard, "print": _print, "jobs": _jobs, "health": _health, "stats": _stats,
        "printers": _printers,
    }
    DEFAULT_MODE = "dashboard"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="app.quit.ctrl_c"),
        Binding("d,f2", "switch_mode('dashboard')", "Dash", id="app.dashboard"),
        Binding("p,f3", "switch_mode('print')", "Print", id="app.print"),
        Binding("j,f4", "switch_mode('jobs')", "Jobs", id="app.jobs"),
        Binding("h,f5", "switch_mode('health')", "Health", id="app.health"),
        Binding("s,f6", "switch_mode('stats')", "Stats", id="app.stats"),
        Binding("i,f7", "switch_mode('printers')", "Printers", id="app.printers", show=False),  # the palette lists it
    ]

    conn: reactive[Conn] = reactive(Conn, always_update=True, init=False)
    revision: reactive[int] = reactive(0, init=False)
    tls_fingerprint: reactive[str] = reactive("", init=False)  # the certificate's, from server.info (https)

    def __init__(self, target: Target, *, backoff_initial: float = 0.25, backoff_max: float = 10.0) -> None:
        super().__init__()
        self.target = target
        self.store = Store()
        self.templates: list[dict[str, Any]] = []
        self.client: Any = None
        self.ever_connected = False
        self.last_topic: str | None = None
        self.first_paint: float | None = None
        self.hung_up = False
        self._backoff = (backoff_initial, backoff_max)
        self._was_lost = False

    @property
    def target_text(self) -> str:
        return self.target.where

    # --- life cycle --------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.call_after_refresh(self._painted)
        self.run_worker(self._connect, name="connect", group="connection", exit_on_error=False)
        if not self.is_headless:
            self._watch_terminal()

    def _painted(self) -> None:
        import time

        self.first_paint = time.perf_counter()

    async def _connect(self) -> None:
        # aiohttp is the slow import: do it off the event loop, after the first paint
        module = await asyncio.to_thread(importlib.import_module, "rpc.ws_client")
        target = self.target
        try:
            self.client = module.WsClient(target.url, socket_path=target.socket_path, token=target.token,
                                          topics=TOPICS, backoff_initial=self._backoff[0],
                                          backoff_max=self._backoff[1])
        except ValueError as exc:
            self.conn = Conn("disconnected", f"bad address: {exc}", 1, None)
            self.notify(f"Cannot connect: {exc}", severity="error", timeout=30)
            return
        self.client.add_listener(self._on_ws_event)
        self.client.start()

    async def action_quit(self) -> None:
        await self._close_client()
        self.exit(0)

    async def _close_client(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            try:
                await asyncio.wait_for(client.close(), 2.0)
            except Exception:
                pass

    async def on_unmount(self) -> None:
        await self._close_client()

    # --- terminal gone (SSH dropped): exit instead of spinning on a dead tty ---------------------

    def _watch_terminal(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGHUP, self._hangup)
        except (NotImplementedError, RuntimeError, ValueError):
            pass
        self.set_interval(1.0, self._check_terminal, name="terminal-check")

    def _hangup(self) -> None:
        if self.hung_up:
            return
        self.hung_up = True
        self.exit(129)
        # Nobody is watching any more: if the orderly exit stalls (a close waiting on a dead server),
        # leave anyway rather than linger as an orphan.
        fallback = threading.Timer(HANGUP_GRACE_S, os._exit, args=(129,))
        fallback.daemon = True
        fallback.start()

    def _check_terminal(self) -> None:
        if terminal_gone():
            self._hangup()

    # --- events from the connection ----------------------------------------------------------

    def _on_ws_event(self, event: Any) -> None:
        kind = type(event).__name__
        if kind == "ConnectionState":
            if event.state == "connected":
                if self._was_lost:
                    self.notify("Reconnected; the data shown is fresh.", title="Connection")
                self._was_lost = False
                self.ever_connected = True
                self.run_worker(self._load_catalogue, group="catalogue", exclusive=True, exit_on_error=False)
            elif event.state == "disconnected" and self.ever_connected:
                self._was_lost = True
            self.conn = Conn(event.state, event.detail, event.attempt, event.retry_in)
        elif kind == "Snapshot":
            self.store.apply_snapshot(event.data, event.generation)
            self.last_topic = "snapshot"
            self.revision += 1
        elif kind == "Notification":
            if event.method == "notify_printer_status" and not event.params.get("removed") and \
                    event.params.get("printer_id") not in self.store.printer_info and self.store.loaded:
                # a printer added (here or by another client): printer.list has its model and capabilities
                self.run_worker(self._load_catalogue, group="catalogue", exclusive=True, exit_on_error=False)
            topic = self.store.apply(event.method, event.params)
            if topic is not None:
                self.last_topic = topic
                self.revision += 1

    async def _load_catalogue(self) -> None:
        info = await self.call_or_notify("server.info", what="Server")
        if isinstance(info, dict):
            self.tls_fingerprint = (info.get("tls") or {}).get("fingerprint") or ""
        printers = await self.call_or_notify("printer.list", what="Printers")
        if isinstance(printers, list):
            self.store.printer_info = {p["id"]: p for p in printers}
        templates = await self.call_or_notify("template.list", what="Templates")
        if isinstance(templates, list):
            self.templates = templates
        self.last_topic = "catalogue"
        self.revision += 1

    # --- calls ---------------------------------------------------------------------------------

    async def call(self, method: str, params: dict[str, Any] | None = None, timeout: float | None = None) -> Any:
        """Call over the WebSocket; RpcError (incl. not connected) for the caller to handle."""
        if self.client is None:
            raise RpcError("not connected to the appliance yet")
        return await self.client.call(method, params, timeout=timeout)

    async def call_or_notify(self, method: str, params: dict[str, Any] | None = None, *, what: str = "") -> Any:
        """Call; on any error show a notification and return None (never a traceback)."""
        try:
            return await self.call(method, params)
        except RpcError as exc:
            self.notify(describe_error(exc), title=what or method, severity="error", timeout=8)
        except Exception as exc:  # pragma: no cover - a bug, shown rather than crashing the UI
            self.notify(f"unexpected error: {type(exc).__name__}", title=what or method, severity="error")
        return None

    @staticmethod
    def new_idempotency_key() -> str:
        return uuid.uuid4().hex

    # --- command palette -----------------------------------------------------------------------

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        places: list[tuple[str, str, str]] = [
            ("Dashboard", "Printers, queue and recent jobs", "dashboard"),
            ("Print a label", "Choose a template, fill it in, preview and print", "print"),
            ("Jobs", "Job history: filter, detail, reprint, cancel, hold, release", "jobs"),
            ("Health", "Readiness checks (re-run with r)", "health"),
            ("Stats", "Labels and media used per day", "stats"),
            ("Printers", "Find, add, edit and remove printers", "printers"),
        ]
        for title, help_text, mode in places:
            yield SystemCommand(title, help_text, _switch(self, mode))
        for binding in screen.BINDINGS:
            if isinstance(binding, Binding) and binding.description and binding.show:
                yield SystemCommand(binding.description, f"{binding.key} on this screen",
                                    _run_action(screen, binding.action))
        yield from super().get_system_commands(screen)


def _switch(app: App[Any], mode: str) -> Callable[[], Any]:
    return lambda: app.switch_mode(mode)


def _run_action(screen: Screen[Any], action: str) -> Callable[[], Any]:
    return lambda: screen.run_action(action)


def describe_error(exc: RpcError) -> str:
    data = exc.data if exc.has_data and isinstance(exc.data, dict) else {}
    if data.get("field") and data.get("reason"):
        return f"{data['field']}: {data['reason']}"
    if data.get("request_id"):
        return f"{exc.message} (request id {data['request_id']})"
    return exc.message


def terminal_gone(fd: int | None = None) -> bool:
    """stdin hung up or closed (the SSH session went away)."""
    import select

    if fd is None:
        stream = sys.__stdin__
        if stream is None:
            return True
        try:
            fd = stream.fileno()
        except (ValueError, OSError):
            return True
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR | select.POLLNVAL)
        events = poller.poll(0)
    except (OSError, ValueError):
        return True
    return any(mask & (select.POLLHUP | select.POLLERR | select.POLLNVAL) for _fd, mask in events)
