"""GET /metrics: the Prometheus text format (parsed with prometheus_client's own parser), the counters after real
prints and calls, who may scrape (read token over TCP, anyone on the unix socket, anyone with [metrics] public),
and that a scrape neither probes a printer nor loads prometheus_client before the first one."""

from __future__ import annotations

import asyncio
import json
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from appliance.app import Appliance
from rpc.client import RpcClient
from tests.access.helpers import bearer, make_token, unix_session
from tests.fast_fixtures import fast, rpc, wait_job  # noqa: F401  (fixtures)
from tests.support import PYTHON, make_settings, running

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: Samples, name: str, **labels: str) -> float | None:
    return found.get((name, tuple(sorted(labels.items()))))


async def scrape(appliance: Appliance) -> tuple[int, str]:
    async with unix_session(appliance) as session, session.get("http://localhost/metrics") as response:
        return response.status, await response.text()


async def test_metrics_count_printed_labels_calls_and_jobs(fast: Appliance, rpc: RpcClient) -> None:  # noqa: F811
    status, text = await scrape(fast)
    assert status == 200
    before = samples(text)
    assert value(before, "appliance_safe_mode") == 0
    assert sum(v for (name, _), v in before.items() if name == "appliance_printer_state") == 1  # one state at a time
    for _ in range(100):  # the first probe (every 0.2 s here)
        if fast.printers[0].monitor.snapshot.state == "idle":
            break
        await asyncio.sleep(0.05)
    before = samples((await scrape(fast))[1])
    assert value(before, "appliance_printer_state", printer="virtual", state="idle") == 1
    assert value(before, "appliance_printer_state", printer="virtual", state="offline") == 0
    assert value(before, "appliance_queue_depth", printer="virtual") == 0

    ids = []
    for n in range(3):  # 1 + 2 + 2 = 5 labels
        job = await rpc.call("print.submit", {"template": "text", "fields": {"text": f"L{n}"},
                                              "copies": 1 if n == 0 else 2})
        ids.append(job["id"])
    done = [await wait_job(rpc, job_id, ("completed",)) for job_id in ids]
    held = await rpc.call("print.submit", {"template": "text", "fields": {"text": "later"}, "hold": True})
    canceled = await rpc.call("print.submit", {"template": "text", "fields": {"text": "no"}, "hold": True})
    await rpc.call("job.cancel", {"job_id": canceled["id"]})
    try:
        await rpc.call("print.submit", {"template": "text", "fields": {}})
    except Exception:
        pass
    try:
        await rpc.call("no.such.method")
    except Exception:
        pass

    for _ in range(100):  # the queue summary is published 50 ms after a change (debounced)
        found = samples((await scrape(fast))[1])
        if value(found, "appliance_jobs", printer="virtual", state="held") == 1:
            break
        await asyncio.sleep(0.02)
    media = done[0]["media"]
    assert value(found, "appliance_labels_printed_total", printer="virtual", media=media) == 5
    length = sum(job["length_mm"] * job["copies"] for job in done)
    assert abs(value(found, "appliance_media_used_mm_total", printer="virtual", media=media) - length) < 0.01
    assert value(found, "appliance_jobs_finished_total", printer="virtual", state="completed") == 3
    assert value(found, "appliance_jobs_finished_total", printer="virtual", state="canceled") == 1
    assert value(found, "appliance_jobs", printer="virtual", state="held") == 1  # from the queue summary published
    assert value(found, "appliance_queue_depth", printer="virtual") == 0  # a held job waits for a person, not the queue
    assert value(found, "appliance_rpc_call_duration_seconds_count", method="print.submit", outcome="ok") == 5
    assert value(found, "appliance_rpc_call_duration_seconds_count", method="print.submit",
                 outcome="invalid_params") == 1
    assert value(found, "appliance_rpc_call_duration_seconds_count", method="other", outcome="method_not_found") == 1
    assert value(found, "appliance_rpc_call_duration_seconds_bucket", method="print.submit", outcome="ok",
                 le="+Inf") == 5
    probes = sum(v for (name, _), v in found.items() if name == "appliance_printer_probe_duration_seconds_count")
    assert probes >= 1
    assert value(found, "appliance_printer_status_age_seconds", printer="virtual") is not None
    assert value(found, "appliance_database_size_bytes") > 0
    assert value(found, "appliance_websocket_subscribers") == 0
    assert held["state"] == "held"


async def test_a_scrape_touches_no_printer(fast: Appliance) -> None:  # noqa: F811
    monitor = fast.printers[0].monitor
    await scrape(fast)
    probes = monitor.probes
    for _ in range(30):
        assert (await scrape(fast))[0] == 200
    assert monitor.probes - probes <= 2  # only the monitor's own polls (every 0.2 s here), not one per scrape


async def test_who_may_scrape(state_dir: Path) -> None:
    settings = make_settings(state_dir, auth={"rate_per_s": 1.0, "rate_burst": 3})
    async with running(settings) as app:
        url = app.listeners.url + "/metrics"
        read = await make_token(app, "prometheus", "read")
        async with aiohttp.ClientSession() as session:
            async with session.get(url) as response:
                assert response.status == 401
            async with session.get(url, headers=bearer("la_" + "x" * 43)) as response:
                assert response.status == 401
            async with session.get(url, headers=bearer(read)) as response:
                assert response.status == 200
                assert response.headers["Content-Type"].startswith("text/plain; version=")
            statuses = []
            for _ in range(6):  # over the burst of 3: refused for their rate, and counted
                async with session.get(url, headers=bearer(read)) as response:
                    statuses.append(response.status)
            assert 429 in statuses
        status, text = await scrape(app)  # the unix socket: no token, no rate limit
        assert status == 200
        assert value(samples(text), "appliance_rate_limited_total") == statuses.count(429)
    public = make_settings(state_dir, metrics={"public": True})
    async with running(public) as app, aiohttp.ClientSession() as session:
        async with session.get(app.listeners.url + "/metrics") as response:
            assert response.status == 200
            assert value(samples(await response.text()), "appliance_safe_mode") == 0
        async with session.post(app.listeners.url + "/rpc", json={"jsonrpc": "2.0", "id": 1,
                                                                  "method": "server.info"}) as response:
            assert response.status == 401  # public metrics open nothing else


def test_prometheus_client_waits_for_the_first_scrape(state_dir: Path) -> None:
    """The idle server does not carry prometheus_client (or cryptography with TLS off) until someone scrapes."""
    script = textwrap.dedent(f"""
        import asyncio, json, sys
        import aiohttp
        from tests.support import make_settings, running

        async def main():
            async with running(make_settings({str(state_dir)!r})) as app:
                before = {{m: m in sys.modules for m in ("prometheus_client", "cryptography",
                                                        "appliance.web.metrics")}}
                connector = aiohttp.UnixConnector(path=str(app.settings.socket_path))
                async with aiohttp.ClientSession(connector=connector) as s, s.get("http://x/metrics") as r:
                    status = r.status
                print("RESULT", json.dumps({{"before": before, "after": "prometheus_client" in sys.modules,
                                   "status": status}}))

        asyncio.run(main())
    """)
    out = subprocess.run([PYTHON, "-c", script], capture_output=True, text=True, timeout=60,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.returncode == 0, out.stderr
    line = next(line for line in out.stdout.splitlines() if line.startswith("RESULT "))
    result: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
    assert result == {"before": {"prometheus_client": False, "cryptography": False,
                                 "appliance.web.metrics": False}, "after": True, "status": 200}
