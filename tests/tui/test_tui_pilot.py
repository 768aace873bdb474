"""The TUI driven by Pilot at 80×24 against the real server and its virtual printer."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets import Select

from appliance.app import Appliance
from rpc.client import RpcClient
from tests.damaged import damage, damaged_settings, queued_on_a_paused_printer, until_stopped
from tests.support import configured, make_settings, printer_table, running
from tests.tui.helpers import SIZE, connected, make_app, notifications, print_form, table_rows, text_of, until
from tui.widgets import Banner, LabelPreview


async def test_dashboard_live_printer_status_and_cover_open(appliance: Appliance) -> None:
    app = make_app(appliance)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        await until(pilot, lambda: "✓ ready" in text_of(app, "#printers"), what="printer ready")
        printers = text_of(app, "#printers")
        assert "virtual (PT-P750W)" in printers
        assert "Tape: 12 mm" in printers and "probed" in printers
        assert "Queue: 0 pending" in text_of(app, "#queue")
        assert "● connected" in text_of(app, "#status-bar")
        appliance.simulator.printer.update(cover_open=True)
        await appliance.printers[0].monitor.probe_now()
        await until(pilot, lambda: "Cover open" in text_of(app, "#printers"), what="cover open shown")
        printers = text_of(app, "#printers")
        assert "■ needs attention" in printers  # in words and a symbol, not colour alone
        assert "⚠ Cover open — close it to continue" in printers
        appliance.simulator.printer.update(cover_open=False)
        await appliance.printers[0].monitor.probe_now()
        await until(pilot, lambda: "Cover open" not in text_of(app, "#printers"), what="cover closed")


async def test_print_from_print_screen_then_completed_on_jobs_screen(appliance: Appliance) -> None:
    app = make_app(appliance)
    async with app.run_test(size=SIZE) as pilot:
        await print_form(pilot)
        app.screen.query_one("#field-text").focus()
        await pilot.press(*"Hello TUI")
        preview = app.screen.query_one("#preview", LabelPreview)
        await until(pilot, lambda: preview.bitmap is not None, what="preview drawn")
        drawn = "".join(preview._compute(preview.size.width))
        assert set(drawn) <= {" ", "▀", "▄", "█"} and "█" in drawn
        assert "mm on 12mm" in text_of(app, "#preview-info")
        app.screen.query_one("#copies").value = "2"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "completed" in text_of(app, "#progress"), what="job completed")
        assert "2 labels printed" in text_of(app, "#progress")
        job_id = app.screen.job_id
        await pilot.press("escape", "j")
        await until(pilot, lambda: any(r[0] == f"#{job_id}" and r[1] == "✓ completed"
                                       for r in table_rows(app, "#jobs")), what="completed on the Jobs screen")
        row = next(r for r in table_rows(app, "#jobs") if r[0] == f"#{job_id}")
        assert row[2:4] == ["text", "virtual"] and row[5] == "2"
    printed = list((appliance.settings.state_dir / "printed").glob("*.png"))
    assert printed, "the virtual printer saved the label"


async def test_validation_error_next_to_its_field(appliance: Appliance) -> None:
    app = make_app(appliance)
    async with app.run_test(size=SIZE) as pilot:
        await print_form(pilot)
        app.screen.query_one("#template").value = "asset-tag"
        await until(pilot, lambda: app.screen.query_one("#field-asset_id"), what="asset-tag form")
        app.screen.query_one("#field-name").focus()
        await pilot.press(*"Drill")
        app.screen.query_one("#field-asset_id").focus()
        await pilot.press(*"A 17")  # a space does not match the pattern
        await until(pilot, lambda: "does not match" in text_of(app, "#err-asset_id"), what="field error")
        assert text_of(app, "#err-asset_id").startswith("✗ ")
        assert text_of(app, "#err-name") == ""
        await pilot.press("backspace", "backspace", "backspace", "backspace", *"A-17")
        await until(pilot, lambda: text_of(app, "#err-asset_id") == "", what="error cleared")
        # the text template: an emptied required field is named
        app.screen.query_one("#template").value = "text"
        await until(pilot, lambda: app.screen.query_one("#field-text"), what="text form")
        app.screen.query_one("#field-text").focus()
        await pilot.press("x", "backspace")
        await until(pilot, lambda: "required" in text_of(app, "#err-text"), what="required")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: any("fix the field" in m for m in notifications(app)), what="not printed")


async def test_switching_between_templates_that_share_a_field_rebuilds_the_form(appliance: Appliance) -> None:
    # text, bin-label and cable-flag all have a field `text`: the new rows used to be mounted before
    # the old ones were gone, and their ids clashed (DuplicateIds crashed the TUI)
    app = make_app(appliance)
    async with app.run_test(size=SIZE) as pilot:
        await print_form(pilot)
        for name, only_here in (("bin-label", "#field-code"), ("cable-flag", "#field-cable_diameter_mm"),
                                ("text", "#field-line2"), ("bin-label", "#field-code")):
            app.screen.query_one("#template").value = name
            await until(pilot, lambda sel=only_here: app.screen.query(sel), what=f"{name} form")
            await pilot.pause()
            assert len(app.screen.query("#field-text")) == 1 and len(app.screen.query("#err-text")) == 1
        assert app.is_running


async def test_replay_a_job_from_its_detail(appliance: Appliance) -> None:
    async with RpcClient(socket_path=str(appliance.settings.socket_path)) as rpc:
        job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "again"}})
    app = make_app(appliance)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        await until(pilot, lambda: app.store.jobs[job["id"]]["state"] == "completed", what="first job done")
        await pilot.press("j")
        await until(pilot, lambda: table_rows(app, "#jobs"), what="jobs listed")
        await pilot.press("enter")
        await until(pilot, lambda: "✓ completed" in text_of(app, "#job-summary"), what="detail")
        assert any(r[1] == "sent" for r in table_rows(app, "#timeline"))
        await pilot.press("r")
        await until(pilot, lambda: type(app.screen).__name__ == "ReprintDialog", what="dialog")
        await pilot.press("b")  # byte-identical
        await until(pilot, lambda: any(j.get("origin_job_id") == job["id"] and j["state"] == "completed"
                                       for j in app.store.jobs.values()), what="reprint completed")
        assert any("reprinted (byte-identical)" in m for m in notifications(app))
        await pilot.press("r")
        await until(pilot, lambda: type(app.screen).__name__ == "ReprintDialog", what="dialog")
        await pilot.press("escape")  # nothing happens
        await until(pilot, lambda: type(app.screen).__name__ == "JobDetailScreen", what="back")
    reprints = [j for j in app.store.jobs.values() if j.get("origin_job_id") == job["id"]]
    assert len(reprints) == 1
    assert len(list((appliance.settings.state_dir / "printed").glob("*.png"))) == 2


async def test_hold_release_cancel_from_jobs_screen(appliance: Appliance) -> None:
    async with RpcClient(socket_path=str(appliance.settings.socket_path)) as rpc:
        job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "held"}, "hold": True})
    app = make_app(appliance)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        await pilot.press("j")
        await until(pilot, lambda: table_rows(app, "#jobs")[0][1] == "‖ held", what="held job listed")
        await pilot.press("x")
        await until(pilot, lambda: type(app.screen).__name__ == "ConfirmDialog", what="confirm")
        await pilot.press("y")
        await until(pilot, lambda: table_rows(app, "#jobs")[0][1] == "⊘ canceled", what="canceled")
        assert app.store.jobs[job["id"]]["state"] == "canceled"
        # a canceled job cannot be canceled, held or released again: those keys are greyed out and do nothing
        assert [app.screen.check_action(a, ()) for a in ("cancel_job", "hold", "release", "reprint")] == [
            None, None, None, True]
        await pilot.press("x")
        await pilot.pause(0.2)
        assert type(app.screen).__name__ == "JobsScreen"


async def test_server_error_becomes_a_notification(appliance: Appliance) -> None:
    from tui.screens.jobs import JobDetailScreen

    app = make_app(appliance)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        await app.push_screen(JobDetailScreen(9999))
        await until(pilot, lambda: notifications(app), what="a notification")
        assert app.is_running and type(app.screen).__name__ == "JobDetailScreen"


async def test_readiness_and_stats(appliance: Appliance) -> None:
    app = make_app(appliance)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        # readiness warns until the printer's first status is in (a busy machine can take a moment)
        printers = list(appliance.queue.printers.values())
        await until(pilot, lambda: all(p.monitor.snapshot.state != "unknown" for p in printers),
                    what="the printer's first status")
        await pilot.press("h")
        await until(pilot, lambda: "✓ pass" in text_of(app, "#overall"), what="readiness")
        checks = {r[0]: r[1] for r in table_rows(app, "#checks")}
        assert checks["sqlite:responseTime"] == "✓ pass"
        assert checks["printer:status · virtual"] == "✓ pass"  # which printer the row is about
        await pilot.press("r")
        await until(pilot, lambda: "✓ pass" in text_of(app, "#overall"), what="re-run")
        await pilot.press("s")
        await until(pilot, lambda: "Last 14 days" in text_of(app, "#stats-summary"), what="stats")
        assert len(app.screen.query_one("#labels-spark").data) == 14
        assert "Tape used per day" in text_of(app, "#tape-label")  # a PT-P750W: its tape, as before


async def test_a_ql_with_die_cut_labels_reads_as_labels_and_its_stats_as_its_roll(state_dir: Path) -> None:
    """Die-cut labels are labels of a size, not a "29x90 roll": on the dashboard, in a job's details and in the
    stats, which speak of the QL's roll, not of tape."""
    async with running(make_settings(state_dir, simulator={"model": "QL-820NWB", "tape": "29x90"})) as appliance, \
            RpcClient(socket_path=str(appliance.settings.socket_path)) as rpc:
        job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "die-cut"}, "copies": 2})
        app = make_app(appliance)
        async with app.run_test(size=SIZE) as pilot:
            await connected(pilot)
            await until(pilot, lambda: "Roll: 29 × 90 mm die-cut labels, black on white" in text_of(app, "#printers"),
                        what="the loaded labels")
            await pilot.press("j")
            await until(pilot, lambda: any(r[0] == f"#{job['id']}" and r[1] == "✓ completed"
                                           for r in table_rows(app, "#jobs")), what="the job completed")
            await pilot.press("enter")
            await until(pilot, lambda: "29×90 mm labels" in text_of(app, "#job-summary"), what="job details")
            assert "roll 29x90" not in text_of(app, "#job-summary")
            await pilot.press("escape", "s")
            await until(pilot, lambda: "Last 14 days" in text_of(app, "#stats-summary"), what="stats")
            words = text_of(app, "#stats-summary") + text_of(app, "#tape-label")
            assert "2 labels" in words and "of roll used" in words and "Roll used per day" in words, words
            assert "tape" not in words.lower(), words
            assert table_rows(app, "#per-tape")[0][:2] == ["29×90 mm labels", "2"]


