"""Printers: those set up (and where from), discovery with a live list, add (a suggested name, a test label),
edit and remove (a confirmation saying what becomes of the waiting jobs). No file to edit."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Checkbox, DataTable, Input, Label, Static

from .base import BaseScreen
from .jobs import ConfirmDialog

SET_UP_COLUMNS = ("Name", "Model", "Where", "Media", "From")
FOUND_COLUMNS = ("Model", "Serial", "Media", "URI", "Found by", "Set up as")
WAITING = ("pending", "held", "stopped")


def waiting_jobs(store: Any, printer_id: str) -> int:
    """Jobs that would end aborted/printer-removed with this printer (as queue.status counts them)."""
    for entry in (store.queue or {}).get("printers") or []:
        if entry.get("printer_id") == printer_id:
            counts = entry.get("counts") or {}
            return sum(int(counts.get(state, 0)) for state in WAITING)
    return 0


def removal_question(name: str, waiting: int) -> str:
    jobs = ("no job waits for it" if not waiting else
            f"its {waiting} waiting job{'s' if waiting != 1 else ''} will end aborted (printer removed)")
    return f"Remove {name}? {jobs[0].upper() + jobs[1:]}; its history stays. (y/n)"


class PrinterDialog(ModalScreen[dict[str, Any] | None]):
    """Add (name, URI, test label) or edit (name, URI, media) a printer; answers with the params to send."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, title: str, *, name: str, uri: str, media: str | None = None, adding: bool,
                 note: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.values = {"name": name, "uri": uri, "media": media or ""}
        self.adding = adding
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.title_text, id="dialog-title")
            yield Input(self.values["name"], placeholder="name", id="printer-name")
            yield Input(self.values["uri"], placeholder="tcp://host:9100 or usb:///dev/usb/lp0", id="printer-uri")
            if self.adding:
                yield Checkbox("Print a test label once added", True, id="test-label")
            else:
                yield Input(self.values["media"], placeholder="media (empty: as the printer says)",
                            id="printer-media")
            if self.note:
                yield Static(self.note, id="dialog-note")
            with Horizontal(id="dialog-buttons"):
                yield Button("Add" if self.adding else "Save", id="save", variant="primary")
                yield Button("Cancel (Esc)", id="cancel")

    def on_input_submitted(self) -> None:
        self._save()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self._save()
        else:
            self.dismiss(None)

    def _save(self) -> None:
        answer: dict[str, Any] = {"name": self.query_one("#printer-name", Input).value.strip(),
                                  "uri": self.query_one("#printer-uri", Input).value.strip()}
        if self.adding:
            answer["test_label"] = self.query_one("#test-label", Checkbox).value
        else:
            answer["media"] = self.query_one("#printer-media", Input).value.strip()
        self.dismiss(answer)


