"""GET /readiness and readiness.check against the real in-process server: pass, warn, fail."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from appliance.app import Appliance
from appliance.printer import raster
from appliance.readiness import DB_TIMEOUT_S
from appliance.store.migrate import migration_ids
from rpc.client import RpcClient
from tests.ops.helpers import entries, get_tcp, get_unix

EXPECTED = {"sqlite:responseTime", "migrations:head", "templates:loaded", "printers:stored", "printer:status",
            "queue:worker", "events:subscribers", "disk:free", "appliance:safeMode", "raster:encoder", "ipp:dnssd"}


async def fresh(appliance: Appliance) -> None:
    """Wait for the monitor's first answer so freshness has something to judge."""
    await appliance.printers[0].monitor.probe_now()


async def test_pass_document_shape_over_unix_and_tcp(appliance: Appliance) -> None:
    await fresh(appliance)
    status, ctype, body = await get_unix(appliance.settings.socket_path, "/readiness")
    assert (status, ctype) == (200, "application/health+json")
    assert body["status"] == "pass", body
    assert body["version"]
    assert set(body["checks"]) == EXPECTED
    for name, found in body["checks"].items():
        assert isinstance(found, list) and found, name
        for item in found:
            assert item["status"] == "pass" and item["time"].endswith("Z"), (name, item)
    sqlite = entries(body, "sqlite:responseTime")[0]
    assert sqlite["observedUnit"] == "ms" and sqlite["observedValue"] >= 0
    assert entries(body, "migrations:head")[0]["observedValue"] == migration_ids()[-1]
    assert entries(body, "templates:loaded")[0]["observedValue"] >= 4
    for per_printer in ("printers:stored", "printer:status", "queue:worker"):
        assert [e["componentId"] for e in entries(body, per_printer)] == ["virtual"]
    assert entries(body, "printer:status")[0]["observedUnit"] == "s"
    # /readiness stays open on TCP (no token) and says the same
    tcp_status, tcp_body = await get_tcp(appliance.listeners.url, "/readiness")
    assert tcp_status == 200 and tcp_body["status"] == "pass"


async def test_cover_open_warns_in_words(appliance: Appliance, client: RpcClient) -> None:
    appliance.simulator.printer.update(cover_open=True)
    await appliance.printers[0].monitor.probe_now()
    status, _, body = await get_unix(appliance.settings.socket_path, "/readiness")
    assert status == 200 and body["status"] == "warn"
    printer = entries(body, "printer:status")[0]
    assert printer["status"] == "warn" and printer["componentId"] == "virtual"
    assert "cover" in printer["output"].lower()
    assert entries(body, "sqlite:responseTime")[0]["status"] == "pass"
    # the same document over JSON-RPC
    assert (await client.call("readiness.check"))["status"] == "warn"
    appliance.simulator.printer.update(cover_open=False)
    await appliance.printers[0].monitor.probe_now()
    assert (await client.call("readiness.check"))["status"] == "pass"


async def test_paused_printer_and_stopped_job_warn(appliance: Appliance, client: RpcClient) -> None:
    await fresh(appliance)
    await client.call("printer.pause")
    body = await client.call("readiness.check")
    worker = entries(body, "queue:worker")[0]
    assert body["status"] == "warn" and worker["status"] == "warn"
    assert "paused" in worker["output"] and "printer.resume" in worker["output"]
    await client.call("printer.resume")
    assert (await client.call("readiness.check"))["status"] == "pass"

    appliance.simulator.printer.update(cover_open=True)  # the next job stops before sending
    await appliance.printers[0].monitor.probe_now()
    job = await client.call("print.submit", {"template": "text", "fields": {"text": "hello"}})
    deadline = time.monotonic() + 10
    while (await client.call("job.get", {"job_id": job["id"]}))["state"] != "stopped":
        assert time.monotonic() < deadline, "the job never stopped"
        await asyncio.sleep(0.05)
    body = await client.call("readiness.check")
    worker = entries(body, "queue:worker")[0]
    assert worker["status"] == "warn" and "1 job(s) on virtual stopped: Cover open" in worker["output"]


async def test_a_job_stopped_for_other_tape_says_so_not_that_the_printer_is_faulty(
        appliance: Appliance, client: RpcClient) -> None:
    await fresh(appliance)
    await client.call("printer.pause")
    job = await client.call("print.submit", {"template": "text", "fields": {"text": "for 12 mm"}})
    appliance.simulator.printer.update(tape="24mm")  # a person changed the tape; the printer itself is fine
    await appliance.printers[0].monitor.probe_now()
    await client.call("printer.resume")
    deadline = time.monotonic() + 10
    while (await client.call("job.get", {"job_id": job["id"]}))["state"] != "stopped":
        assert time.monotonic() < deadline, "the job never stopped"
        await asyncio.sleep(0.05)
    body = await client.call("readiness.check")
    assert entries(body, "printer:status")[0]["status"] == "pass"
    worker = entries(body, "queue:worker")[0]["output"]
    assert ("1 job(s) on virtual stopped: Wrong tape cassette loaded — put in the tape (width and type) this label "
            "was made for") in worker
    assert "fixes the printer" not in worker and "move or cancel" in worker