async def test_the_dashboard_and_a_jobs_details_show_the_media_in_the_servers_words(appliance: Appliance) -> None:
    """The TUI has no words of its own for media: the dashboard shows printer.status's media_noun and
    media_description, a job's details its media_description, each as the server sends it (the print
    screen's printer choice shows that description too: see the print_preview snapshot)."""
    async with RpcClient(socket_path=str(appliance.settings.socket_path)) as rpc:
        await appliance.printers[0].monitor.probe_now()  # the loaded tape's colours come with a status block
        job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "named"}})
        status = await rpc.call("printer.status")
    assert (status["media_noun"], status["media_description"], job["media_description"]) == (
        "tape", "12 mm laminated, black on white", "12mm tape")
    app = make_app(appliance)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        await until(pilot, lambda: "Tape: 12 mm laminated, black on white" in text_of(app, "#printers"),
                    what="the loaded tape in the server's words")
        await pilot.press("j")
        await until(pilot, lambda: any(r[0] == f"#{job['id']}" for r in table_rows(app, "#jobs")), what="listed")
        await pilot.press("enter")
        await until(pilot, lambda: "1 copy · 12mm tape" in text_of(app, "#job-summary"), what="job details")


async def test_server_restart_banner_reconnect_fresh_data(state_dir: Path) -> None:
    first = Appliance(make_settings(state_dir))
    await first.start()
    second: Appliance | None = None
    app = make_app(first)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await connected(pilot)
            banner = app.screen.query_one(Banner)
            assert not banner.has_class("-shown")
            await first.stop()
            await until(pilot, lambda: banner.has_class("-shown"), what="banner")
            assert "Connection lost" in text_of(app, "#banner")
            assert "✗ disconnected" in text_of(app, "#status-bar")
            second = Appliance(make_settings(state_dir))
            await second.start()
            async with RpcClient(socket_path=str(second.settings.socket_path)) as rpc:
                job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "after"}})
            await until(pilot, lambda: app.conn.state == "connected", what="reconnected")
            await until(pilot, lambda: any(r[0] == f"#{job['id']}" for r in table_rows(app, "#recent")),
                        what="fresh data")
            assert not banner.has_class("-shown")
            assert any("Reconnected" in m for m in notifications(app))
            await pilot.press("q")
        assert app.return_code == 0
    finally:
        if second is not None:
            await second.stop()
        await first.stop()
    await asyncio.sleep(0)


