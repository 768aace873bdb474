"""Dashboard: each printer in words (state, reasons, tape, probe age), queue counts, recent jobs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import DataTable, Label, OptionList, Static
from textual.widgets.option_list import Option

from rpc.errors import RpcError

from .. import fmt
from .base import BaseScreen

JOB_COLUMNS = ("Job", "State", "Template", "Printer", "Time", "Copies")


def printer_of(store: Any, job: dict[str, Any]) -> str:
    """The name of the job's printer now (job.move changes it); the server's word for a retired one."""
    printer_id = job.get("printer_id")
    if printer_id in store.printers or printer_id in store.printer_info:
        return str(store.printer_name(printer_id))
    return str(job.get("printer_name") or store.printer_name(printer_id))


def job_row(store: Any, job: dict[str, Any]) -> tuple[str, ...]:
    state = fmt.job_state(job.get("state"))
    printer = store.printers.get(job.get("printer_id") or "") or {}
    if job.get("state") == "pending":  # why, in the job's detail
        state += " (paused)" if printer.get("paused") else " (waits)" if store.waiting(job) else ""
    elif job.get("state") in ("processing", "stopped") and printer.get("queue_stopped"):
        state += " (queue stopped)"  # nothing follows it until a restart: the detail says why
    return (f"#{job['id']}", state, str(job.get("template") or "-"),
            printer_of(store, job),
            fmt.short_time(job.get("created_at")), str(job.get("copies") or 1))


class PrinterChoice(ModalScreen[str | None]):
    """A question answered with a printer: `choices` maps printer ids to what choosing each does."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, question: str, choices: dict[str, str]) -> None:
        super().__init__()
        self.question = question
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(f"{self.question} (Esc: none)", id="dialog-title")
            yield OptionList(*(Option(text, id=pid) for pid, text in self.choices.items()), id="printer-choice")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


