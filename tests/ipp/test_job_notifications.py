"""Every IPP job an operation ends or deletes is published: a TUI store fed the real notifications keeps no
ghost `held` row, and /metrics counts the job as finished (aborted or canceled)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from appliance.events import Event
from appliance.ipp import codec, codes
from tests.access.helpers import unix_session
from tests.metrics.test_metrics import samples
from tests.support import make_settings, running
from tui.model import Store

from .client import IppClient, attrs, qr_pdf, status_name


class Watcher:
    """The TUI's job store, fed every notify_job_updated as the TUI would be."""

    def __init__(self) -> None:
        self.store = Store()
        self.seen: set[int] = set()

    def __call__(self, event: Event) -> None:
        if event.name == "notify_job_updated":
            self.seen.add(int(event.payload["id"]))
            self.store.apply(event.name, event.payload)

    def held(self) -> list[int]:
        return sorted(job_id for job_id, job in self.store.jobs.items() if job["state"] == "held")


async def finished(app: Any, state: str) -> float | None:
    async with unix_session(app) as session, session.get("http://localhost/metrics") as response:
        found = samples(await response.text())
    return sum(v for (name, labels), v in found.items()
               if name == "appliance_jobs_finished_total" and ("state", state) in labels)


async def test_refused_aborted_and_canceled_ipp_jobs_are_published(state_dir: Path) -> None:
    settings = make_settings(state_dir, ipp={"max_pages": 2})
    async with running(settings) as app:
        watcher = Watcher()
        app.events.add_tap(watcher)
        ipp = IppClient(socket=str(settings.socket_path))

        # Print-Job of 3 pages with max_pages 2: pages 1 and 2 were stored held, then deleted
        refused = await ipp.op(codes.PRINT_JOB, qr_pdf("three", pages=3, size_mm=(20, 10)), operation=[
            ("document-format", codec.MIME_TYPE, "application/pdf")])
        assert status_name(refused) == "client-error-request-entity-too-large"
        assert len(watcher.seen) == 2, watcher.seen  # both pages were published held...
        assert watcher.held() == []  # ...and published gone
        assert all(job.get("removed") for job in watcher.store.jobs.values())

        # Create-Job, then Close-Job with no document: aborted
        created = await ipp.op(codes.CREATE_JOB)
        empty = attrs(created, codec.JOB_GROUP)["job-id"][0]
        await ipp.op(codes.CLOSE_JOB, operation=[("job-id", codec.INTEGER, empty)])
        assert watcher.store.jobs[empty]["state"] == "aborted"

        # Create-Job, then Cancel-Job while its document is still to come: canceled
        created = await ipp.op(codes.CREATE_JOB)
        open_job = attrs(created, codec.JOB_GROUP)["job-id"][0]
        assert watcher.store.jobs[open_job]["state"] == "held"
        answer = await ipp.op(codes.CANCEL_JOB, operation=[("job-id", codec.INTEGER, open_job)])
        assert status_name(answer) == "successful-ok"
        assert watcher.store.jobs[open_job]["state"] == "canceled"
        assert watcher.held() == []

        assert await finished(app, "aborted") == 3  # two refused pages and the empty job
        assert await finished(app, "canceled") == 1