async def test_not_running_shows_banner_and_quits_cleanly(tmp_path: Path) -> None:
    from tui.app import ApplianceApp
    from tui.config import Target

    app = ApplianceApp(Target(None, str(tmp_path / "none.sock"), None), backoff_initial=0.05, backoff_max=0.2)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.screen.query_one(Banner).has_class("-shown"), what="banner")
        assert "Cannot reach the appliance" in text_of(app, "#banner")
        await pilot.pause(0.1)
        # the status line stays visible above the banner (words, not only colour)
        assert app.screen.query_one("#status-bar").region.y == 0
        assert app.screen.query_one(Banner).region.y == 1
        assert "✗ disconnected" in text_of(app, "#status-bar") or "◌ connecting" in text_of(app, "#status-bar")
        await pilot.press("ctrl+c")
    assert app.return_code == 0


async def test_over_tcp_with_a_token(appliance: Appliance) -> None:
    from tests.rpc_ws.test_ws_client import make_token
    from tui.app import ApplianceApp
    from tui.config import Target

    token = await make_token(appliance)
    app = ApplianceApp(Target(appliance.listeners.url, None, token))
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        assert f"● connected {appliance.listeners.url}" in text_of(app, "#status-bar")
        await until(pilot, lambda: "✓ ready" in text_of(app, "#printers"), what="printer over TCP")


