"""`appliance print --wait`: follow a batch until nothing of it is left to print, showing its progress.

On a terminal a rich progress bar (labels printed out of N, on its printer); otherwise a plain line
each time the count moves (at most one a second), so a log or a CI job shows it too. The exit status
says whether every row came out: 0 only when every job completed.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any, Protocol

POLL_S = 0.25
LINE_EVERY_S = 1.0


class Caller(Protocol):
    async def call(self, method: str, params: dict[str, Any] | None = None) -> Any: ...


def problem_words(batch: dict[str, Any]) -> str:
    """The first row that did not come out (or waits for a person), in words."""
    problem = batch.get("first_problem")
    if not problem:
        return ""
    why = "; ".join(problem.get("descriptions") or problem.get("reasons") or [])
    return f"row {problem['row']} (job {problem['job_id']}) is {problem['state']}" + (f": {why}" if why else "")


def outcome(batch: dict[str, Any]) -> tuple[int, str]:
    """(exit status, the final line) of a batch with nothing left to print."""
    counts = batch["counts"]
    rows = batch["rows"]
    if counts.get("completed", 0) == rows:
        return 0, f"batch {batch['batch_id']}: all {rows} rows printed ({batch['labels_printed']} labels)"
    missed = rows - counts.get("completed", 0)
    states = ", ".join(f"{n} {s}" for s, n in counts.items() if n and s != "completed")
    return 1, (f"batch {batch['batch_id']}: {missed} of {rows} rows did not print ({states}); "
               f"{problem_words(batch)}; `appliance call job.list batch_id={batch['batch_id']}` lists them")


async def follow(client: Caller, batch_id: int, *, tty: bool) -> int:
    """Wait until the batch is done; the exit status (0: every row printed, 1: not)."""
    if tty:
        return await _follow_rich(client, batch_id)
    return await _follow_plain(client, batch_id)


async def _follow_plain(client: Caller, batch_id: int) -> int:
    shown: tuple[int, str] | None = None
    last = 0.0
    while True:
        batch = await client.call("batch.get", {"batch_id": batch_id})
        printed, labels = batch["labels_printed"], batch["labels"]
        note = problem_words(batch) if batch["counts"].get("stopped") else ""
        now = time.monotonic()
        if (printed, note) != shown and (now - last >= LINE_EVERY_S or batch["done"] or note):
            where = f" on {batch['printer_name']}" if batch.get("printer_name") else ""
            print(f"printed {printed} of {labels} labels{where}" + (f" (waiting: {note})" if note else ""),
                  flush=True)
            shown, last = (printed, note), now
        if batch["done"]:
            status, line = outcome(batch)
            print(line, file=sys.stderr if status else sys.stdout, flush=True)
            return status
        await asyncio.sleep(POLL_S)


async def _follow_rich(client: Caller, batch_id: int) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console()
    batch = await client.call("batch.get", {"batch_id": batch_id})
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("labels"),
                  TimeRemainingColumn(), TextColumn("{task.fields[note]}"), console=console) as bar:
        task = bar.add_task(batch.get("printer_name") or batch["printer_id"], total=batch["labels"], note="")
        while True:
            note = problem_words(batch) if batch["counts"].get("stopped") else ""
            bar.update(task, completed=batch["labels_printed"], note=f"[yellow]{note}" if note else "")
            if batch["done"]:
                break
            await asyncio.sleep(POLL_S)
            batch = await client.call("batch.get", {"batch_id": batch_id})
    status, line = outcome(batch)
    console.print(line, style="red" if status else "green", highlight=False)
    return status
