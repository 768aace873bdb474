"""The TUI's Printers screen (Pilot, 100×30) against the real server and a virtual printer on loopback."""

from __future__ import annotations

from textual.widgets import Checkbox, Input

from appliance.app import Appliance
from appliance.simulator.runner import Simulator
from rpc.client import RpcClient
from tests.tui.helpers import connected, make_app, notifications, table_rows, text_of, until
from tui.screens.printers import PrinterDialog, PrintersScreen

SIZE = (110, 30)


async def test_find_add_with_a_test_label_edit_and_remove_a_printer(appliance: Appliance, pt: Simulator) -> None:
    app = make_app(appliance)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        assert any(c.title == "Printers" for c in app.get_system_commands(app.screen))  # in the command palette
        await pilot.press("i")  # from the dashboard
        await until(pilot, lambda: isinstance(app.screen, PrintersScreen), what="the Printers screen")
        await until(pilot, lambda: table_rows(app, "#set-up") == [
            ["virtual", "PT-P750W", "virtual://PT-P750W", "12 mm laminated, black on white", "virtual"]],
            what="the virtual printer listed")
        app.screen.query_one("#network", Input).value = "127.0.0.1/32"
        app.screen.query_one("#snmp-port", Input).value = str(pt.snmp_port)
        app.screen.query_one("#found").focus()
        await pilot.press("r")
        await until(pilot, lambda: table_rows(app, "#found") == [
            ["PT-P750W", "E7Z100001", "12mm tape", "tcp://127.0.0.1:9100", "snmp", "(new)"]], what="found live")
        await until(pilot, lambda: "1 printer found" in text_of(app, "#discovery-status"), what="discovery done")

        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, PrinterDialog), what="the add dialog")
        assert app.screen.query_one("#printer-name", Input).value == "pt-p750w"  # the suggested name
        assert app.screen.query_one("#test-label", Checkbox).value is True
        app.screen.query_one("#printer-uri", Input).value = pt.uri  # the virtual one takes raster on its own port
        await pilot.click("#save")
        await until(pilot, lambda: any("Added pt-p750w (PT-P750W). Test label: job" in n
                                       for n in notifications(app)), what="added, with a test label")
        await until(pilot, lambda: [r[0] for r in table_rows(app, "#set-up")] == ["pt-p750w"],
                    what="the virtual printer stepped aside")
        assert table_rows(app, "#set-up")[0][4] == "added"
        await pt.wait_idle(5)
        assert pt.out_dir is not None
        await until(pilot, lambda: len(list(pt.out_dir.glob("*.png"))) == 1, what="the test label printed")

        async with RpcClient(socket_path=str(appliance.settings.socket_path)) as rpc:
            held = await rpc.call("print.submit", {"template": "text", "fields": {"text": "wait"}, "hold": True})
        app.screen.query_one("#set-up").focus()
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, PrinterDialog), what="the edit dialog")
        app.screen.query_one("#printer-name", Input).value = "shelf"
        await pilot.click("#save")
        await until(pilot, lambda: [r[0] for r in table_rows(app, "#set-up")] == ["shelf"], what="renamed")

        await until(pilot, lambda: app.store.queue.get("totals", {}).get("held") == 1, what="the held job counted")
        await pilot.press("x")
        await until(pilot, lambda: "Remove shelf? Its 1 waiting job will end aborted (printer removed); its "
                    "history stays." in text_of(app, "#dialog-title"), what="the confirmation says what happens")
        await pilot.press("y")
        await until(pilot, lambda: any(f"Removed shelf. Jobs ended: {held['id']}." in n
                                       for n in notifications(app)), what="removed")
        await until(pilot, lambda: [r[0] for r in table_rows(app, "#set-up")] == ["virtual"],
                    what="nothing set up: the virtual printer stands in again")
