"""Import CSV: a spreadsheet's rows as labels. The file is read here (rpc/sheet.py, as the CLI reads it),
checked and rendered by the server (print.batch with dry_run: nothing stored), shown as a table with each
row's error, with the selected row's preview; one key prints them all as one batch."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Button, DataTable, Input, Label, Static

from ..widgets import LabelPreview
from .base import BaseScreen

PREVIEW_DEBOUNCE_S = 0.15


class CsvPathDialog(ModalScreen[str | None]):
    """Which file to import: a path on the machine the TUI runs on (~ is the home directory)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, template: str) -> None:
        super().__init__()
        self.template = template

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(f"Import a CSV or TSV file as {self.template} labels", id="dialog-title")
            yield Static("The first row names the template's fields (in any case); each row below it is a label.")
            yield Input(placeholder="path/to/labels.csv", id="csv-path")
            with Horizontal(id="dialog-buttons"):
                yield Button("Open (enter)", id="open", variant="primary")
                yield Button("Cancel (Esc)", id="none")

    @on(Input.Submitted, "#csv-path")
    def submitted(self) -> None:
        self._open()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "open":
            self._open()
        else:
            self.dismiss(None)

    def _open(self) -> None:
        path = self.query_one("#csv-path", Input).value.strip()
        if path:
            self.dismiss(path)


