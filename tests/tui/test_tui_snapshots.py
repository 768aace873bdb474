"""SVG snapshots at 80×24 (clock, ages and the socket path masked). UPDATE_SNAPSHOTS=1 rewrites them."""

from __future__ import annotations

import asyncio

import pytest

from appliance.app import Appliance
from rpc.client import RpcClient
from tests.tui.helpers import SIZE, assert_snapshot, connected, make_app, text_of, until
from tui import fmt
from tui.app import ApplianceApp
from tui.widgets import LabelPreview


@pytest.fixture(autouse=True)
def _deterministic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fmt, "short_time", lambda text: "12:00:00" if text else "-")
    monkeypatch.setattr(fmt, "age", lambda seconds: "3 s ago")
    monkeypatch.setattr(ApplianceApp, "target_text", property(lambda self: "unix:/run/appliance/rpc.sock"))


async def settle(app: ApplianceApp, pilot) -> None:  # type: ignore[no-untyped-def]
    app.clear_notifications()
    app.screen.set_focus(None)
    for _ in range(3):
        await pilot.pause(0.2)
        await pilot.wait_for_scheduled_animations()


async def test_snapshot_dashboard(appliance: Appliance) -> None:
    async with RpcClient(socket_path=str(appliance.settings.socket_path)) as rpc:
        first = await rpc.call("print.submit", {"template": "text", "fields": {"text": "one"}})
        await rpc.call("print.submit", {"template": "bin-label", "fields": {"text": "M3"}, "hold": True})
        for _ in range(200):
            if (await rpc.call("job.get", {"job_id": first["id"]}))["state"] == "completed":
                break
            await asyncio.sleep(0.05)
    appliance.simulator.printer.update(cover_open=True)
    await appliance.printers[0].monitor.probe_now()
    app = make_app(appliance)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        await until(pilot, lambda: "Cover open" in text_of(app, "#printers") and "1 held" in text_of(app, "#queue")
                    and "PT-P750W" in text_of(app, "#printers"))
        await until(pilot, lambda: all(j["state"] in ("completed", "held") for j in app.store.jobs.values()))
        await settle(app, pilot)
        assert_snapshot(app, "dashboard")


async def test_snapshot_print_with_preview(appliance: Appliance) -> None:
    app = make_app(appliance)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        await pilot.press("p")
        await until(pilot, lambda: app.screen.query_one("#field-text"))
        app.screen.query_one("#field-text").focus()
        await pilot.press(*"Shelf A3")
        preview = app.screen.query_one("#preview", LabelPreview)
        await until(pilot, lambda: preview.bitmap is not None and "mm on" in text_of(app, "#preview-info"))
        await settle(app, pilot)
        assert_snapshot(app, "print_preview")


async def test_snapshot_job_detail(appliance: Appliance) -> None:
    async with RpcClient(socket_path=str(appliance.settings.socket_path)) as rpc:
        # a held job: its timeline is deterministic (a printed one may or may not log a "printing" step)
        await rpc.call("print.submit", {"template": "text", "fields": {"text": "detail", "line2": "two"},
                                        "copies": 3, "hold": True})
    app = make_app(appliance)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        await pilot.press("j")
        await until(pilot, lambda: app.screen.query_one("#jobs").row_count == 1)
        await pilot.press("enter")
        await until(pilot, lambda: "‖ held" in text_of(app, "#job-summary"))
        await until(pilot, lambda: app.screen.query_one("#timeline").row_count >= 1)
        await settle(app, pilot)
        assert_snapshot(app, "job_detail")
