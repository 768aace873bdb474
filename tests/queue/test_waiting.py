"""A pending job says what it waits for: a paused queue, a stopped job ahead, a printer out of reach."""

from __future__ import annotations

import asyncio
from pathlib import Path

from appliance.app import Appliance
from appliance.simulator.runner import Simulator
from rpc.client import RpcClient
from tests.fast_fixtures import settle, wait_job
from tests.support import configured, printer_table, running


def _text(text: str) -> dict[str, object]:
    return {"template": "text", "fields": {"text": text}}


async def test_a_job_for_a_paused_printer_says_the_queue_is_paused_until_it_is_resumed(
        fast: Appliance, rpc: RpcClient) -> None:
    await rpc.call("printer.pause")
    first = await rpc.call("print.submit", _text("paused one"))
    second = await rpc.call("print.submit", _text("paused two"))
    # the answer to print.submit itself says it, not only a later job.get
    assert first["state"] == "pending" and first["reasons"] == []
    assert first["waiting"]["reason"] == "printer-paused" and first["waiting"]["ahead"] == 0
    assert "printer.resume" in first["waiting"]["description"]
    assert second["waiting"]["reason"] == "printer-paused" and second["waiting"]["ahead"] == 1
    assert "1 job ahead" in second["waiting"]["description"]

    listed = {j["id"]: j for j in (await rpc.call("job.list"))["jobs"]}
    assert listed[second["id"]]["waiting"] == second["waiting"]
    assert listed[second["id"]]["position"] == 2

    await rpc.call("printer.resume")
    done = await wait_job(rpc, second["id"], ("completed",))
    assert done["waiting"] is None and done["position"] is None
    assert {j["waiting"]["reason"] if j["waiting"] else None for j in (await rpc.call("job.list"))["jobs"]} == {None}


async def test_a_job_behind_a_stopped_one_says_which_job_it_waits_for_and_why(fast: Appliance, rpc: RpcClient) -> None:
    made = await rpc.call("print.submit", _text("made for 12 mm"))
    await wait_job(rpc, made["id"], ("completed",))
    fast.simulator.printer.update(tape="24mm")
    await settle(fast)
    # byte for byte: still a 12 mm label, so it stops for the wrong tape
    stuck = await rpc.call("job.reprint", {"job_id": made["id"]})
    await wait_job(rpc, stuck["id"], ("stopped",))
    behind = await rpc.call("print.submit", _text("made for 24 mm"))  # fits the loaded tape, but waits its turn
    said = behind["waiting"]
    assert said["reason"] == "queued" and said["behind_job_id"] == stuck["id"] and said["ahead"] == 1
    assert f"behind job {stuck['id']}, stopped: Wrong tape cassette loaded" in said["description"]
    await rpc.call("job.cancel", {"job_id": stuck["id"]})
    await wait_job(rpc, behind["id"], ("completed",))


async def test_a_job_behind_the_cover_open_waits_for_the_cover(fast: Appliance, rpc: RpcClient) -> None:
    fast.simulator.printer.update(cover_open=True)
    await settle(fast)
    stopped = await rpc.call("print.submit", _text("lid open"))
    await wait_job(rpc, stopped["id"], ("stopped",))
    behind = await rpc.call("print.submit", _text("behind it"))
    said = behind["waiting"]
    # the printer's own status says the cover is open: that is what this job waits for too
    assert said["reason"] == "cover-open" and said["ahead"] == 1 and "Cover open" in said["description"]
    fast.simulator.printer.update(cover_open=False)
    await wait_job(rpc, behind["id"], ("completed",))


async def test_jobs_for_an_unplugged_printer_say_it_is_not_reachable(fast: Appliance, rpc: RpcClient) -> None:
    fast.simulator.printer.update(offline=True, snmp_silent=True)
    monitor = fast.printers[0].monitor
    for _ in range(monitor.offline_after):
        await monitor.probe_now()
    first = await rpc.call("print.submit", _text("nobody home"))
    second = await rpc.call("print.submit", _text("still nobody"))
    for job, ahead in ((first, 0), (second, 1)):
        assert job["waiting"]["reason"] == "printer-offline" and job["waiting"]["ahead"] == ahead
        assert "not reachable" in job["waiting"]["description"]
    fast.simulator.printer.update(offline=False, snmp_silent=False)
    await wait_job(rpc, second["id"], ("completed",), timeout=15)


