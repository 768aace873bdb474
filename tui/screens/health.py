"""Health: the readiness checks (re-run with r). Stats: labels and media used per day, in the words of the
configured printers' media (stats.summary's media_noun: tape, roll, or media for both)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets import DataTable, Label, Sparkline, Static

from .. import fmt
from .base import BaseScreen


class HealthScreen(BaseScreen):
    PAGE = "Health"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("r", "rerun", "Re-run checks", id="health.rerun")]

    def body(self) -> Iterable[Widget]:
        yield Static("Running the readiness checks…", id="overall")
        table: DataTable[str] = DataTable(id="checks", cursor_type="row", zebra_stripes=True)
        yield table

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one("#checks", DataTable)
        for name in ("Check", "Status", "Observed", "Output"):
            table.add_column(name, key=name.lower())
        self.action_rerun()

    def action_rerun(self) -> None:
        self.query_one("#overall", Static).update("Running the readiness checks…")

        async def work() -> None:
            self.show(await self.appliance.call("readiness.check", timeout=30))

        self.background(work, group="readiness")

    def show(self, doc: dict[str, Any]) -> None:
        status = doc.get("status", "?")
        overall = Text("Readiness: ")
        overall.append(fmt.CHECK_SYMBOLS.get(status, status), style="bold")
        overall.append(f"  (version {doc.get('version', '?')}; checked {fmt.short_time(self._time(doc))}; r: re-run)")
        self.query_one("#overall", Static).update(overall)
        table = self.query_one("#checks", DataTable)
        table.clear()
        for name, entries in (doc.get("checks") or {}).items():
            for entry in entries if isinstance(entries, list) else [entries]:
                observed = entry.get("observedValue")
                unit = entry.get("observedUnit") or ""
                shown = "" if observed is None else f"{observed} {unit}".strip()
                component = entry.get("componentId")  # which printer the row is about
                table.add_row(f"{name} · {component}" if component else name,
                              fmt.CHECK_SYMBOLS.get(entry.get("status", ""), entry.get("status", "?")),
                              shown, str(entry.get("output") or ""))

    @staticmethod
    def _time(doc: dict[str, Any]) -> str | None:
        for entries in (doc.get("checks") or {}).values():
            for entry in entries if isinstance(entries, list) else [entries]:
                if entry.get("time"):
                    return str(entry["time"])
        return None


class StatsScreen(BaseScreen):
    PAGE = "Stats"
    DAYS = (7, 14, 30, 90)
    BINDINGS: ClassVar[list[BindingType]] = [Binding("r", "reload", "Reload", id="stats.reload"),
                Binding("w", "wider", "Days", id="stats.days")]

    def __init__(self) -> None:
        super().__init__()
        self.days = 14

    def body(self) -> Iterable[Widget]:
        yield Static("Loading…", id="stats-summary")
        yield Label("Labels per day", classes="spark-label", id="labels-label")
        yield Sparkline([], id="labels-spark")
        yield Label("Media used per day", classes="spark-label", id="tape-label")
        yield Sparkline([], id="tape-spark")
        table: DataTable[str] = DataTable(id="per-tape", cursor_type="row")
        yield table

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one("#per-tape", DataTable)
        for name in ("Media", "Labels", "Used"):
            table.add_column(name, key=name.lower())
        self.action_reload()

    def on_screen_resume(self) -> None:
        self.action_reload()

    def action_wider(self) -> None:
        self.days = self.DAYS[(self.DAYS.index(self.days) + 1) % len(self.DAYS)] if self.days in self.DAYS else 14
        self.action_reload()

    def action_reload(self) -> None:
        days = self.days

        async def work() -> None:
            self.show(await self.appliance.call("stats.summary", {"days": days}), days)

        self.background(work, group="stats")

    def show(self, stats: dict[str, Any], days: int) -> None:
        per_day = {row["date"]: row for row in stats.get("per_day") or []}
        today = date.today()
        dates = [(today - timedelta(days=n)).isoformat() for n in range(days - 1, -1, -1)]
        labels = [float(per_day.get(d, {}).get("labels") or 0) for d in dates]
        tape = [float(per_day.get(d, {}).get("tape_mm") or 0) for d in dates]
        jobs: dict[str, int] = {}
        for row in per_day.values():
            for state, n in (row.get("jobs") or {}).items():
                jobs[state] = jobs.get(state, 0) + int(n)
        mean = stats.get("mean_submit_to_printed_s")
        noun = str(stats.get("media_noun") or "media")  # an older server: neutral words
        summary = (f"Last {days} days (w: change): {int(sum(labels))} labels, {fmt.mm(sum(tape))} of {noun} used; jobs "
                   + (", ".join(f"{n} {s}" for s, n in sorted(jobs.items())) or "none")
                   + (f"; submit→printed {mean:.2f} s on average" if isinstance(mean, int | float) else ""))
        self.query_one("#stats-summary", Static).update(summary)
        self.query_one("#labels-label", Label).update(
            f"Labels per day, {dates[0][5:]} → today (max {int(max(labels, default=0))}, today {int(labels[-1])})")
        self.query_one("#labels-spark", Sparkline).data = labels
        self.query_one("#tape-label", Label).update(
            f"{noun.capitalize()} used per day (max {fmt.mm(max(tape, default=0))}, today {fmt.mm(tape[-1])})")
        self.query_one("#tape-spark", Sparkline).data = tape
        table = self.query_one("#per-tape", DataTable)
        table.clear()
        for row in stats.get("per_tape") or []:
            table.add_row(str(row.get("description") or row.get("media") or "-"), str(row.get("labels", 0)),
                          fmt.mm(row.get("tape_mm")))
