"""A label's warnings through the real server: in print.submit's answer, label.preview and the job's timeline."""

from __future__ import annotations

import json
from pathlib import Path

from appliance.app import Appliance
from rpc.client import RpcClient
from tests.fast_fixtures import wait_job
from tests.support import make_settings, running


async def test_text_too_small_to_read_is_a_warning_in_the_answer_preview_and_timeline(state_dir: Path) -> None:
    # 70 × W in the text template on 29x90 labels came out about 0.7 mm high and was accepted without a word
    settings = make_settings(state_dir, simulator={"model": "QL-820NWB", "tape": "29x90"})
    ask = {"template": "text", "fields": {"text": "W" * 70}}
    async with running(settings) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        preview = await rpc.call("label.preview", ask)
        job = await rpc.call("print.submit", ask)
        assert [w["code"] for w in job["warnings"]] == ["text-small"] == [w["code"] for w in preview["warnings"]]
        message = job["warnings"][0]["message"]
        assert "mm high capitals" in message and "pt" in message and "dots" not in message, message
        queued = (await rpc.call("job.timeline", {"job_id": job["id"]}))[0]
        assert queued["event"] == "queued" and queued["detail"]["warnings"] == job["warnings"]


async def test_the_queued_step_lists_no_warnings_as_an_empty_list_and_old_null_rows_still_read(
    fast: Appliance, rpc: RpcClient
) -> None:
    job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "fine"}, "idempotency_key": "k1"})
    assert job["warnings"] == []
    queued = (await rpc.call("job.timeline", {"job_id": job["id"]}))[0]
    assert queued["detail"]["warnings"] == []  # as print.submit answers it (it was null)
    await wait_job(rpc, job["id"], ("completed",))
    copy = await rpc.call("job.reprint", {"job_id": job["id"]})
    assert copy["warnings"] == []
    assert (await rpc.call("job.timeline", {"job_id": copy["id"]}))[0]["detail"]["warnings"] == []
    # a step stored by an older version: warnings null; a retried submit and a reprint read it as none
    detail = json.dumps({"copies": 1, "media": job["media"], "warnings": None})
    async with fast.db.transaction() as conn:
        await conn.execute("UPDATE job_events SET detail = ? WHERE job_id = ? AND event = 'queued'",
                           (detail, job["id"]))
    again = await rpc.call("print.submit", {"template": "text", "fields": {"text": "fine"}, "idempotency_key": "k1"})
    assert again["duplicate"] and again["warnings"] == []
    old_copy = await rpc.call("job.reprint", {"job_id": job["id"]})
    assert old_copy["warnings"] == []
    assert (await rpc.call("job.timeline", {"job_id": old_copy["id"]}))[0]["detail"]["warnings"] == []
    await wait_job(rpc, old_copy["id"], ("completed",))


async def test_queued_steps_stored_by_older_versions_read_as_a_list_through_job_timeline(state_dir: Path) -> None:
    # Older versions stored the queued step of print.submit with warnings null when there were none, and
    # before that a reprint's queued step had no warnings at all; job.timeline gave them as they were
    # stored (null, or nothing), so a script reading detail.warnings as a list broke on old jobs.
    import contextlib
    import sqlite3

    ask = {"template": "text", "fields": {"text": "old"}, "idempotency_key": "old-1"}
    settings = make_settings(state_dir)
    async with running(settings) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        job = await rpc.call("print.submit", ask)
        await wait_job(rpc, job["id"], ("completed",))
        copy = await rpc.call("job.reprint", {"job_id": job["id"]})
        await wait_job(rpc, copy["id"], ("completed",))
    with contextlib.closing(sqlite3.connect(state_dir / "appliance.db")) as conn, conn:  # as they left them
        for job_id, detail in ((job["id"], {"copies": 1, "media": job["media"], "warnings": None}),
                               (copy["id"], {"origin_job_id": job["id"], "rerender": False})):
            assert conn.execute("UPDATE job_events SET detail = ? WHERE job_id = ? AND event = 'queued'",
                                (json.dumps(detail), job_id)).rowcount == 1
    async with running(settings) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        for job_id in (job["id"], copy["id"]):
            steps = await rpc.call("job.timeline", {"job_id": job_id})
            assert steps[0]["event"] == "queued" and steps[0]["detail"]["warnings"] == [], steps[0]
            assert all("warnings" not in step["detail"] for step in steps[1:])  # only the queued step has them
        # the paths that read the stored step answer as before: an idempotent retry, byte-for-byte reprints
        again = await rpc.call("print.submit", ask)
        assert again["duplicate"] and again["id"] == job["id"] and again["warnings"] == []
        for origin in (job["id"], copy["id"]):
            reprinted = await rpc.call("job.reprint", {"job_id": origin})
            assert reprinted["warnings"] == []
            queued = (await rpc.call("job.timeline", {"job_id": reprinted["id"]}))[0]
            assert queued["detail"] == {"origin_job_id": origin, "rerender": False, "warnings": []}
            await wait_job(rpc, reprinted["id"], ("completed",))
