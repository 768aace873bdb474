"""The TUI offers the labels a USB printer never confirmed as one reprint (Pilot, real server, virtual USB)."""

from __future__ import annotations

from pathlib import Path

from tests.fast_fixtures import wait_job
from tests.tui.helpers import SIZE, connected, make_app, notifications, text_of, until
from tests.usb.test_usb_queue import labels_out, served
from tests.usb.test_usb_queue import until as job_until
from tui.screens.jobs import JobDetailScreen


async def test_a_job_cut_off_by_an_unplug_offers_to_reprint_its_unconfirmed_labels(
        usb_printers, state_dir: Path, tmp_path: Path) -> None:
    sim = await usb_printers(speed=60.0)
    assert sim.usb is not None
    async with served(sim, state_dir, tmp_path) as (appliance, rpc):
        job = await rpc.call("print.submit", {"template": "text", "copies": 3, "fields": {"text": "rest"}})
        await job_until(rpc, job["id"], lambda j, t: len(labels_out(t)) >= 1)
        sim.usb.apply({"unplugged": True})
        await wait_job(rpc, job["id"], ("stopped",))
        await sim.wait_idle(timeout=10)
        sim.usb.apply({"unplugged": False})
        await wait_job(rpc, job["id"], ("aborted",))
        confirmed = len(labels_out(await rpc.call("job.timeline", {"job_id": job["id"]})))
        rest = 3 - confirmed
        app = make_app(appliance)
        async with app.run_test(size=SIZE) as pilot:
            await connected(pilot)
            await app.push_screen(JobDetailScreen(job["id"]))
            await until(pilot, lambda: "unconfirmed" in text_of(app, "#job-summary"), what="the offer")
            assert f"reprint the {rest} unconfirmed label" in text_of(app, "#job-summary")
            assert app.screen.check_action("reprint_rest", ()) is True
            await pilot.press("u")
            await until(pilot, lambda: any(j.get("origin_job_id") == job["id"] for j in app.store.jobs.values()),
                        what="the reprint")
            assert any(f"The {rest} unconfirmed label" in m for m in notifications(app))
        reprint = next(j for j in app.store.jobs.values() if j.get("origin_job_id") == job["id"])
        done = await wait_job(rpc, reprint["id"], ("completed",))
    assert done["copies"] == rest
    assert sim.printer.jobs_received == 2 and len(sim.printer.printed) == 3 + rest  # the person chose to reprint