async def test_probe_age_stays_near_the_probe_interval_while_nothing_changes(state_dir: Path) -> None:
    settings = make_settings(state_dir, simulator={"poll_interval_s": 0.3})
    async with running(settings) as appliance:
        app = make_app(appliance)
        async with app.run_test(size=SIZE) as pilot:
            await connected(pilot)
            printer_id = next(iter(app.store.printers))
            assert app.store.printers[printer_id]["probe_interval_s"] == 0.3
            await pilot.pause(3.0)  # the server probed ten times; nothing changed, so nothing was announced
            # asked again once the status is older than the interval (and a slack): it was ≈3 s old
            # when the dashboard waited a fixed 20 s
            assert app.store.age_of(printer_id) < 1.6
            assert "probed" in text_of(app, "#printers") and " 3 s ago" not in text_of(app, "#printers")


async def test_a_printer_that_cannot_be_asked_says_so_rather_than_not_probed_yet(tmp_path: Path) -> None:
    settings = configured(tmp_path / "state", tmp_path,
                          printer_table("to-file", "QL-820NWB", f"file://{tmp_path / 'out.prn'}", "62mm"))
    async with running(settings) as appliance:
        app = make_app(appliance)
        async with app.run_test(size=SIZE) as pilot:
            await connected(pilot)
            await until(pilot, lambda: "to-file" in text_of(app, "#printers"), what="the printer listed")
            printers = text_of(app, "#printers")
            assert "no status (cannot be asked)" in printers, printers
            assert "not probed yet" not in printers and "probed never" not in printers
            assert "Roll: 62 mm" in printers and "Tape" not in printers  # from the configuration; a QL takes rolls


async def test_the_cut_is_chosen_from_what_the_printer_can_make(appliance: Appliance) -> None:
    app = make_app(appliance)
    async with app.run_test(size=SIZE) as pilot:
        await print_form(pilot)
        screen = app.screen
        cut = screen.query_one("#cut", Select)
        await until(pilot, lambda: len(screen._cut_options) == 4, what="the PT-P750W's cuts")  # type: ignore[attr-defined]
        assert [v for _, v in screen._cut_options] == ["full", "half", "chain", "none"]  # type: ignore[attr-defined]
        app.screen.query_one("#field-text").focus()
        await pilot.press(*"Half")
        cut.value = "half"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "completed" in text_of(app, "#progress"), what="job completed")
    async with RpcClient(socket_path=str(appliance.settings.socket_path)) as rpc:
        job = (await rpc.call("job.list", {}))["jobs"][0]
    assert job["options"] == {"cut": "half"} and job["fields"]["text"] == "Half"


