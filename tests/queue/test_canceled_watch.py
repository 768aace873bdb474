"""A canceled job the printer keeps: the next job is not sent until its label is out, or the printer
stood idle without it for queue.lost_after_idle_s (found by the Hypothesis machine of
test_reconcile_sim.py: two busy polls of idle were taken as "it let the job go")."""

from __future__ import annotations

from pathlib import Path

from appliance.app import Appliance
from appliance.simulator.state import Phase
from rpc.client import RpcClient
from tests.fast_fixtures import printed, wait_job
from tests.support import make_settings, running


def sim(app: Appliance):  # type: ignore[no-untyped-def]
    return app.simulator.printer


async def test_the_next_job_waits_for_a_canceled_kept_label_a_slow_printer_takes_up_late(state_dir: Path) -> None:
    settings = make_settings(state_dir, simulator={"poll_interval_s": 0.2, "busy_poll_interval_s": 0.05},
                             queue={"lost_after_idle_s": 3.0})
    async with running(settings) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        sim(app).update(speed=20, resume_after_s=1.0)  # goes on a second after the cover closes: 20 busy polls
        kept = await rpc.call("print.submit", {"template": "text", "fields": {"text": "kept"}})
        await wait_job(rpc, kept["id"], ("processing",))
        await sim(app).wait_for(lambda p: p.phase == Phase.PRINTING, timeout=5)
        sim(app).update(cover_open=True)
        await wait_job(rpc, kept["id"], ("stopped",))
        await rpc.call("job.cancel", {"job_id": kept["id"]})
        following = await rpc.call("print.submit", {"template": "text", "fields": {"text": "next"}})
        sim(app).update(cover_open=False)
        done = await wait_job(rpc, following["id"], ("completed", "aborted"), timeout=20)
        # completed once its own label is out: before, it was sent while the printer kept the other, and
        # the kept label's page count completed it with its own still to come
        assert (done["state"], len(printed(app))) == ("completed", 2), done
        assert (await rpc.call("job.get", {"job_id": kept["id"]}))["reasons"] == ["canceled-by-user",
                                                                                   "printed-after-cancel"]