class DashboardScreen(BaseScreen):
    PAGE = "Dashboard"
    BINDINGS: ClassVar[list[BindingType]] = [
        ("enter", "open_job", "Detail"),
        Binding("P", "toggle_pause", "Pause", id="printer.pause"),  # or resume
    ]

    def body(self) -> Iterable[Widget]:
        yield Static("Waiting for the appliance…", id="printers")
        yield Static("", id="queue")
        table: DataTable[str] = DataTable(id="recent", cursor_type="row", zebra_stripes=True)
        table.border_title = "Recent jobs"
        yield table

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one("#recent", DataTable)
        for name in JOB_COLUMNS:
            table.add_column(name, key=name.lower())
        self.set_interval(1.0, self._tick, name="age")  # only re-renders the "probed … ago" text
        self.render_all()

    def on_screen_resume(self) -> None:
        self.render_all()

    def _tick(self) -> None:
        store = self.appliance.store
        if not store.printers:
            return
        self.render_printers()
        due = [pid for pid in store.printers if store.status_due(pid)]
        if due:
            self.run_worker(self._refresh(due), group="status-refresh", exclusive=True, exit_on_error=False)

    async def _refresh(self, printer_ids: list[str]) -> None:
        """Ask for the status of printers probed since it was announced; quiet when it cannot (the banner says why)."""
        store = self.appliance.store
        for printer_id in printer_ids:
            try:
                status = await self.appliance.call("printer.status", {"printer_id": printer_id}, timeout=5)
            except RpcError:
                return
            if isinstance(status, dict) and status.get("printer_id") == printer_id:
                store.apply("notify_printer_status", status)
        self.render_printers()

    def data_changed(self, topic: str | None) -> None:
        if topic in ("printers", "catalogue"):
            self.render_printers()
            self.render_jobs()  # a pending job's "(waits)" follows its printer
        elif topic == "queue":  # also whether each printer's queue is paused
            self.render_queue()
            self.render_printers()
            self.render_jobs()
        elif topic == "jobs":
            self.render_jobs()
        else:
            self.render_all()

    def render_all(self) -> None:
        self.render_printers()
        self.render_queue()
        self.render_jobs()

    def render_printers(self) -> None:
        store = self.appliance.store
        widget = self.query_one("#printers", Static)
        if not store.loaded:
            widget.update("Waiting for the appliance…")
            return
        if not store.printers:
            widget.update("No printers configured.")
            return
        text = Text()
        for index, (printer_id, status) in enumerate(store.printers.items()):
            if index:
                text.append("\n")
            info = store.printer_info.get(printer_id, {})
            model = info.get("model")
            text.append(f"{status.get('name') or printer_id[:8]}", style="bold")
            if model:
                text.append(f" ({model})")
            text.append("  ")
            state = status.get("state")
            asked = status.get("source") != "config"  # "config": no SNMP, no USB status channel (file://, SNMP off)
            words = fmt.printer_state(state) if asked else fmt.NO_STATUS
            refused = "jobs-refused" in (status.get("reasons") or ())
            if refused:  # SNMP says ready, the raster port takes no job
                words = "✗ takes no jobs"
            elif "status-lost" in (status.get("reasons") or ()):  # not "offline": a job is at it, maybe printing
                words = "? status lost (may be printing)"
            text.append(words, style="bold reverse" if refused or (asked and state in ("stopped", "offline"))
                        else "bold")
            stopped = status.get("queue_stopped") or None  # the server sends nothing more until a restart
            if stopped:
                text.append("  ✗ queue stopped", style="bold reverse")
            if status.get("paused"):
                text.append("  ‖ queue paused" + ("" if stopped else " (P resumes)"))
            text.append(f"  · probed {fmt.age(store.age_of(printer_id))}\n" if asked else "\n")
            noun, loaded = fmt.loaded_media(status)
            text.append(f"  {noun.capitalize()}: {loaded}")
            if stopped:  # in the server's words: why, and what brings it back
                text.append(f"\n  ✗ Queue stopped: {stopped.get('description') or stopped.get('reason')}",
                            style="bold")
            for line in status.get("descriptions") or []:
                text.append(f"\n  ⚠ {line}", style="bold")
            if status.get("last_error") and state in ("offline", "unknown"):
                text.append(f"\n  last error: {status['last_error']}")
        widget.update(text)

    def render_queue(self) -> None:
        queue = self.appliance.store.queue
        widget = self.query_one("#queue", Static)
        if not queue:
            widget.update("")
            return
        totals = queue.get("totals") or {}
        parts = [f"{totals.get(k, 0)} {label}" for k, label in
                 (("pending", "pending"), ("held", "held"), ("processing", "printing"), ("stopped", "stopped"))]
        widget.update("Queue: " + " · ".join(parts))

    def render_jobs(self) -> None:
        store = self.appliance.store
        table = self.query_one("#recent", DataTable)
        selected = None
        if table.row_count and table.cursor_row is not None:
            try:
                selected = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
            except Exception:
                selected = None
        table.clear()
        for job in store.recent_jobs():
            table.add_row(*job_row(store, job), key=str(job["id"]))
        if selected is not None:
            try:
                table.move_cursor(row=table.get_row_index(selected))
            except Exception:
                pass

    def action_toggle_pause(self) -> None:
        """printer.pause / printer.resume: a paused queue keeps its jobs and sends none (as IPP's Pause-Printer)."""
        printers = self.appliance.store.printers
        if len(printers) == 1:
            self.toggle_pause(next(iter(printers)))
        elif printers:
            choices = {pid: f"{status.get('name') or pid[:8]}: "
                            f"{'paused, resume it' if status.get('paused') else 'printing, pause it'}"
                       for pid, status in printers.items()}
            self.app.push_screen(PrinterChoice("Pause or resume which printer's queue?", choices),
                                 lambda chosen: chosen and self.toggle_pause(chosen))

    def toggle_pause(self, printer_id: str) -> None:
        store = self.appliance.store
        paused = bool((store.printers.get(printer_id) or {}).get("paused"))
        method = "printer.resume" if paused else "printer.pause"

        async def work() -> None:
            answer = await self.appliance.call_or_notify(method, {"printer_id": printer_id}, what="Pause/resume")
            if not answer:
                return
            status = store.printers.get(printer_id)
            if status is not None:  # the queue notification says so too; this is at once
                store.printers[printer_id] = {**status, "paused": bool(answer.get("paused"))}
            name = store.printer_name(printer_id)
            self.app.notify(f"{name}: queue paused; its jobs wait until you resume it (P)." if answer.get("paused")
                            else f"{name}: queue resumed; waiting jobs print now.")
            self.render_printers()
            self.render_jobs()

        self.background(work, group="pause", exclusive=False)

    def action_open_job(self) -> None:
        table = self.query_one("#recent", DataTable)
        if not table.row_count:
            return
        key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        if key is not None:
            self.open_job(int(key))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.open_job(int(event.row_key.value))

    def open_job(self, job_id: int) -> None:
        from .jobs import JobDetailScreen

        self.app.push_screen(JobDetailScreen(job_id))