async def test_a_ql_is_not_offered_a_half_cut(state_dir: Path) -> None:
    async with running(make_settings(state_dir, simulator={"model": "QL-820NWB", "tape": "62mm"})) as appliance:
        app = make_app(appliance)
        async with app.run_test(size=SIZE) as pilot:
            await print_form(pilot)
            screen = app.screen
            await until(pilot, lambda: len(screen._cut_options) == 3, what="the QL's cuts")  # type: ignore[attr-defined]
            assert [v for _, v in screen._cut_options] == ["full", "chain", "none"]  # type: ignore[attr-defined]


async def test_the_jobs_cursor_stays_on_its_job_when_new_jobs_come_in(appliance: Appliance) -> None:
    async with RpcClient(socket_path=str(appliance.settings.socket_path)) as rpc:
        first = await rpc.call("print.submit", {"template": "text", "fields": {"text": "one"}, "hold": True})
        await rpc.call("print.submit", {"template": "text", "fields": {"text": "two"}, "hold": True})
        app = make_app(appliance)
        async with app.run_test(size=SIZE) as pilot:
            await connected(pilot)
            await pilot.press("j")
            await until(pilot, lambda: len(table_rows(app, "#jobs")) == 2, what="two jobs listed")
            await pilot.press("down")  # onto the older job
            assert app.screen.current_job_id() == first["id"]
            await rpc.call("print.submit", {"template": "text", "fields": {"text": "three"}, "hold": True})
            await until(pilot, lambda: len(table_rows(app, "#jobs")) == 3, what="the new job listed")
            # before, the cursor kept its row number: it moved onto another job under the person's eyes
            assert app.screen.current_job_id() == first["id"]
            assert "3 jobs" in text_of(app, "#page-info")


async def test_pause_and_resume_from_the_dashboard_and_a_waiting_job_says_why(appliance: Appliance) -> None:
    app = make_app(appliance)
    async with app.run_test(size=SIZE) as pilot, RpcClient(socket_path=str(appliance.settings.socket_path)) as rpc:
        await connected(pilot)
        await pilot.press("P")
        await until(pilot, lambda: "queue paused (P resumes)" in text_of(app, "#printers"), what="paused shown")
        assert appliance.printers[0].paused  # the server's queue, not only the screen
        job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "waits"}})
        await until(pilot, lambda: any(r[0] == f"#{job['id']}" and r[1] == "… pending (paused)"
                                       for r in table_rows(app, "#recent")), what="pending (paused) listed")
        await pilot.press("enter")  # its detail says what it waits for and how to end it
        await until(pilot, lambda: "Waiting: its printer's queue is paused: P on the Dashboard resumes it"
                    in text_of(app, "#job-summary"), what="waiting in the detail")
        await pilot.press("escape", "P")
        await until(pilot, lambda: app.store.jobs.get(job["id"], {}).get("state") == "completed", what="printed")
        assert not appliance.printers[0].paused and "queue paused" not in text_of(app, "#printers")


async def test_with_two_printers_pause_asks_which_and_jobs_filter_by_printer(tmp_path: Path) -> None:
    settings = configured(tmp_path / "state", tmp_path,
                          printer_table("shelf", "PT-P750W", f"file://{tmp_path / 'shelf.prn'}", "12mm"),
                          printer_table("ship", "QL-820NWB", f"file://{tmp_path / 'ship.prn'}", "62mm"))
    async with running(settings) as appliance, RpcClient(socket_path=str(appliance.settings.socket_path)) as rpc:
        ids = {p["name"]: p["id"] for p in await rpc.call("printer.list")}
        for name in ("shelf", "ship", "ship"):
            await rpc.call("print.submit", {"template": "text", "fields": {"text": name}, "printer_id": name,
                                            "hold": True})
        app = make_app(appliance)
        async with app.run_test(size=SIZE) as pilot:
            await connected(pilot)
            await pilot.press("P")
            await until(pilot, lambda: type(app.screen).__name__ == "PrinterChoice", what="which printer?")
            await pilot.press("down", "enter")  # the second: ship
            await until(pilot, lambda: app.store.printers[ids["ship"]].get("paused"), what="ship paused")
            assert not app.store.printers[ids["shelf"]].get("paused")
            assert {p.name: p.paused for p in appliance.printers} == {"shelf": False, "ship": True}

            await pilot.press("j")
            await until(pilot, lambda: len(table_rows(app, "#jobs")) == 3, what="all jobs listed")
            app.screen.query_one("#printer-filter", Select).value = ids["ship"]
            await until(pilot, lambda: len(table_rows(app, "#jobs")) == 2, what="ship's jobs only")
            assert {r[3] for r in table_rows(app, "#jobs")} == {"ship"}
            assert "ship" in text_of(app, "#page-info")
            await rpc.call("print.submit", {"template": "text", "fields": {"text": "new on shelf"},
                                            "printer_id": "shelf", "hold": True})
            await rpc.call("print.submit", {"template": "text", "fields": {"text": "new on ship"},
                                            "printer_id": "ship", "hold": True})
            await until(pilot, lambda: len(table_rows(app, "#jobs")) == 3, what="the new ship job listed")
            await pilot.pause(0.3)
            assert {r[3] for r in table_rows(app, "#jobs")} == {"ship"}  # the shelf job stays out


