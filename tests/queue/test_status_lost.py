"""A printer whose status goes silent while a job's raster is at it: the job and printer.status tell
one story (`status-lost`: it may still be printing), not "stopped: status lost" beside "not reachable"."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from appliance.app import Appliance
from rpc.client import RpcClient
from tests.fast_fixtures import printed, wait_job


async def _status_lost_mid_job(fast: Appliance, rpc: RpcClient, text: str) -> dict[str, Any]:
    """A job being printed (slowly) when the printer's SNMP agent goes silent; its raster port stays
    open and it goes on printing, as in the trial that found it. Returns the job, stopped."""
    fast.simulator.printer.update(speed=10)  # a few seconds a label
    job = await rpc.call("print.submit", {"template": "text", "fields": {"text": text}})
    await wait_job(rpc, job["id"], ("processing",))
    fast.simulator.printer.update(snmp_silent=True)
    stopped = await wait_job(rpc, job["id"], ("stopped",), timeout=15)
    assert stopped["reasons"] == ["status-lost"], stopped
    return stopped


async def _printer_status_until(rpc: RpcClient, reasons: list[str], timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while (status := await rpc.call("printer.status"))["reasons"] != reasons:
        assert time.monotonic() < deadline, status
        await asyncio.sleep(0.02)
    return status


async def test_printer_status_says_status_lost_as_its_job_does_and_not_offline(fast: Appliance,
                                                                                rpc: RpcClient) -> None:
    stopped = await _status_lost_mid_job(fast, rpc, "still coming out")
    status = await rpc.call("printer.status")
    # before: state offline, reasons ["printer-offline"], "Printer not reachable — check power and connection"
    assert status["state"] == "offline" and status["reasons"] == ["status-lost"], status
    assert status["descriptions"] == stopped["descriptions"]
    assert "may still be printing" in status["descriptions"][0]
    behind = await rpc.call("print.submit", {"template": "text", "fields": {"text": "behind it"}})
    assert behind["waiting"]["reason"] == "status-lost", behind["waiting"]  # not "Printer not reachable"
    assert behind["waiting"]["description"] == stopped["descriptions"][0]
    readiness = await rpc.call("readiness.check")
    said = " ".join(str(e.get("output", "")) for entries in readiness["checks"].values() for e in entries)
    assert "may still be printing" in said and "is offline" not in said, readiness
    fast.simulator.printer.update(snmp_silent=False)  # it answers again: the label had come out meanwhile
    await wait_job(rpc, stopped["id"], ("completed",), timeout=20)
    await wait_job(rpc, behind["id"], ("completed",), timeout=20)
    status = await rpc.call("printer.status")
    assert status["reasons"] == [] and status["state"] == "idle", status
    await asyncio.sleep(0.3)
    assert len(printed(fast)) == 2  # each once: the first was not sent again


async def test_once_no_job_is_at_the_printer_a_silent_one_is_offline_again(fast: Appliance, rpc: RpcClient) -> None:
    stopped = await _status_lost_mid_job(fast, rpc, "given up")
    await _printer_status_until(rpc, ["status-lost"])
    await rpc.call("job.cancel", {"job_id": stopped["id"]})  # nobody follows a job at the printer any more
    status = await _printer_status_until(rpc, ["printer-offline"])
    assert status["state"] == "offline"
    assert status["descriptions"] == ["Printer not reachable — check power and connection"]