class PrintersScreen(BaseScreen):
    PAGE = "Printers"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "discover", "Discover", id="printers.discover"),
        Binding("a", "add", "Add", id="printers.add"),
        Binding("e", "edit", "Edit", id="printers.edit"),
        Binding("x", "remove", "Remove", id="printers.remove"),
    ]

    def body(self) -> Iterable[Widget]:
        set_up: DataTable[str] = DataTable(id="set-up", cursor_type="row", zebra_stripes=True)
        set_up.border_title = "Set up (e: edit, x: remove)"
        yield set_up
        with Horizontal(id="discover-bar"):
            yield Input(placeholder="network to sweep, e.g. 192.168.1.0/24 (empty: this network)", id="network")
            yield Input(placeholder="SNMP port (161)", id="snmp-port", type="integer")
        yield Static("r: look for printers", id="discovery-status")
        found: DataTable[str] = DataTable(id="found", cursor_type="row", zebra_stripes=True)
        found.border_title = "Found (a: add)"
        yield found

    def on_mount(self) -> None:
        super().on_mount()
        for selector, columns in (("#set-up", SET_UP_COLUMNS), ("#found", FOUND_COLUMNS)):
            table = self.query_one(selector, DataTable)
            for name in columns:
                table.add_column(name, key=name.lower())
        self.listed: list[dict[str, Any]] = []
        self.reload()
        self.render_found()

    def on_screen_resume(self) -> None:
        self.reload()

    def data_changed(self, topic: str | None) -> None:
        if topic == "discovery":
            self.render_found()
        elif topic in ("printers", "catalogue", "snapshot"):
            self.reload()

    # --- the printers set up -------------------------------------------------------------------

    def reload(self) -> None:
        async def work() -> None:
            listed = await self.appliance.call("printer.list")
            self.listed = listed if isinstance(listed, list) else []
            self.appliance.store.printer_info = {p["id"]: p for p in self.listed}
            self.render_set_up()

        self.background(work, group="printer-list")

    def render_set_up(self) -> None:
        table = self.query_one("#set-up", DataTable)
        table.clear()
        for p in self.listed:
            table.add_row(p["name"], p["model"], p["uri"], p.get("media_description") or "-",
                          p.get("source", "configuration"), key=p["id"])

    def selected_printer(self) -> dict[str, Any] | None:
        table = self.query_one("#set-up", DataTable)
        if not self.listed or table.cursor_row is None or table.cursor_row >= len(self.listed):
            return None
        return self.listed[table.cursor_row]

    # --- discovery -----------------------------------------------------------------------------

    def action_discover(self) -> None:
        params: dict[str, Any] = {}
        network = self.query_one("#network", Input).value.strip()
        port = self.query_one("#snmp-port", Input).value.strip()
        if network:
            params["network"] = network
        if port:
            params["snmp_port"] = int(port)
        self.appliance.store.discovered.clear()
        self.render_found()
        where = f" on {network}" if network else ""
        self.query_one("#discovery-status", Static).update(f"Looking for printers{where}…")

        async def work() -> None:
            try:
                answer = await self.appliance.call("printer.discover", params, timeout=40)
            finally:
                self.query_one("#discovery-status", Static).update("r: look again")
            for printer in answer["printers"]:  # the answer is the whole list; the stream may have missed one
                self.appliance.store.discovered[str(printer.get("serial") or printer.get("uri"))] = printer
            ignored = "; ".join(f"{i['address']}: {i['why']}" for i in answer.get("ignored") or [])
            found = len(answer["printers"])
            self.query_one("#discovery-status", Static).update(
                f"{found} printer{'s' if found != 1 else ''} found in {answer['elapsed_s']} s; r: look again"
                + (f". Not label printers: {ignored}" if ignored else ""))
            self.render_found()

        self.background(work, group="discover")

    def found_list(self) -> list[dict[str, Any]]:
        return list(self.appliance.store.discovered.values())

    def render_found(self) -> None:
        table = self.query_one("#found", DataTable)
        table.clear()
        for p in self.found_list():
            table.add_row(p["model"], p.get("serial") or "?", p.get("media_description") or "?", p["uri"],
                          ", ".join(p.get("found_by") or []), p.get("configured_as") or "(new)")

    # --- add, edit, remove ---------------------------------------------------------------------

    def action_add(self) -> None:
        table = self.query_one("#found", DataTable)
        found = self.found_list()
        chosen = found[table.cursor_row] if found and table.cursor_row is not None and \
            table.cursor_row < len(found) else None
        if chosen is not None and chosen.get("configured_as"):
            self.app.notify(f"That printer is set up already, as {chosen['configured_as']}.", timeout=6)
            return
        name = (chosen or {}).get("suggested_name") or ""
        uri = (chosen or {}).get("uri") or ""
        title = f"Add the {chosen['model']}" if chosen else "Add a printer"

        def added(answer: dict[str, Any] | None) -> None:
            if answer is not None:
                self._add(answer, chosen)

        self.app.push_screen(PrinterDialog(title, name=name, uri=uri, adding=True), added)

    def _add(self, answer: dict[str, Any], chosen: dict[str, Any] | None) -> None:
        params: dict[str, Any] = {"name": answer["name"], "uri": answer["uri"]}
        if chosen and chosen.get("snmp_port") not in (None, 161):
            params["snmp"] = {"port": chosen["snmp_port"]}

        async def work() -> None:
            printer = await self.appliance.call("printer.add", params, timeout=30)
            text = f"Added {printer['name']} ({printer['model']})."
            if answer.get("test_label"):
                job = await self.appliance.call("print.submit", {
                    "template": "text", "fields": {"text": f"{printer['name']}: it works"},
                    "printer_id": printer["id"], "idempotency_key": self.appliance.new_idempotency_key()})
                text += f" Test label: job #{job['id']}."
            self.app.notify(text, title="Printers", timeout=8)
            self.reload()

        self.background(work, group="printer-change", exclusive=False)

    def action_edit(self) -> None:
        printer = self.selected_printer()
        if printer is None:
            return
        if printer.get("source") != "added":
            self.app.notify(self._not_here(printer), timeout=8)
            return
        waiting = waiting_jobs(self.appliance.store, printer["id"])
        note = (f"A new address for the same model keeps its {waiting} waiting job(s); should another model "
                "answer there, they end aborted (printer removed).") if waiting else ""

        def edited(answer: dict[str, Any] | None) -> None:
            if answer is None:
                return
            params: dict[str, Any] = {"printer_id": printer["id"]}
            if answer["name"] != printer["name"]:
                params["name"] = answer["name"]
            if answer["uri"] != printer["uri"]:
                params["uri"] = answer["uri"]
            if answer["media"] != (printer.get("configured_media") or ""):
                params["media"] = answer["media"]

            async def work() -> None:
                result = await self.appliance.call("printer.update", params, timeout=30)
                aborted = result.get("jobs_aborted") or []
                self.app.notify(f"Saved {result['name']}." + (f" {len(aborted)} waiting job(s) ended aborted."
                                                               if aborted else ""), title="Printers", timeout=8)
                self.reload()

            self.background(work, group="printer-change", exclusive=False)

        self.app.push_screen(PrinterDialog(f"Edit {printer['name']}", name=printer["name"], uri=printer["uri"],
                                           media=printer.get("configured_media"), adding=False, note=note), edited)

    def action_remove(self) -> None:
        printer = self.selected_printer()
        if printer is None:
            return
        if printer.get("source") != "added":
            self.app.notify(self._not_here(printer), timeout=8)
            return

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return

            async def work() -> None:
                result = await self.appliance.call("printer.remove", {"printer_id": printer["id"]}, timeout=30)
                aborted = result["jobs_aborted"]
                self.app.notify(f"Removed {printer['name']}." + (f" Jobs ended: {', '.join(map(str, aborted))}."
                                                                  if aborted else ""), title="Printers", timeout=8)
                self.reload()

            self.background(work, group="printer-change", exclusive=False)

        question = removal_question(printer["name"], waiting_jobs(self.appliance.store, printer["id"]))
        self.app.push_screen(ConfirmDialog(question), confirmed)

    @staticmethod
    def _not_here(printer: dict[str, Any]) -> str:
        if printer.get("source") == "virtual":
            return "The virtual printer stands in until a printer is added; it steps aside by itself."
        return f"{printer['name']} comes from the configuration file: change it there and restart."
