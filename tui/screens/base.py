"""What every screen has: the status bar, the connection banner, the footer; and a way to run
network calls in workers so that no handler ever waits for the network."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer

from ..widgets import Banner, StatusBar

if TYPE_CHECKING:
    from ..app import ApplianceApp


class BaseScreen(Screen[Any]):
    PAGE = ""

    @property
    def appliance(self) -> ApplianceApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield StatusBar(self.PAGE)
        yield Banner()
        yield from self.body()
        yield Footer(compact=True)

    def body(self) -> Iterable[Widget]:
        return ()

    def on_mount(self) -> None:
        self.watch(self.app, "revision", self._revision_changed, init=False)

    def _revision_changed(self, _revision: int) -> None:
        self.data_changed(self.appliance.last_topic)

    def data_changed(self, topic: str | None) -> None:
        """The Store changed (topic: printers, jobs, queue, snapshot, catalogue)."""

    def background(self, work: Callable[[], Awaitable[Any]], *, group: str, exclusive: bool = True) -> None:
        """Run `work` in a worker; an exception becomes a notification, never a crash."""

        async def guarded() -> None:
            try:
                await work()
            except Exception as exc:
                from rpc.errors import RpcError

                from ..app import describe_error

                text = describe_error(exc) if isinstance(exc, RpcError) else f"{type(exc).__name__}: {exc}"
                self.app.notify(text, severity="error", timeout=8)

        self.run_worker(guarded, group=group, exclusive=exclusive, exit_on_error=False)
