"""batch.cancel publishes each job it cancels: /metrics counts them finished, a TUI store sees them canceled."""

from __future__ import annotations

from appliance.app import Appliance
from appliance.events import Event
from rpc.client import RpcClient
from tests.fast_fixtures import fast, rpc  # noqa: F401  (fixtures)
from tui.model import Store

from .test_metrics import samples, scrape, value


async def test_a_canceled_batch_counts_each_job(fast: Appliance, rpc: RpcClient) -> None:  # noqa: F811
    store = Store()
    fast.events.add_tap(lambda event: store.apply(event.name, event.payload)
                        if isinstance(event, Event) and event.name == "notify_job_updated" else None)
    batch = await rpc.call("print.batch", {"template": "text", "rows": [{"text": f"b{n}"} for n in range(3)],
                                           "hold": True})
    answer = await rpc.call("batch.cancel", {"batch_id": batch["batch_id"]})
    assert answer["canceled"] == 3
    assert sorted(job["state"] for job in store.jobs.values()) == ["canceled"] * 3
    found = samples((await scrape(fast))[1])
    assert value(found, "appliance_jobs_finished_total", printer="virtual", state="canceled") == 3
