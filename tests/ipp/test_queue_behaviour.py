"""IPP jobs in the one queue: submission order with print.submit jobs, and a tape-out mid-job."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from appliance.ipp import codec, codes
from rpc.client import RpcClient
from tests.fast_fixtures import printed, wait_job
from tests.support import make_settings, running

from .client import IppClient, attrs, label_png, qr_pdf


async def test_ipp_and_print_submit_jobs_print_in_submission_order(ipp, fast, rpc) -> None:
    await rpc.call("printer.pause", {})
    ids = [(await rpc.call("print.submit", {"template": "text", "fields": {"text": "first"}}))["id"]]
    answer = await ipp.op(codes.PRINT_JOB, label_png())
    ids.append(attrs(answer, codec.JOB_GROUP)["job-id"][0])
    ids.append((await rpc.call("print.submit", {"template": "text", "fields": {"text": "third"}}))["id"])
    answer = await ipp.op(codes.PRINT_JOB, qr_pdf("fourth"), operation=[
        ("document-format", codec.MIME_TYPE, "application/pdf")])
    ids.append(attrs(answer, codec.JOB_GROUP)["job-id"][0])
    await rpc.call("printer.resume", {})
    done = [await wait_job(rpc, job_id, ("completed",)) for job_id in ids]
    assert [j["source"] for j in done] == ["rpc", "ipp", "rpc", "ipp"]
    started = [j["started_at"] for j in done]
    assert started == sorted(started) and len(set(started)) == 4
    assert len(printed(fast)) == 4


async def job_state(ipp: IppClient, job_id: int) -> tuple[int, list[str]]:
    found = attrs(await ipp.op(codes.GET_JOB_ATTRIBUTES, operation=[("job-id", codec.INTEGER, job_id)]),
                  codec.JOB_GROUP)
    return found["job-state"][0], found["job-state-reasons"]


async def test_tape_out_during_an_ipp_job_of_three_copies_gives_exactly_three(state_dir: Path) -> None:
    settings = make_settings(state_dir, simulator={"speed": "60", "poll_interval_s": 0.2,
                                                   "busy_poll_interval_s": 0.05},
                             queue={"retry_base_s": 0.05, "retry_max_s": 0.2})
    async with running(settings) as app, RpcClient(socket_path=str(settings.socket_path)) as rpc:
        ipp = IppClient(socket=str(settings.socket_path))
        await rpc.call("printer.pause", {})
        answer = await ipp.op(codes.PRINT_JOB, label_png(), job=[("copies", codec.INTEGER, 3)])
        job_id = attrs(answer, codec.JOB_GROUP)["job-id"][0]
        length = (await rpc.call("job.get", {"job_id": job_id}))["length_mm"]
        app.simulator.printer.update(tape_remaining_mm=length * 1.5)  # runs out in the second label
        await rpc.call("printer.resume", {})
        seen: list[tuple[int, list[str]]] = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            state = await job_state(ipp, job_id)
            if not seen or seen[-1] != state:
                seen.append(state)
            if state[0] == codes.JOB_STOPPED:
                break
            await asyncio.sleep(0.01)
        assert seen[-1][0] == codes.JOB_STOPPED, seen
        assert "media-empty-error" in seen[-1][1]
        assert codes.JOB_PROCESSING in [s for s, _ in seen]
        app.simulator.printer.update(tape="12mm", tape_remaining_mm=None)  # a new cassette
        await wait_job(rpc, job_id, ("completed",), timeout=20)
        assert await job_state(ipp, job_id) == (codes.JOB_COMPLETED, ["job-completed-successfully"])
        await asyncio.sleep(0.3)
        assert len(printed(app)) == 3
        states = [s for s, _ in seen]
        assert states.index(codes.JOB_PROCESSING) < states.index(codes.JOB_STOPPED)