class CsvImportScreen(BaseScreen):
    PAGE = "Import CSV"
    DEFAULT_CSS = """
    CsvImportScreen #csv-rows { height: 1fr; }
    CsvImportScreen #csv-preview-box { height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s,f9", "print_all", "Print all", id="csv.print", priority=True),
        Binding("escape", "app.pop_screen", "Back", id="csv.back"),
    ]

    def __init__(self, path: str, template: dict[str, Any], printer_id: str | None, copies: int = 1) -> None:
        super().__init__()
        self.path = Path(path).expanduser()
        self.template = template
        self.printer_id = printer_id
        self.copies = copies
        self.rows: list[dict[str, str]] = []
        self.lines: list[int] = []
        self.problems: dict[int, str] = {}  # row → "field: reason"
        self.checked = False
        self.ignored = ""  # the file's columns that name no field, in words
        self.batch_id: int | None = None
        self.key = ""  # one idempotency key per import: pressing print twice is one batch
        self._debounce: Timer | None = None
        self._preview_seq = 0

    def body(self) -> Iterable[Widget]:
        yield Static(f"Reading {self.path} …", id="csv-info")
        table: DataTable[str] = DataTable(id="csv-rows", cursor_type="row", zebra_stripes=True)
        yield table
        with Vertical(id="csv-preview-box"):
            yield LabelPreview(max_rows=5, id="preview")
            yield Static("", id="csv-progress")

    def on_mount(self) -> None:
        super().on_mount()
        self.key = self.appliance.new_idempotency_key()
        self.background(self.load, group="csv-load")

    async def load(self) -> None:
        from rpc import sheet

        info = self.query_one("#csv-info", Static)
        names = [f["name"] for f in self.template.get("fields") or []]
        try:
            table = sheet.read(self.path)
            mapping = sheet.map_columns(table.columns, names, {}, ignore_extra=True)
        except sheet.SheetError as exc:
            info.update(Text(f"✗ {exc}", style="bold"))
            return
        self.rows = sheet.label_rows(table, mapping, {})
        self.lines = table.lines
        grid = self.query_one("#csv-rows", DataTable)
        grid.clear(columns=True)
        fields = [name for name in names if name in mapping.fields.values()]
        for column in ("Row", "Line", *fields, "Check"):
            grid.add_column(column, key=column.lower())
        for number, (row, line) in enumerate(zip(self.rows, self.lines, strict=True), start=1):
            grid.add_row(str(number), str(line), *(row.get(f, "") for f in fields), "…", key=str(number))
        self.ignored = f" · ignored columns: {', '.join(mapping.ignored)}" if mapping.ignored else ""
        info.update(f"{self.path.name}: {len(self.rows)} rows for {self.template['name']}{self.ignored} · checking …")
        await self.check()

    async def check(self) -> None:
        """print.batch with dry_run: every row rendered by the server, nothing stored."""
        from rpc.errors import INVALID_PARAMS, RpcError

        params = self._params()
        params["dry_run"] = True
        self.problems = {}
        try:
            await self.appliance.call("print.batch", params, timeout=600)
        except RpcError as exc:
            data = exc.data if exc.has_data and isinstance(exc.data, dict) else {}
            if exc.code != INVALID_PARAMS or not isinstance(data.get("rows"), list):
                raise
            self.problems = {int(p["row"]): f"{p['field']}: {p['reason']}" for p in data["rows"]}
        self.checked = True
        grid = self.query_one("#csv-rows", DataTable)
        for number in range(1, len(self.rows) + 1):
            problem = self.problems.get(number)
            cell = Text(f"✗ {problem}", style="bold") if problem else Text("✓ ok")
            grid.update_cell(str(number), "check", cell, update_width=True)
        bad = len(self.problems)
        verdict = (f"✗ {bad} row{'s' if bad != 1 else ''} cannot be printed: fix the file and import it again"
                   if bad else f"✓ all {len(self.rows)} rows can print · ctrl+s prints them all")
        self.query_one("#csv-info", Static).update(f"{self.path.name}: {len(self.rows)} rows{self.ignored} · {verdict}")
        self.refresh_bindings()
        self.schedule_preview()

    def _params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"template": self.template["name"], "rows": self.rows, "copies": self.copies}
        if self.printer_id:
            params["printer_id"] = self.printer_id
        return params

    # --- preview of the selected row -----------------------------------------------------------

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.schedule_preview()

    def schedule_preview(self) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(PREVIEW_DEBOUNCE_S, self.request_preview)

    def selected_row(self) -> int | None:
        grid = self.query_one("#csv-rows", DataTable)
        if not grid.row_count:
            return None
        return grid.cursor_row + 1

    def request_preview(self) -> None:
        number = self.selected_row()
        if number is None or not self.rows:
            return
        self._preview_seq += 1
        seq = self._preview_seq
        preview = self.query_one("#preview", LabelPreview)
        if number in self.problems:
            preview.show_message(f"Row {number}: {self.problems[number]}")
            return
        params: dict[str, Any] = {"template": self.template["name"], "fields": self.rows[number - 1]}
        if self.printer_id:
            params["printer_id"] = self.printer_id

        async def work() -> None:
            answer = await self.appliance.call("label.preview", params)
            if seq != self._preview_seq:
                return
            from ..pixels import decode_png

            dpi = answer.get("dpi") or {}
            preview.show(decode_png(base64.b64decode(answer["png"])), dpi.get("feed", 180), dpi.get("head", 180))

        self.background(work, group="csv-preview")

    # --- printing ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "print_all":
            return True if self.checked and self.rows and not self.problems and self.batch_id is None else None
        return True

    def action_print_all(self) -> None:
        if not self.checked or not self.rows:
            self.app.notify("Still checking the rows.")
            return
        if self.problems:
            self.app.notify("Not printed: fix the rows marked ✗ first.", severity="error")
            return
        params = self._params()
        params["idempotency_key"] = self.key

        async def work() -> None:
            answer = await self.appliance.call("print.batch", params, timeout=600)
            self.batch_id = int(answer["batch_id"])
            self.refresh_bindings()
            self.app.notify(f"Batch #{self.batch_id}: {len(self.rows) * self.copies} labels queued.")
            await self.show_progress()

        self.background(work, group="csv-print")

    def data_changed(self, topic: str | None) -> None:
        if self.batch_id is not None and topic in ("queue", "jobs", "snapshot"):
            self.background(self.show_progress, group="csv-progress")

    async def show_progress(self) -> None:
        if self.batch_id is None:
            return
        batch = await self.appliance.call("batch.get", {"batch_id": self.batch_id})
        self.query_one("#csv-progress", Static).update(batch_progress(batch))


def batch_progress(batch: dict[str, Any]) -> Text:
    """A batch in one line: labels printed of all, and what stops it (the first problem row)."""
    text = Text(f"Batch #{batch['batch_id']}: ")
    text.append(f"{batch['labels_printed']} of {batch['labels']} labels printed", style="bold")
    counts = batch.get("counts") or {}
    if batch.get("done"):
        missed = batch["rows"] - counts.get("completed", 0)
        text.append(" — done" if not missed else f" — done, {missed} rows not printed")
    problem = batch.get("first_problem")
    if problem:
        why = "; ".join(problem.get("descriptions") or problem.get("reasons") or [])
        text.append(f" · row {problem['row']} {problem['state']}" + (f": {why}" if why else ""))
    return text