async def test_a_printer_that_refuses_print_connections_is_not_shown_ready(appliance: Appliance) -> None:
    app = make_app(appliance)
    async with app.run_test(size=SIZE) as pilot, RpcClient(socket_path=str(appliance.settings.socket_path)) as rpc:
        await connected(pilot)
        await until(pilot, lambda: "✓ ready" in text_of(app, "#printers"), what="ready")
        appliance.simulator.printer.update(offline=True)  # the raster port refuses; SNMP still says idle
        job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "refused"}})
        await until(pilot, lambda: "✗ takes no jobs" in text_of(app, "#printers"), what="refusal shown")
        assert "✓ ready" not in text_of(app, "#printers") and "refuses print jobs" in text_of(app, "#printers")
        appliance.simulator.printer.update(offline=False)
        await until(pilot, lambda: app.store.jobs.get(job["id"], {}).get("state") == "completed", timeout=20,
                    what="printed once it takes connections")
        await until(pilot, lambda: "✓ ready" in text_of(app, "#printers"), what="ready again")


async def test_a_waiting_job_is_moved_to_another_printer_from_the_jobs_screen(tmp_path: Path) -> None:
    settings = configured(tmp_path / "state", tmp_path,
                          printer_table("shelf", "PT-P750W", f"file://{tmp_path / 'shelf.prn'}", "12mm"),
                          printer_table("ship", "QL-820NWB", f"file://{tmp_path / 'ship.prn'}", "62mm"))
    async with running(settings) as appliance, RpcClient(socket_path=str(appliance.settings.socket_path)) as rpc:
        ids = {p["name"]: p["id"] for p in await rpc.call("printer.list")}
        await rpc.call("printer.pause", {"printer_id": "shelf"})
        job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "move me"}, "printer_id": "shelf"})
        app = make_app(appliance)
        async with app.run_test(size=SIZE) as pilot:
            await connected(pilot)
            await pilot.press("j")
            await until(pilot, lambda: table_rows(app, "#jobs"), what="the job listed")
            assert table_rows(app, "#jobs")[0][1] == "… pending (paused)"
            await pilot.press("m")
            await until(pilot, lambda: type(app.screen).__name__ == "PrinterChoice", what="which printer?")
            await pilot.press("enter")  # the only other one: ship
            await until(pilot, lambda: app.store.jobs.get(job["id"], {}).get("state") == "completed",
                        what="printed on ship")
            assert app.store.jobs[job["id"]]["printer_id"] == ids["ship"]
            await until(pilot, lambda: table_rows(app, "#jobs")[0][3] == "ship", what="listed on ship")
            assert any("moved to ship" in m for m in notifications(app))
    assert (tmp_path / "ship.prn").stat().st_size > 0 and not (tmp_path / "shelf.prn").exists()


