"""Print: printer and template, a form built from the template's fields, a live half-block
preview (debounced, in a worker: typing never waits for the network), copies, submit, and the
job's progress until it completes or stops (with the reason and what to do)."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.timer import Timer
from textual.validation import Integer
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static

from .. import fmt
from ..widgets import LabelPreview
from .base import BaseScreen

DEBOUNCE_S = 0.25
DONE = ("completed", "canceled", "aborted")
# print.submit's cut option, in words; the form offers those the printer can make
CUTS: list[tuple[str, str]] = [("after each label", "full"), ("half-cut between labels", "half"),
                               ("chain (last label uncut, saves tape)", "chain"), ("never", "none")]


class PrintScreen(BaseScreen):
    PAGE = "Print"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s,f9", "submit", "Print it", id="print.submit", priority=True),
        Binding("escape", "leave_field", "Leave field", id="print.leave", show=False),
        Binding("ctrl+t", "focus_template", "Template", id="print.template"),
        Binding("ctrl+o", "import_csv", "Import CSV…", id="print.import_csv", show=False),  # the button says it
    ]

    def __init__(self) -> None:
        super().__init__()
        self.template: dict[str, Any] | None = None
        self.printer_id: str | None = None
        self.job_id: int | None = None
        self.errors: dict[str, str] = {}
        self._debounce: Timer | None = None
        self._preview_seq = 0
        self._built_for: str | None = None
        self._printer_options: list[tuple[str, str]] = []
        self._template_options: list[tuple[str, str]] = []
        self._cut_options: list[tuple[str, str]] = []
        self.touched: set[str] = set()
        self.submitting = False
        self.sending = False  # a print.submit is on its way: a second ctrl+s is not a second label

    # --- layout --------------------------------------------------------------------------------

    def body(self) -> Iterable[Widget]:
        with Vertical(id="print-top"):
            yield LabelPreview(max_rows=6, id="preview")
            yield Static("", id="preview-info")
        with VerticalScroll(id="print-form"):
            with Horizontal(classes="row"):
                yield Label("Printer", classes="flabel")
                yield Select([], prompt="(loading)", allow_blank=True, compact=True, id="printer")
            with Horizontal(classes="row"):
                yield Label("Template", classes="flabel")
                yield Select([], prompt="(loading)", allow_blank=True, compact=True, id="template")
            yield Vertical(id="fields")
            with Horizontal(classes="row"):
                yield Label("Copies", classes="flabel")
                yield Input("1", type="integer", validators=[Integer(1, 100)], compact=True, id="copies")
            yield Static("", classes="ferror", id="err-copies")
            with Horizontal(classes="row"):
                yield Label("Cut", classes="flabel")
                yield Select(CUTS[:1], value="full", allow_blank=False, compact=True, id="cut")
            yield Static("", classes="ferror", id="err-cut")
            with Horizontal(classes="row", id="submit-row"):
                yield Button("Print (ctrl+s)", id="submit", variant="primary", compact=True)
                yield Button("Import CSV… (ctrl+o)", id="import-csv", compact=True)
                yield Static("", id="progress")

    def on_mount(self) -> None:
        super().on_mount()
        self.fill_choices()

    def on_screen_resume(self) -> None:
        self.fill_choices()

    def data_changed(self, topic: str | None) -> None:
        if topic in ("catalogue", "snapshot", "printers"):
            self.fill_choices()
        if topic in ("jobs", "snapshot", "queue", "printers") and self.job_id is not None:
            self.show_progress()  # also when its printer is paused, resumed or goes offline

    def fill_choices(self) -> None:
        app = self.appliance
        printers = self.query_one("#printer", Select)
        options = [(f"{s.get('name')} · {fmt.loaded_media(s)[1]}", pid)
                   for pid, s in app.store.printers.items()]
        if options and options != self._printer_options:
            self._printer_options = options
            current = printers.value
            printers.set_options(options)
            ids = [pid for _, pid in options]
            printers.value = current if current in ids else ids[0]
        templates = self.query_one("#template", Select)
        t_options = [(f"{t.get('title') or t['name']} ({t['name']})", t["name"]) for t in app.templates]
        if t_options and t_options != self._template_options:
            self._template_options = t_options
            current = templates.value
            templates.set_options(t_options)
            names = [n for _, n in t_options]
            templates.value = current if current in names else ("text" if "text" in names else names[0])
        self.fill_cuts()

    @on(Select.Changed, "#printer")
    def printer_changed(self, event: Select.Changed) -> None:
        self.printer_id = event.value if isinstance(event.value, str) else None
        self.fill_cuts()
        self.schedule_preview()

    def fill_cuts(self) -> None:
        """The cuts the chosen printer can make (its capabilities from printer.list)."""
        caps = (self.appliance.store.printer_info.get(self.printer_id or "") or {}).get("capabilities") or {}
        options = [(words, value) for words, value in CUTS
                   if value in ("full", "none") or (value == "half" and caps.get("half_cut"))
                   or (value == "chain" and caps.get("chain"))]
        cut = self.query_one("#cut", Select)
        if options != self._cut_options:
            self._cut_options = options
            current = cut.value
            cut.set_options(options)
            cut.value = current if current in [v for _, v in options] else "full"

    @on(Select.Changed, "#template")
    async def template_changed(self, event: Select.Changed) -> None:
        name = event.value if isinstance(event.value, str) else None
        template = next((t for t in self.appliance.templates if t["name"] == name), None)
        if template is None or name == self._built_for:
            return
        self.template = template
        self._built_for = name
        await self.build_form(template)
        self.schedule_preview(now=True)

    async def build_form(self, template: dict[str, Any]) -> None:
        box = self.query_one("#fields", Vertical)
        # awaited: templates share field names (text, bin-label and cable-flag all have `text`), and
        # mounting before the old rows are gone clashed on their ids and crashed the TUI
        await box.remove_children()
        rows: list[Widget] = []
        first: Widget | None = None
        for spec in template.get("fields") or []:
            name = spec["name"]
            label = spec.get("label") or name
            mark = " *" if spec.get("required") else ""
            widget = self.field_widget(spec)
            first = first or widget
            row = Horizontal(Label(f"{label}{mark}", classes="flabel"), widget, classes="row")
            rows.append(row)
            rows.append(Static("", classes="ferror", id=f"err-{name}"))
            if spec.get("help"):
                rows.append(Static(spec["help"], classes="fhelp"))
        await box.mount_all(rows)
        self.errors = {}
        self.touched = set()
        if first is not None:  # typing goes straight into the first field
            self.call_after_refresh(first.focus)

    @staticmethod
    def field_widget(spec: dict[str, Any]) -> Widget:
        name = spec["name"]
        default = spec.get("default")
        kind = spec.get("type", "string")
        if kind == "choice" and spec.get("choices"):
            choices = [(str(c), str(c)) for c in spec["choices"]]
            select: Select[str] = Select(choices, allow_blank=not spec.get("required"), compact=True,
                                         id=f"field-{name}")
            if default in spec["choices"]:
                select.value = str(default)
            return select
        value = "" if default is None or (isinstance(default, str) and "{" in default) else str(default)
        placeholder = str(default) if isinstance(default, str) and "{" in default else \
            ("required" if spec.get("required") else "optional")
        if kind == "integer":
            validators = [Integer(spec.get("min"), spec.get("max"))]
            return Input(value, type="integer", validators=validators, compact=True, id=f"field-{name}",
                         placeholder=placeholder, valid_empty=not spec.get("required"))
        if kind == "date":
            return Input(value if value != "today" else "", placeholder="YYYY-MM-DD (empty: today)"
                         if value == "today" else "YYYY-MM-DD", compact=True, id=f"field-{name}",
                         max_length=10)
        return Input(value, placeholder=placeholder, compact=True, id=f"field-{name}",
                     max_length=int(spec.get("max_length") or 0))

    # --- values, errors ------------------------------------------------------------------------

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for spec in (self.template or {}).get("fields") or []:
            name = spec["name"]
            try:
                widget = self.query_one(f"#field-{name}")
            except Exception:
                continue
            raw = widget.value if isinstance(widget, Input | Select) else None
            if raw is None or raw == "" or raw is Select.BLANK:
                continue
            if spec.get("type") == "integer":
                try:
                    raw = int(str(raw))
                except ValueError:
                    pass
            out[name] = raw
        return out

    def show_errors(self, errors: dict[str, str]) -> None:
        self.errors = errors
        for widget in self.query(".ferror"):
            name = (widget.id or "").removeprefix("err-")
            message = errors.get(name, "")
            widget.update(f"✗ {message}" if message else "")
            widget.set_class(bool(message), "-shown")

    def field_error(self, exc: Any) -> bool:
        """Put a −32602 error next to its field; True when it named one of ours."""
        data = exc.data if getattr(exc, "has_data", False) and isinstance(exc.data, dict) else {}
        field = str(data.get("field") or "")
        reason = str(data.get("reason") or exc.message)
        if field.startswith("fields."):
            name = field.removeprefix("fields.")
            if reason == "required" and name not in self.touched and not self.submitting:
                self.show_errors({})
                self.query_one("#preview", LabelPreview).show_message("Fill in the fields marked * to see a preview.")
                return True
            self.show_errors({name: reason})
            return True
        if field in ("copies", "cut"):
            self.show_errors({field: reason})
            return True
        return False

    # --- preview -------------------------------------------------------------------------------

    @on(Input.Changed)
    def input_changed(self, event: Input.Changed) -> None:
        if event.input.id and event.input.id.startswith("field-"):
            self.touched.add(event.input.id.removeprefix("field-"))
            self.schedule_preview()

    @on(Select.Changed)
    def choice_changed(self, event: Select.Changed) -> None:
        if event.select.id and event.select.id.startswith("field-"):
            self.schedule_preview()

    def schedule_preview(self, now: bool = False) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(0.01 if now else DEBOUNCE_S, self.request_preview)

    def request_preview(self) -> None:
        if self.template is None:
            return
        self._preview_seq += 1
        seq = self._preview_seq
        params: dict[str, Any] = {"template": self.template["name"], "fields": self.values()}
        if self.printer_id:
            params["printer_id"] = self.printer_id

        async def work() -> None:
            from rpc.errors import INVALID_PARAMS, RpcError

            try:
                answer = await self.appliance.call("label.preview", params)
            except RpcError as exc:
                if seq != self._preview_seq:
                    return
                if exc.code == INVALID_PARAMS and self.field_error(exc):
                    if self.errors:
                        self.query_one("#preview-info", Static).update("Preview: fix the field marked ✗")
                    return
                raise
            if seq != self._preview_seq:
                return
            from ..pixels import decode_png

            bitmap = decode_png(base64.b64decode(answer["png"]))
            dpi = answer.get("dpi") or {}
            self.query_one("#preview", LabelPreview).show(bitmap, dpi.get("feed", 180), dpi.get("head", 180))
            self.show_errors({})
            tape = answer.get("tape") or {}
            info = f"{answer.get('length_mm', 0):.1f} × {answer.get('width_mm', 0):g} mm on {tape.get('id', '?')}"
            for warning in answer.get("warnings") or []:
                info += f" · ⚠ {warning if isinstance(warning, str) else warning.get('message', warning)}"
            self.query_one("#preview-info", Static).update(info)

        self.background(work, group="preview")

    # --- submit and progress -------------------------------------------------------------------

    @on(Button.Pressed, "#submit")
    def submit_pressed(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#import-csv")
    def import_pressed(self) -> None:
        self.action_import_csv()

    @on(Input.Submitted)
    def input_submitted(self, event: Input.Submitted) -> None:
        self.focus_next()

    def action_submit(self) -> None:
        if self.template is None:
            self.app.notify("Choose a template first.", severity="warning")
            return
        if self.sending:
            self.app.notify("Still sending the last label; press again once it is queued to print another.")
            return
        copies_text = self.query_one("#copies", Input).value.strip() or "1"
        try:
            copies = int(copies_text)
        except ValueError:
            self.show_errors({"copies": "expected a whole number from 1 to 100"})
            return
        if not 1 <= copies <= 100:
            self.show_errors({"copies": "must be from 1 to 100"})
            return
        params: dict[str, Any] = {"template": self.template["name"], "fields": self.values(), "copies": copies,
                                  "idempotency_key": self.appliance.new_idempotency_key()}
        cut = self.query_one("#cut", Select).value
        if isinstance(cut, str) and cut != "full":
            params["cut"] = cut
        if self.printer_id:
            params["printer_id"] = self.printer_id

        async def work() -> None:
            from rpc.errors import INVALID_PARAMS, RpcError

            try:
                job = await self.appliance.call("print.submit", params)
            except RpcError as exc:
                self.submitting = True
                try:
                    named = exc.code == INVALID_PARAMS and self.field_error(exc)
                finally:
                    self.submitting = False
                if named:
                    self.app.notify("Not printed: fix the field marked ✗.", severity="error")
                    return
                raise
            self.job_id = int(job["id"])
            self.appliance.store.apply("notify_job_updated", job)
            self.show_errors({})
            self.show_progress()
            self.app.notify(f"Job #{job['id']} queued.")

        async def once() -> None:
            try:
                await work()
            finally:
                self.sending = False

        self.sending = True
        self.background(once, group="submit", exclusive=False)

    def show_progress(self) -> None:
        if self.job_id is None:
            return
        job = self.appliance.store.jobs.get(self.job_id) or {}
        state = job.get("state")
        text = Text(f"Job #{self.job_id}: ")
        text.append(fmt.job_state(state), style="bold")
        if state == "completed":
            copies = job.get("copies") or 1
            text.append(f" — {copies} label{'s' if copies != 1 else ''} printed")
        elif state == "stopped":
            text.append(" — " + self.why(job), style="bold")
        elif state in ("aborted", "canceled"):
            text.append(" — " + (self.why(job) or "not printed"))
        elif state == "pending" and (waiting := self.appliance.store.waiting(job)):
            text.append(" — " + waiting, style="bold")
        elif state == "pending" and job.get("position"):
            text.append(f" (position {job['position']} in the queue)")
        self.query_one("#progress", Static).update(text)

    def why(self, job: dict[str, Any]) -> str:
        """The job's own reasons as the server words them; else what its printer says now."""
        if advice := fmt.advice(job):
            return advice
        printer = self.appliance.store.printers.get(job.get("printer_id") or "") or {}
        return str((printer.get("descriptions") or [""])[0])

    # --- keys ----------------------------------------------------------------------------------

    def action_leave_field(self) -> None:
        self.query_one("#submit", Button).focus()

    def action_focus_template(self) -> None:
        self.query_one("#template", Select).focus()

    def action_import_csv(self) -> None:
        """A label per row of a CSV file, for the chosen template and printer (tui/screens/csv_import.py)."""
        if self.template is None:
            self.app.notify("Choose a template first.", severity="warning")
            return
        from .csv_import import CsvImportScreen, CsvPathDialog

        template, printer_id = self.template, self.printer_id
        copies_text = self.query_one("#copies", Input).value.strip()
        copies = int(copies_text) if copies_text.isdigit() and 1 <= int(copies_text) <= 100 else 1

        def chosen(path: str | None) -> None:
            if path:
                self.app.push_screen(CsvImportScreen(path, template, printer_id, copies))

        self.app.push_screen(CsvPathDialog(template["name"]), chosen)
