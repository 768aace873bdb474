"""Driving the real TUI (Pilot) against the real in-process server."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from tui.app import ApplianceApp
from tui.config import Target

SIZE = (80, 24)
SNAPSHOTS = Path(__file__).parent / "snapshots"


def make_app(appliance: Any) -> ApplianceApp:
    return ApplianceApp(Target(None, str(appliance.settings.socket_path), None), backoff_initial=0.05,
                        backoff_max=0.3)


async def until(pilot: Pilot[Any], predicate: Callable[[], Any], timeout: float = 20.0, what: str = "") -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            if predicate():
                return
        except Exception:
            pass
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not in time: {what or predicate}")
        await pilot.pause(0.05)


def text_of(app: ApplianceApp, selector: str) -> str:
    widget = app.screen.query_one(selector)
    content = widget.render()
    return str(getattr(content, "plain", content))


def table_rows(app: ApplianceApp, selector: str) -> list[list[str]]:
    table = app.screen.query_one(selector)
    return [[str(getattr(c, "plain", c)) for c in table.get_row_at(i)] for i in range(table.row_count)]


def notifications(app: ApplianceApp) -> list[str]:
    return [n.message for n in app._notifications]


async def connected(pilot: Pilot[Any]) -> None:
    app: ApplianceApp = pilot.app  # type: ignore[assignment]
    await until(pilot, lambda: app.conn.state == "connected" and app.store.loaded and app.templates,
                what="connected with a snapshot and the catalogue")


async def print_form(pilot: Pilot[Any]) -> None:
    """Connected, on the print screen, with the default template's form built."""
    await connected(pilot)
    await pilot.press("p")
    await until(pilot, lambda: pilot.app.screen.query_one("#field-text"), what="the print form")


def normalise_svg(svg: str) -> str:
    svg = re.sub(r"terminal-\d+", "terminal-ID", svg)
    return svg


def assert_snapshot(app: ApplianceApp, name: str) -> None:
    """Compare an SVG screenshot with tests/tui/snapshots/<name>.svg (UPDATE_SNAPSHOTS=1 rewrites it)."""
    svg = normalise_svg(app.export_screenshot(title="Label Appliance"))
    path = SNAPSHOTS / f"{name}.svg"
    if os.environ.get("UPDATE_SNAPSHOTS") or not path.exists():
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(svg)
        return
    expected = path.read_text()
    if svg != expected:
        failed = path.with_suffix(".failed.svg")
        failed.write_text(svg)
        raise AssertionError(f"screen differs from {path.name}; see {failed} (UPDATE_SNAPSHOTS=1 to accept)")