async def test_database_closed_fails_with_503(appliance: Appliance) -> None:
    await appliance.queue.stop(1.0)  # the workers would die on a closed database; this test is about readiness
    await appliance.db.close()
    status, ctype, body = await get_unix(appliance.settings.socket_path, "/readiness")
    assert (status, ctype) == (503, "application/health+json")
    assert body["status"] == "fail"
    sqlite = entries(body, "sqlite:responseTime")[0]
    assert sqlite["status"] == "fail" and "does not answer" in sqlite["output"]
    assert entries(body, "migrations:head")[0]["status"] == "fail"
    assert "Traceback" not in str(body)
    tcp_status, _ = await get_tcp(appliance.listeners.url, "/readiness")
    assert tcp_status == 503


async def test_a_hung_database_is_bounded_and_the_printer_never_probed(appliance: Appliance) -> None:
    await fresh(appliance)
    monitor = appliance.printers[0].monitor
    await monitor.stop()  # only readiness could probe now
    appliance.simulator.printer.update(offline=True)  # the printer would not answer a probe now
    probes_before = monitor.probes
    # keep the database's only thread busy with a query that runs until interrupted
    endless = asyncio.ensure_future(appliance.db.fetchone(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"))
    await asyncio.sleep(0.05)
    try:
        body = await asyncio.wait_for(appliance.readiness(), 5)  # a safety net; the check bounds itself
    finally:
        await appliance.db.conn.interrupt()
        await asyncio.gather(endless, return_exceptions=True)
    assert body["status"] == "fail"
    sqlite = entries(body, "sqlite:responseTime")[0]
    assert sqlite["status"] == "fail" and f"within {DB_TIMEOUT_S:g} s" in sqlite["output"]
    assert entries(body, "printers:stored")[0]["output"].startswith("not checked")
    assert monitor.probes == probes_before  # readiness reads the cache; it never asks the printer
    # and once the database is free again it passes
    assert entries(await appliance.readiness(), "sqlite:responseTime")[0]["status"] == "pass"


async def test_broken_user_template_is_named(appliance: Appliance) -> None:
    await fresh(appliance)
    templates = appliance.settings.state_dir / "templates"
    templates.mkdir(exist_ok=True)
    (templates / "shelf.toml").write_text("this is [not toml\n")
    body = await appliance.readiness()
    found = entries(body, "templates:loaded")[0]
    assert body["status"] == "warn" and found["status"] == "warn"
    assert "templates/shelf.toml" in found["output"]


async def test_dead_worker_and_subscriber_cap_warn(appliance: Appliance) -> None:
    await fresh(appliance)
    appliance.events.max_subscribers = 1
    sub = appliance.events.subscribe(["jobs"])
    body = await appliance.readiness()
    assert entries(body, "events:subscribers")[0]["status"] == "warn"
    assert "cannot subscribe" in entries(body, "events:subscribers")[0]["output"]
    sub.close()
    await appliance.printers[0].worker.stop(0.1)
    body = await appliance.readiness()
    worker = entries(body, "queue:worker")[0]
    assert worker["status"] == "warn" and "not running" in worker["output"]


async def test_stale_worker_heartbeat_warns(appliance: Appliance) -> None:
    await fresh(appliance)
    await appliance.printers[0].monitor.stop()  # no status changes to wake the worker meanwhile
    await asyncio.sleep(0.1)
    appliance.printers[0].worker.heartbeat -= 60  # as if its loop had been stuck for a minute
    worker = entries(await appliance.readiness(), "queue:worker")[0]
    assert worker["status"] == "warn" and "has not moved" in worker["output"]


async def test_stale_printer_status_warns(state_dir: Path) -> None:
    from tests.support import make_settings

    app = Appliance(make_settings(state_dir))
    await app.start()
    try:
        monitor = app.printers[0].monitor
        await monitor.stop()  # the status loop stops: nothing refreshes the cache any more
        await monitor.probe_now()
        monitor.snapshot = type(monitor.snapshot)(**{**monitor.snapshot.__dict__,
                                                     "captured_monotonic": time.monotonic() - 3.5 * monitor.interval})
        found = entries(await app.readiness(), "printer:status")[0]
        assert found["status"] == "warn" and "old" in found["output"]
    finally:
        await app.stop()


async def test_the_raster_encoder_is_named_and_its_absence_explained(
    appliance: Appliance, client: RpcClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = await client.call("readiness.check")
    built = "c" if raster._native_lines is not None else "pillow"
    assert entries(body, "raster:encoder")[0]["observedValue"] == built
    monkeypatch.setattr(raster, "_native_lines", None)  # as installed without a C compiler
    found = entries(await client.call("readiness.check"), "raster:encoder")[0]
    assert found["status"] == "pass" and found["observedValue"] == "pillow"
    assert "gcc" in found["output"] and "python3-dev" in found["output"]