async def test_a_second_ctrl_s_while_the_first_is_on_its_way_prints_no_second_label(appliance: Appliance) -> None:
    app = make_app(appliance)
    async with app.run_test(size=SIZE) as pilot:
        await print_form(pilot)
        app.screen.query_one("#field-text").focus()
        await pilot.press(*"Once")
        app.screen.action_submit()  # two presses in one go: the first answer has not come yet
        app.screen.action_submit()
        await until(pilot, lambda: "completed" in text_of(app, "#progress"), what="job completed")
        assert any("Still sending the last label" in m for m in notifications(app))
        await pilot.press("ctrl+s")  # once queued, another press is another label
        await until(pilot, lambda: sum(j.get("fields", {}).get("text") == "Once" for j in app.store.jobs.values()) == 2,
                    what="the second label")
    async with RpcClient(socket_path=str(appliance.settings.socket_path)) as rpc:
        listed = (await rpc.call("job.list"))["jobs"]
    assert len([j for j in listed if j["fields"]["text"] == "Once"]) == 2


async def test_canceling_a_job_the_printer_holds_warns_that_it_may_still_print(appliance: Appliance) -> None:
    async with RpcClient(socket_path=str(appliance.settings.socket_path)) as rpc:
        appliance.simulator.printer.update(tape_remaining_mm=5)  # runs out mid-label: the printer keeps the job
        job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "kept by the printer"}})
        app = make_app(appliance)
        async with app.run_test(size=SIZE) as pilot:
            await connected(pilot)
            await pilot.press("j")
            await until(pilot, lambda: table_rows(app, "#jobs")[0][1] == "■ stopped", what="stopped at the printer")
            await pilot.press("x")
            await until(pilot, lambda: type(app.screen).__name__ == "ConfirmDialog", what="confirm")
            assert "may still print it" in text_of(app, "#dialog-title")
            assert "cover closed, tape loaded" in text_of(app, "#dialog-title")  # printer.status's media_noun
            await pilot.press("y")
            await until(pilot, lambda: app.store.jobs[job["id"]]["state"] == "canceled", what="canceled")
            assert "printer-may-still-print" in app.store.jobs[job["id"]]["reasons"]


async def test_a_stopped_job_says_why_in_the_servers_words(appliance: Appliance) -> None:
    """The TUI shows the job's `descriptions` as job.get has them: one wording for scripts and people."""
    appliance.simulator.printer.update(cover_open=True)
    await appliance.printers[0].monitor.probe_now()
    app = make_app(appliance)
    async with app.run_test(size=SIZE) as pilot, RpcClient(socket_path=str(appliance.settings.socket_path)) as rpc:
        await connected(pilot)
        job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "lid open"}})
        await until(pilot, lambda: any(r[0] == f"#{job['id']}" and "stopped" in r[1]
                                       for r in table_rows(app, "#recent")), what="stopped listed")
        said = (await rpc.call("job.get", {"job_id": job["id"]}))["descriptions"]
        assert said == ["Cover open — close it to continue"]
        await pilot.press("enter")
        await until(pilot, lambda: f"⚠ {said[0]}." in text_of(app, "#job-summary"), what="the server's words")


async def test_a_printer_silent_while_a_label_is_at_it_shows_what_its_job_says(fast: Appliance) -> None:
    """Not "✗ offline / Printer not reachable" beside a job saying it may still be printing."""
    app = make_app(fast)
    async with app.run_test(size=SIZE) as pilot, RpcClient(socket_path=str(fast.settings.socket_path)) as rpc:
        await connected(pilot)
        fast.simulator.printer.update(speed=10)  # a few seconds a label
        job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "at the printer"}})
        await until(pilot, lambda: app.store.jobs.get(job["id"], {}).get("state") == "processing", what="sent")
        fast.simulator.printer.update(snmp_silent=True)
        await until(pilot, lambda: app.store.jobs.get(job["id"], {}).get("state") == "stopped", timeout=15,
                    what="stopped")
        said = (await rpc.call("job.get", {"job_id": job["id"]}))["descriptions"]
        await until(pilot, lambda: "? status lost" in text_of(app, "#printers"), what="the printer's words")
        printers = text_of(app, "#printers")
        assert "✗ offline" not in printers and "not reachable" not in printers
        assert said[0][:60] in printers.replace("\n    ", " ")  # the job's sentence (wrapped at 80 columns)
        fast.simulator.printer.update(snmp_silent=False)
        await until(pilot, lambda: app.store.jobs[job["id"]]["state"] == "completed", timeout=20, what="done")
        await until(pilot, lambda: "✓ ready" in text_of(app, "#printers"), what="ready again")


