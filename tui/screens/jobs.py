"""Jobs: history with a state filter and cursor paging; a job's detail with its timeline;
reprint (byte-identical or re-rendered), cancel, hold, release."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, DataTable, Label, Select, Static

from .. import fmt
from ..model import merged
from .base import BaseScreen
from .dashboard import JOB_COLUMNS, PrinterChoice, job_row, printer_of

PAGE_SIZE = 50
LIST_COLUMNS = (*JOB_COLUMNS, "From")  # the history also says who sent a job from where (IPP: user · document)
ACTION_BINDINGS = [
    Binding("r", "reprint", "Reprint", id="job.reprint"),
    Binding("x", "cancel_job", "Cancel", id="job.cancel"),
    Binding("o", "hold", "Hold", id="job.hold"),
    Binding("l", "release", "Release", id="job.release"),
    Binding("m", "move_job", "Move", id="job.move"),
]


def sent_by(job: dict[str, Any]) -> str:
    """Who sent a job from where: "ipp: alice · bins.pdf p2" for a page of an IPP document; "" for print.submit."""
    source = job.get("source") or "rpc"
    if source == "rpc" and not job.get("user_name"):
        return ""
    who = " · ".join(str(v) for v in (job.get("user_name"), job.get("document_name")) if v)
    page = f" p{job['page']}" if job.get("document_job_id") and job.get("page") else ""
    return f"{source}: {who}{page}" if who else source


class ReprintDialog(ModalScreen[bool | None]):
    """Reprint: the stored raster byte for byte (False), or rendered again (True); None = cancel."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("b", "choose(False)", "Byte-identical"), Binding("e", "choose(True)", "Re-render"),
        Binding("escape,n", "choose(None)", "Cancel"),
    ]

    def __init__(self, job: dict[str, Any]) -> None:
        super().__init__()
        self.job = job

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(f"Reprint job #{self.job['id']} ({self.job.get('template', '?')})?", id="dialog-title")
            yield Static("b: send the stored label again, byte for byte.\n"
                         "e: render it again from its template and fields (for the loaded tape).\n"
                         "Esc: do nothing.")
            with Horizontal(id="dialog-buttons"):
                yield Button("Byte-identical (b)", id="identical", variant="primary")
                yield Button("Re-render (e)", id="rerender")
                yield Button("Cancel (Esc)", id="none")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss({"identical": False, "rerender": True}.get(event.button.id or ""))

    def action_choose(self, rerender: bool | None) -> None:
        self.dismiss(rerender)