async def test_a_job_behind_one_the_printer_refuses_says_which_and_why(fast: Appliance, rpc: RpcClient) -> None:
    fast.simulator.printer.update(offline=True)  # the raster port refuses; SNMP still answers "ready"
    first = await rpc.call("print.submit", _text("refused"))
    deadline = asyncio.get_running_loop().time() + 10
    while (await rpc.call("job.get", {"job_id": first["id"]}))["reasons"] != ["jobs-refused"]:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.02)
    second = await rpc.call("print.submit", _text("behind the refused one"))
    said = second["waiting"]
    assert said["reason"] == "jobs-refused" and said["behind_job_id"] == first["id"]
    assert said["description"].startswith(f"behind job {first['id']}, which waits: The printer answers status "
                                          "requests but refuses print jobs")
    # and the printer is not called ready: SNMP says idle, but it takes no job
    status = await rpc.call("printer.status")
    assert status["state"] == "idle" and status["reasons"] == ["jobs-refused"], status
    assert "refuses print jobs" in status["descriptions"][0]
    fast.simulator.printer.update(offline=False)
    await wait_job(rpc, second["id"], ("completed",), timeout=15)
    assert (await rpc.call("printer.status"))["reasons"] == []


async def test_a_refusing_printer_is_called_ready_again_once_it_takes_connections_with_no_job_left(
        fast: Appliance, rpc: RpcClient) -> None:
    fast.simulator.printer.update(offline=True)
    job = await rpc.call("print.submit", _text("refused, then canceled"))
    monitor = fast.printers[0].monitor
    deadline = asyncio.get_running_loop().time() + 10
    while "jobs-refused" not in monitor.snapshot.reasons:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.02)
    await rpc.call("job.cancel", {"job_id": job["id"]})
    await monitor.probe_now()
    assert monitor.snapshot.reasons == ("jobs-refused",)  # still refusing: still said
    fast.simulator.printer.update(offline=False)
    deadline = asyncio.get_running_loop().time() + 10
    while monitor.snapshot.reasons:  # no job tries the port now: an idle probe looks at it
        assert asyncio.get_running_loop().time() < deadline, monitor.snapshot.reasons
        await monitor.probe_now()
        await asyncio.sleep(0.02)
    assert (await rpc.call("printer.status"))["reasons"] == []
    assert fast.simulator.printer.jobs_received == 0  # the canceled job was never sent


async def test_a_refusing_printer_without_snmp_is_not_marked_jobs_refused_for_good(tmp_path: Path) -> None:
    # No status probe can look at its port while no job tries it, so a "jobs-refused" would outlive a
    # cancel; its jobs say why they wait instead
    async with Simulator("PT-P750W", "12mm", out_dir=tmp_path / "lab", speed=None) as lab:
        _, port = lab.tcp_address
        settings = configured(tmp_path / "state", tmp_path, printer_table(
            "lab", "PT-P750W", f"tcp://127.0.0.1:{port}", "12mm", snmp={"enabled": False}))
        async with running(settings) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
            lab.printer.update(offline=True)
            job = await rpc.call("print.submit", _text("refused, no SNMP"))
            deadline = asyncio.get_running_loop().time() + 10
            while (await rpc.call("job.get", {"job_id": job["id"]}))["reasons"] != ["printer-offline"]:
                assert asyncio.get_running_loop().time() < deadline
                await asyncio.sleep(0.02)
            await rpc.call("job.cancel", {"job_id": job["id"]})
            assert app.printers[0].monitor.refused is None
            assert "jobs-refused" not in (await rpc.call("printer.status"))["reasons"]
