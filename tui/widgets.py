"""Widgets every screen shares: the status bar, the connection banner, the label preview."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.widget import Widget
from textual.widgets import Static

if TYPE_CHECKING:
    from .app import ApplianceApp, Conn

STATE_TEXT = {"connecting": "◌ connecting…", "connected": "● connected", "disconnected": "✗ disconnected",
              "closed": "✗ closed"}


class StatusBar(Static):
    """One line at the top: where we are, and the connection state in words."""

    DEFAULT_CSS = "StatusBar { dock: top; height: 1; background: $panel; color: $text; }"

    def __init__(self, title: str) -> None:
        super().__init__(id="status-bar")
        self.page_title = title

    def on_mount(self) -> None:
        self.watch(self.app, "conn", self._changed)
        self.watch(self.app, "tls_fingerprint", self._changed, init=False)

    def _changed(self, _conn: Any) -> None:
        self.refresh()

    def render(self) -> Text:
        app: ApplianceApp = self.app  # type: ignore[assignment]
        conn: Conn = app.conn
        tls = f" TLS {app.tls_fingerprint}" if app.tls_fingerprint else ""
        right = f"{STATE_TEXT.get(conn.state, conn.state)} {app.target_text}{tls} "
        left = f" Label Appliance › {self.page_title}"
        width = self.size.width or 80
        room = width - len(left) - 1
        if len(right) > room:
            right = right[: max(0, room - 1)] + "…"
        text = Text(left, style="bold")
        text.append(" " * max(1, width - len(left) - len(right)))
        text.append(right, style="bold" if conn.state == "connected" else "bold reverse")
        return text


class Banner(Static):
    """Shown only while the connection is down: what happened and what the TUI is doing about it."""

    DEFAULT_CSS = """
    Banner { height: auto; display: none; background: $warning 30%; color: $text; padding: 0 1; }
    Banner.-shown { display: block; }
    """

    def __init__(self) -> None:
        super().__init__("", id="banner")

    def on_mount(self) -> None:
        self.watch(self.app, "conn", self._changed)

    def _changed(self, conn: Conn) -> None:
        app: ApplianceApp = self.app  # type: ignore[assignment]
        down = conn.state == "disconnected" or (conn.state == "connecting" and conn.attempt > 0)
        self.set_class(down, "-shown")
        if not down:
            return
        head = "⚠ Connection lost" if app.ever_connected else "⚠ Cannot reach the appliance"
        retry = f"; retrying in {conn.retry_in:.1f} s" if conn.retry_in is not None else "; retrying now"
        tail = " Shown data may be out of date." if app.ever_connected else \
            " Start it with `appliance serve`, or use --url/--token."
        self.update(f"{head} ({conn.detail}){retry} (attempt {conn.attempt}).{tail}")


class LabelPreview(Widget):
    """The label drawn with half blocks (▀▄█), two pixel rows per cell, at the label's aspect ratio."""

    DEFAULT_CSS = """
    LabelPreview { height: auto; width: 100%; min-height: 1; }
    """

    def __init__(self, max_rows: int = 8, **kw: Any) -> None:
        super().__init__(**kw)
        self.max_rows = max_rows
        self.bitmap: Any = None
        self.dpi = (180.0, 180.0)
        self.message = "no preview yet"
        self._lines: list[str] = []
        self._for_width = -1

    def show(self, bitmap: Any, feed_dpi: float, head_dpi: float) -> None:
        self.bitmap = bitmap
        self.dpi = (feed_dpi, head_dpi)
        self._for_width = -1
        self.refresh(layout=True)

    def show_message(self, message: str) -> None:
        self.bitmap = None
        self.message = message
        self.refresh(layout=True)

    def _compute(self, width: int) -> list[str]:
        from . import pixels

        if self.bitmap is None:
            return []
        if width != self._for_width:
            self._lines = pixels.render(self.bitmap, self.dpi[0], self.dpi[1], max(4, width - 2), self.max_rows)
            self._for_width = width
        return self._lines

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        lines = self._compute(width)
        return len(lines) + 2 if lines else 1

    def render(self) -> Text:
        lines = self._compute(self.size.width)
        if not lines:
            return Text(self.message, style="italic")
        cols = len(lines[0])
        pad = max(0, (self.size.width - cols - 2) // 2)
        out = Text()
        paper = "black on white"
        edge = " " * pad
        out.append(edge + "▁" * (cols + 2) + "\n")
        for line in lines:
            out.append(edge + "▏")
            out.append(line, style=paper)
            out.append("▕\n")
        out.append(edge + "▔" * (cols + 2))
        return out