class ConfirmDialog(ModalScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"), Binding("escape,n", "answer(False)", "No"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.question, id="dialog-title")
            with Horizontal(id="dialog-buttons"):
                yield Button("Yes (y)", id="yes", variant="error")
                yield Button("No (n)", id="no", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


# the job states each action is for (the server says the same with -32003); elsewhere it is greyed out
ACTION_STATES = {"cancel_job": ("pending", "held", "stopped"), "hold": ("pending",), "release": ("held",),
                 "move_job": ("pending", "held", "stopped")}


class JobActions:
    """Reprint / cancel / hold / release for the job a screen points at."""

    def current_job_id(self) -> int | None:
        raise NotImplementedError

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Cancel, hold and release only where the job's state allows them: greyed out otherwise."""
        if action == "move_job" and len(self.app.store.printers) < 2:  # type: ignore[attr-defined]
            return False  # nowhere to move it: not offered at all
        states = ACTION_STATES.get(action)
        if states is None:
            return True
        try:
            job_id = self.current_job_id()
        except NoMatches:  # not mounted yet
            return True
        if job_id is None:
            return None
        state = self._job(job_id).get("state")
        return True if state is None or state in states else None

    def _job(self, job_id: int) -> dict[str, Any]:
        return self.app.store.jobs.get(job_id) or {"id": job_id}  # type: ignore[attr-defined]

    def action_reprint(self) -> None:
        job_id = self.current_job_id()
        if job_id is None:
            return

        def chosen(rerender: bool | None) -> None:
            if rerender is None:
                return

            async def work() -> None:
                params = {"job_id": job_id, "rerender": rerender}
                job = await self.app.call_or_notify("job.reprint", params, what="Reprint")  # type: ignore[attr-defined]
                if job:
                    how = "re-rendered" if rerender else "byte-identical"
                    self.app.notify(f"Job #{job_id} reprinted ({how}) as job #{job['id']}.")  # type: ignore[attr-defined]
                    self.job_action_done(job)

            self.background(work, group="job-action", exclusive=False)  # type: ignore[attr-defined]

        self.app.push_screen(ReprintDialog(self._job(job_id)), chosen)  # type: ignore[attr-defined]

    def action_cancel_job(self) -> None:
        job_id = self.current_job_id()
        if job_id is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._simple("job.cancel", job_id, "canceled")

        question = f"Cancel job #{job_id}?"
        job = self._job(job_id)
        if job.get("state") == "stopped" and job.get("started_at"):  # as the server's printer-may-still-print
            noun, _ = fmt.loaded_media(self.appliance.store.printers.get(job.get("printer_id") or "") or {})
            question += (f"\nIts printer has it already and may still print it once it can (cover closed, {noun} "
                         "loaded): a printer keeps a job it started.")
        self.app.push_screen(ConfirmDialog(question), answered)  # type: ignore[attr-defined]

    def action_move_job(self) -> None:
        """job.move: to another printer, when nothing of it was sent (the server says so otherwise)."""
        job_id = self.current_job_id()
        if job_id is None:
            return
        store = self.app.store  # type: ignore[attr-defined]
        here = self._job(job_id).get("printer_id")
        others = {pid: store.printer_name(pid) + ("  (queue paused)" if status.get("paused") else "")
                  for pid, status in store.printers.items() if pid != here}
        if not others:
            self.app.notify("There is no other printer to move it to.")  # type: ignore[attr-defined]
            return

        def chosen(printer_id: str | None) -> None:
            if not printer_id:
                return

            async def work() -> None:
                job = await self.app.call_or_notify(  # type: ignore[attr-defined]
                    "job.move", {"job_id": job_id, "printer_id": printer_id}, what=f"Job #{job_id}")
                if job:
                    self.app.notify(f"Job #{job_id} moved to {store.printer_name(printer_id)}.")  # type: ignore[attr-defined]
                    self.job_action_done(job)

            self.background(work, group="job-action", exclusive=False)  # type: ignore[attr-defined]

        self.app.push_screen(PrinterChoice(f"Move job #{job_id} to which printer?", others), chosen)  # type: ignore[attr-defined]

    def action_hold(self) -> None:
        job_id = self.current_job_id()
        if job_id is not None:
            self._simple("job.hold", job_id, "held")

    def action_release(self) -> None:
        job_id = self.current_job_id()
        if job_id is not None:
            self._simple("job.release", job_id, "released")

    def _simple(self, method: str, job_id: int, done: str) -> None:
        async def work() -> None:
            job = await self.app.call_or_notify(method, {"job_id": job_id}, what=f"Job #{job_id}")  # type: ignore[attr-defined]
            if job:
                self.app.notify(f"Job #{job_id} {done}: now {fmt.job_state(job.get('state'))}.")  # type: ignore[attr-defined]
                self.job_action_done(job)

        self.background(work, group="job-action", exclusive=False)  # type: ignore[attr-defined]

    def job_action_done(self, job: dict[str, Any]) -> None:
        store = self.app.store  # type: ignore[attr-defined]
        store.apply("notify_job_updated", job)
        self.app.last_topic = "jobs"  # type: ignore[attr-defined]
        self.app.revision += 1  # type: ignore[attr-defined]
        self.refresh_bindings()  # type: ignore[attr-defined]


class JobsScreen(JobActions, BaseScreen):
    PAGE = "Jobs"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open_job", "Detail", id="jobs.detail", show=False),
        Binding("f", "focus_filter", "Filter", id="jobs.filter"),
        Binding("n", "next_page", "Next", id="jobs.next"),
        Binding("b", "previous_page", "Prev", id="jobs.previous"),
        Binding("g", "reload", "Reload", id="jobs.reload", show=False),
        Binding("backspace", "leave_batch", "All jobs", id="jobs.leave_batch"),
        *ACTION_BINDINGS,
    ]

    def __init__(self) -> None:
        super().__init__()
        self.state_filter: str | None = None
        self.printer_filter: str | None = None
        self.cursors: list[str | None] = [None]  # cursor of each page seen so far
        self.next_cursor: str | None = None
        self.rows: dict[int, dict[str, Any]] = {}
        self.batch_filter: int | None = None  # inside one batch's group: its jobs only
        self.batches: dict[int, dict[str, Any]] = {}  # batch.get of the batches on this page

    def body(self) -> Iterable[Widget]:
        options = [(fmt.job_state(s), s) for s in fmt.JOB_STATES]
        with Horizontal(id="jobs-bar"):
            yield Label("State ")
            yield Select(options, prompt="all states", allow_blank=True, compact=True, id="state-filter")
            yield Label(" Printer ")
            yield Select(self.printer_options(), prompt="all printers", allow_blank=True, compact=True,
                         id="printer-filter")
        yield Static("", id="page-info")
        table: DataTable[str] = DataTable(id="jobs", cursor_type="row", zebra_stripes=True)
        yield table

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one("#jobs", DataTable)
        for name in LIST_COLUMNS:
            table.add_column(name, key=name.lower())
        table.focus()
        self.load()

    def on_screen_resume(self) -> None:
        self.load()

    def printer_options(self) -> list[tuple[str, str]]:
        store = self.appliance.store
        known = {**store.printer_info, **store.printers}
        return [(store.printer_name(pid), pid) for pid in known]

    def load(self) -> None:
        cursor = self.cursors[-1]
        state = self.state_filter
        printer = self.printer_filter
        batch = self.batch_filter

        async def work() -> None:
            params: dict[str, Any] = {"limit": PAGE_SIZE}
            if state:
                params["state"] = state
            if printer:
                params["printer_id"] = printer
            if cursor:
                params["cursor"] = cursor
            if batch:
                params["batch_id"] = batch
            page = await self.appliance.call("job.list", params)
            jobs = page.get("jobs") or []
            await self.load_batches({int(j["batch_id"]) for j in jobs if j.get("batch_id")} | (
                {batch} if batch else set()))
            self.show_page(jobs, page.get("next_cursor"))

        self.background(work, group="jobs-load")

    async def load_batches(self, batch_ids: set[int]) -> None:
        """Each batch's progress (batch.get), for its group row."""
        for batch_id in sorted(batch_ids):
            self.batches[batch_id] = await self.appliance.call("batch.get", {"batch_id": batch_id})

    def display_rows(self) -> list[tuple[str, tuple[str, ...]]]:
        """(key, cells) newest first; outside a batch, each batch is one group row where its newest job is."""
        store = self.appliance.store
        out: list[tuple[str, tuple[str, ...]]] = []
        grouped: set[int] = set()
        for job_id in sorted(self.rows, reverse=True):
            job = self.rows[job_id]
            batch_id = job.get("batch_id")
            if not batch_id or self.batch_filter:
                out.append((str(job_id), (*job_row(store, job), sent_by(job))))
            elif batch_id not in grouped:
                grouped.add(batch_id)
                out.append((f"batch-{batch_id}", self.batch_row(batch_id, job)))
        return out

    def batch_row(self, batch_id: int, job: dict[str, Any]) -> tuple[str, ...]:
        """A batch as one row: labels printed out of all, and whether it is done or has a problem."""
        batch = self.batches.get(batch_id) or {}
        printed, labels = batch.get("labels_printed", "?"), batch.get("labels", "?")
        state = f"▦ {printed}/{labels} printed"
        if batch.get("first_problem"):
            state += " ⚠"
        elif batch.get("done"):
            state += " ✓"
        rows = batch.get("rows")
        return (f"batch #{batch_id}", state, str(job.get("template") or "-"),
                printer_of(self.appliance.store, job), fmt.short_time(batch.get("created_at") or
                                                                      job.get("created_at")),
                f"{rows} rows" if rows else "-", sent_by(job))

    def show_page(self, jobs: list[dict[str, Any]], next_cursor: str | None) -> None:
        self.next_cursor = next_cursor
        self.rows = {int(j["id"]): j for j in jobs}
        self.redraw()

    def redraw(self) -> None:
        table = self.query_one("#jobs", DataTable)
        row = table.cursor_row
        under = self.current_key()
        table.clear()
        shown = self.display_rows()
        for key, cells in shown:
            table.add_row(*cells, key=key)
        keys = [key for key, _ in shown]
        if table.row_count:  # the cursor stays on its job when new ones come in above it
            row = keys.index(under) if under in keys else row
            table.move_cursor(row=min(row or 0, table.row_count - 1))
        page = len(self.cursors)
        more = " · n: next" if self.next_cursor else ""
        back = " · b: back" if page > 1 else ""
        what = self.state_filter or "all states"
        if self.printer_filter:
            what += f", {self.appliance.store.printer_name(self.printer_filter)}"
        count = f"{len(self.rows)} job{'' if len(self.rows) == 1 else 's'}"
        inside = ""
        if self.batch_filter:
            batch = self.batches.get(self.batch_filter) or {}
            inside = (f"  batch #{self.batch_filter}: {batch.get('labels_printed', '?')} of "
                      f"{batch.get('labels', '?')} labels printed · backspace: all jobs\n")
        self.query_one("#page-info", Static).update(f"{inside}  page {page}, {count} ({what}){more}{back}")
        self.refresh_bindings()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.refresh_bindings()  # cancel, hold and release follow the job under the cursor

    def data_changed(self, topic: str | None) -> None:
        if topic == "catalogue":  # (re)connected: the printers as they are now
            chooser = self.query_one("#printer-filter", Select)
            options = self.printer_options()
            chooser.set_options(options)  # which clears the choice
            if self.printer_filter in {pid for _, pid in options}:
                chooser.value = self.printer_filter
            elif self.printer_filter is not None:
                self.printer_filter = None
                self.load()
            return
        if topic == "queue" and self.batch_progress():
            return  # a batch's progress moved: batch_progress reloads what it shows
        if topic in ("queue", "printers"):  # a printer paused, resumed, gone or back: its pending jobs say so
            self.redraw()
            return
        if topic not in ("jobs", "snapshot"):
            return
        changed = False
        first_page = len(self.cursors) == 1
        newest = max(self.rows, default=0)
        for job_id, job in self.appliance.store.jobs.items():
            if job_id in self.rows:
                if not self.shown(job):
                    del self.rows[job_id]
                    changed = True
                elif self.rows[job_id] != merged(self.rows[job_id], job):
                    self.rows[job_id] = merged(self.rows[job_id], job)
                    changed = True
            elif first_page and job_id > newest and self.shown(job):
                self.rows[job_id] = job
                changed = True
        if changed:
            self.redraw()

    def shown(self, job: dict[str, Any]) -> bool:
        """Whether the filters let this job in."""
        return ((not self.state_filter or job.get("state") == self.state_filter)
                and (not self.printer_filter or job.get("printer_id") == self.printer_filter)
                and (not self.batch_filter or job.get("batch_id") == self.batch_filter))

    def batch_progress(self) -> bool:
        """After a queue notification: the progress of the batches shown (a new batch on the first page
        reloads it: its jobs were stored without a job notification each). True when it reloads."""
        active = {int(b["batch_id"]): b for b in (self.appliance.store.queue.get("batches") or [])}
        new = [b for b in active if b not in self.batches and (self.batch_filter in (None, b))]
        stale = [b for b, known in self.batches.items() if not known.get("done")
                 and (b not in active or active[b].get("labels_printed") != known.get("labels_printed")
                      or active[b].get("counts") != known.get("counts"))]
        if new and len(self.cursors) == 1:
            self.load()
            return True
        if not stale:
            return False

        async def work() -> None:
            await self.load_batches(set(stale))
            self.redraw()

        self.background(work, group="jobs-batches")
        return True

    def on_select_changed(self, event: Select.Changed) -> None:
        value = event.value if isinstance(event.value, str) else None
        if event.select.id == "printer-filter":
            self.printer_filter = value
        else:
            self.state_filter = value
        self.cursors = [None]
        self.load()

    def action_focus_filter(self) -> None:
        self.query_one("#state-filter", Select).focus()

    def action_next_page(self) -> None:
        if self.next_cursor:
            self.cursors.append(self.next_cursor)
            self.load()
        else:
            self.app.notify("This is the last page.")

    def action_previous_page(self) -> None:
        if len(self.cursors) > 1:
            self.cursors.pop()
            self.load()

    def action_reload(self) -> None:
        self.load()

    def current_key(self) -> str | None:
        """The key of the row under the cursor: a job id, or batch-N for a batch's group row."""
        table = self.query_one("#jobs", DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value

    def current_job_id(self) -> int | None:
        key = self.current_key()
        return int(key) if key is not None and key.isdigit() else None

    def current_batch_id(self) -> int | None:
        key = self.current_key()
        return int(key.removeprefix("batch-")) if key is not None and key.startswith("batch-") else None

    def enter_batch(self, batch_id: int) -> None:
        """Into a batch's group: its jobs, with its progress on top (backspace goes back)."""
        if self.batch_filter == batch_id:
            return
        self.batch_filter = batch_id
        self.cursors = [None]
        self.load()

    def action_leave_batch(self) -> None:
        if self.batch_filter is not None:
            self.batch_filter = None
            self.cursors = [None]
            self.load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "leave_batch":
            return self.batch_filter is not None
        return super().check_action(action, parameters)

    def _job(self, job_id: int) -> dict[str, Any]:
        return self.rows.get(job_id) or super()._job(job_id)

    def action_open_job(self) -> None:
        batch_id = self.current_batch_id()
        if batch_id is not None:
            self.enter_batch(batch_id)
            return
        job_id = self.current_job_id()
        if job_id is not None:
            self.app.push_screen(JobDetailScreen(job_id))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value
        if key is not None and key.startswith("batch-"):
            self.enter_batch(int(key.removeprefix("batch-")))
        elif key is not None:
            self.app.push_screen(JobDetailScreen(int(key)))


def unconfirmed_rest(job: dict[str, Any], timeline: list[dict[str, Any]]) -> int:
    """Labels of a job aborted `send-interrupted` that its USB printer never confirmed, when it confirmed
    some (the server's `failed` step says `labels` out of `copies`, and `rest`): 0 otherwise."""
    if job.get("state") != "aborted" or "send-interrupted" not in (job.get("reasons") or []):
        return 0
    for step in reversed(timeline):
        detail = step.get("detail") or {}
        if step.get("event") == "failed":
            rest, out = detail.get("rest"), detail.get("labels")
            return rest if isinstance(rest, int) and isinstance(out, int) and out > 0 and rest > 0 else 0
    return 0


class JobDetailScreen(JobActions, BaseScreen):
    PAGE = "Job"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="job.back"), *ACTION_BINDINGS,
        Binding("u", "reprint_rest", "Reprint rest", id="job.reprint_rest"),
    ]

    def __init__(self, job_id: int) -> None:
        super().__init__()
        self.job_id = job_id
        self.PAGE = f"Job #{job_id}"
        self.job: dict[str, Any] = {}
        self.waiting: str | None = None  # why it waits, as shown
        self.rest = 0  # labels its USB printer never confirmed, offered as one reprint

    def body(self) -> Iterable[Widget]:
        yield Static("Loading…", id="job-summary")
        table: DataTable[str] = DataTable(id="timeline", cursor_type="row")
        table.border_title = "Timeline"
        yield table

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one("#timeline", DataTable)
        for name in ("Time", "Step", "State", "Detail"):
            table.add_column(name, key=name.lower())
        self.load()

    def current_job_id(self) -> int | None:
        return self.job_id

    def _job(self, job_id: int) -> dict[str, Any]:
        return self.job or super()._job(job_id)

    def load(self) -> None:
        async def work() -> None:
            job = await self.appliance.call("job.get", {"job_id": self.job_id})
            timeline = await self.appliance.call("job.timeline", {"job_id": self.job_id})
            self.show(job, timeline)

        self.background(work, group="job-detail")

    def data_changed(self, topic: str | None) -> None:
        store = self.appliance.store
        job = store.jobs.get(self.job_id)
        if topic in ("jobs", "snapshot") and job is not None and job.get("updated_at") != self.job.get("updated_at"):
            self.load()
        elif self.job and store.waiting(self.job) != self.waiting:
            self.load()  # its printer paused, resumed or its queue stopped: the job itself does not change

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "reprint_rest":
            return self.rest > 0
        return super().check_action(action, parameters)

    def action_reprint_rest(self) -> None:
        """The labels the printer never confirmed, as one new job (the stored label, byte for byte)."""
        rest = self.rest
        if rest <= 0:
            return

        async def work() -> None:
            params = {"job_id": self.job_id, "copies": rest}
            job = await self.app.call_or_notify("job.reprint", params, what="Reprint")  # type: ignore[attr-defined]
            if job:
                self.app.notify(f"The {rest} unconfirmed label{'s' if rest != 1 else ''} of job #{self.job_id} "
                                f"reprinted as job #{job['id']}.")
                self.job_action_done(job)

        self.background(work, group="job-action", exclusive=False)

    def show(self, job: dict[str, Any], timeline: list[dict[str, Any]]) -> None:
        self.job = job
        self.rest = unconfirmed_rest(job, timeline)
        self.refresh_bindings()
        store = self.appliance.store
        self.waiting = store.waiting(job)
        text = Text()
        text.append(f"Job #{job['id']}  ", style="bold")
        text.append(fmt.job_state(job.get("state")), style="bold")
        if job.get("reasons"):
            text.append("  (" + ", ".join(job["reasons"]) + ")")
        text.append(f"\nTemplate {job.get('template')} v{job.get('template_version', '?')} · "
                    f"printer {job.get('printer_name') or store.printer_name(job.get('printer_id'))} · "
                    f"{job.get('copies', 1)} cop{'y' if job.get('copies', 1) == 1 else 'ies'} · " + fmt.job_media(job))
        if job.get("length_mm"):
            text.append(f" · {job['length_mm']:.1f} mm long")
        fields = job.get("fields") or {}
        if fields:
            shown = ", ".join(f"{k}={v!r}" for k, v in fields.items() if v not in ("", None))
            text.append(f"\nFields: {shown or '(all empty)'}")
        text.append(f"\nCreated {fmt.short_time(job.get('created_at'))} · "
                    f"completed {fmt.short_time(job.get('completed_at'))}")
        if job.get("origin_job_id"):
            text.append(f" · reprint of #{job['origin_job_id']}")
        if job.get("source") not in (None, "rpc"):
            text.append(f"\nSent by {sent_by(job)}")
        at_printer = store.waiting(job) if job.get("state") in ("processing", "stopped") else None
        if at_printer:  # its printer's queue stopped
            text.append(f"\nWaiting: {at_printer}", style="bold")
        if job.get("state") == "pending":
            waiting = store.waiting(job)
            place = f"position {job['position']} in its printer's queue" if job.get("position") else ""
            if waiting or place:
                text.append(f"\nWaiting: {waiting or place}" + (f" ({place})" if waiting and place else ""),
                            style="bold")
        advice = fmt.advice(job) if job.get("state") in ("stopped", "aborted") else ""
        if advice:
            text.append(f"\n⚠ {advice}", style="bold")
        if self.rest:
            text.append(f"\nu: reprint the {self.rest} unconfirmed label{'s' if self.rest != 1 else ''} "
                        "(check the printer first: they may have come out while it was unplugged)", style="bold")
        self.query_one("#job-summary", Static).update(text)
        table = self.query_one("#timeline", DataTable)
        table.clear()
        for step in timeline:
            detail = step.get("detail") or {}
            shown = ", ".join(f"{k}={v}" for k, v in detail.items() if v not in (None, "", [], {}))
            table.add_row(fmt.short_time(step.get("at")), str(step.get("event", "")),
                          fmt.job_state(step.get("state")), shown)

    def job_action_done(self, job: dict[str, Any]) -> None:
        super().job_action_done(job)
        if job.get("id") == self.job_id:
            self.load()