async def test_a_printer_whose_queue_stopped_at_a_damaged_database_says_so_in_the_servers_words(
    state_dir: Path
) -> None:
    """The printer itself is ready; its queue sends nothing until a backup is restored: the dashboard says
    both, with the server's description, and a waiting job says the same, not "the queue is paused"."""
    queued = await queued_on_a_paused_printer(state_dir, 1)
    damage(state_dir, "job_artifacts")  # the worker cannot read the next job's raster
    async with running(damaged_settings(state_dir)) as appliance, \
            RpcClient(socket_path=str(appliance.settings.socket_path)) as rpc:
        app = make_app(appliance)
        async with app.run_test(size=SIZE) as pilot:
            await connected(pilot)
            await rpc.call("printer.resume", {})
            said = (await until_stopped(rpc))["queue_stopped"]["description"]
            await until(pilot, lambda: "✗ queue stopped" in text_of(app, "#printers"), what="queue stopped shown")
            printers = " ".join(text_of(app, "#printers").split())  # wrapped at 80 columns
            assert f"✗ Queue stopped: {' '.join(said.split())}" in printers
            assert "(P resumes)" not in printers
            assert app.store.waiting(await rpc.call("job.get", {"job_id": queued[0]})) == said


async def test_a_job_left_at_a_printer_whose_queue_stopped_says_why_in_its_detail(state_dir: Path) -> None:
    """The detail, open while the job is sent, says why nothing follows it once the queue stops (only the
    printer's status says so: the job itself is not written), in the words job.get and job.list give."""
    first = (await queued_on_a_paused_printer(state_dir, 1))[0]
    damage(state_dir, "jobs_by_state", first_leaf=True)  # its label goes out; its `completed` cannot be stored
    async with running(damaged_settings(state_dir)) as appliance, \
            RpcClient(socket_path=str(appliance.settings.socket_path)) as rpc:
        app = make_app(appliance)
        async with app.run_test(size=SIZE) as pilot:
            await connected(pilot)
            await pilot.press("j")  # the pending ones: the grown history fills the first page
            app.screen.query_one("#state-filter", Select).value = "pending"
            await until(pilot, lambda: [r[:2] for r in table_rows(app, "#jobs")]
                        == [[f"#{first}", "… pending (paused)"]], what="the job listed, paused")
            await pilot.press("enter")
            await until(pilot, lambda: "Waiting: its printer's queue is paused" in text_of(app, "#job-summary"),
                        what="paused in the detail")
            await rpc.call("printer.resume", {})
            said = (await until_stopped(rpc))["queue_stopped"]["description"]
            job = await rpc.call("job.get", {"job_id": first})
            listed = (await rpc.call("job.list", {"state": "processing"}))["jobs"]
            assert [(j["id"], j["waiting"]["description"]) for j in listed] == [(first, said)]
            assert (job["state"], job["waiting"]["description"]) == ("processing", said)
            await until(pilot, lambda: f"Waiting: {said}" in text_of(app, "#job-summary"), what="why, in the detail")
            summary = text_of(app, "#job-summary")
            assert "▶ processing" in summary and "paused" not in summary
            await pilot.press("escape")  # the list has it at the printer, as job.list does
            app.screen.query_one("#state-filter", Select).value = "processing"
            await until(pilot, lambda: [r[:2] for r in table_rows(app, "#jobs")]
                        == [[f"#{first}", "▶ processing (queue stopped)"]], what="processing listed, and why not done")


async def test_an_open_pending_jobs_detail_follows_a_pause_made_elsewhere(appliance: Appliance) -> None:
    """printer.pause writes nothing on the job: the detail follows its printer's queue, not only the job."""
    appliance.simulator.printer.update(offline=True)  # the raster port refuses: the job stays pending
    app = make_app(appliance)
    async with app.run_test(size=SIZE) as pilot, RpcClient(socket_path=str(appliance.settings.socket_path)) as rpc:
        await connected(pilot)
        job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "waits"}})
        await until(pilot, lambda: app.store.jobs.get(job["id"]), what="the job known")
        await pilot.press("enter")
        await until(pilot, lambda: "Waiting: The printer answers status requests but refuses print jobs"
                    in text_of(app, "#job-summary"), what="refused, in the detail")
        await rpc.call("printer.pause", {})  # as another client would
        await until(pilot, lambda: "Waiting: its printer's queue is paused" in text_of(app, "#job-summary"),
                    what="paused, in the open detail")
