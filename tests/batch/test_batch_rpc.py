"""print.batch, batch.get, batch.cancel and job.list {batch_id} against a real appliance and its virtual printer."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from typing import Any

import pytest

from appliance.app import Appliance
from rpc.client import RpcClient
from rpc.errors import RpcError
from tests.fast_fixtures import printed


async def wait_done(rpc: RpcClient, batch_id: int, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        batch = await rpc.call("batch.get", {"batch_id": batch_id})
        if batch["done"]:
            return batch
        assert time.monotonic() < deadline, batch
        await asyncio.sleep(0.05)


def stored_jobs(app: Appliance) -> int:
    with sqlite3.connect(app.settings.db_path) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0])


async def test_a_batch_prints_every_row_once_in_row_order(fast: Appliance, rpc: RpcClient) -> None:
    rows = [{"text": f"Fach {n} – Schrauben Ø{n}", "code": f"BIN-{n:04d}"} for n in range(1, 31)]
    answer = await rpc.call("print.batch", {"template": "bin-label", "rows": rows})
    assert answer["rows"] == 30 and [j["row"] for j in answer["jobs"]] == list(range(1, 31))
    ids = [j["id"] for j in answer["jobs"]]
    assert ids == sorted(ids)  # the worker takes jobs by id: row order
    batch = await wait_done(rpc, answer["batch_id"])
    assert batch["counts"]["completed"] == 30 and batch["labels_printed"] == 30 and batch["first_problem"] is None
    listed = await rpc.call("job.list", {"batch_id": answer["batch_id"], "limit": 100})
    jobs = sorted(listed["jobs"], key=lambda j: j["row"])
    assert [j["fields"]["text"] for j in jobs] == [r["text"] for r in rows]
    assert all(j["batch_id"] == answer["batch_id"] for j in jobs)
    started = [j["started_at"] for j in jobs]
    assert started == sorted(started)  # printed in row order
    assert len(printed(fast)) == 30
    summary = await rpc.call("stats.summary", {})
    assert sum(day["labels"] for day in summary["per_day"]) == 30


async def test_every_bad_row_is_named_and_nothing_is_queued(fast: Appliance, rpc: RpcClient) -> None:
    rows = [{"text": f"bin {n}"} for n in range(1, 11)]
    rows[2] = {"code": "X"}  # row 3: the required text is missing
    rows[6] = {"text": "x" * 41}  # row 7: over the template's max_length of 40
    for dry_run in (False, True):
        with pytest.raises(RpcError) as caught:
            await rpc.call("print.batch", {"template": "bin-label", "rows": rows, "dry_run": dry_run})
        assert caught.value.code == -32602
        bad = caught.value.data["rows"]
        assert [(b["row"], b["field"]) for b in bad] == [(3, "fields.text"), (7, "fields.text")], bad
        assert "required" in bad[0]["reason"] and "40" in bad[1]["reason"]
    assert stored_jobs(fast) == 0


async def test_a_dry_run_stores_nothing(fast: Appliance, rpc: RpcClient) -> None:
    answer = await rpc.call("print.batch", {"template": "text", "rows": [{"text": "a"}, {"text": "b"}],
                                            "dry_run": True})
    assert answer["dry_run"] is True and answer["batch_id"] is None and answer["rows"] == 2
    assert stored_jobs(fast) == 0


async def test_the_same_key_gives_the_same_batch(fast: Appliance, rpc: RpcClient) -> None:
    params = {"template": "text", "rows": [{"text": f"t{n}"} for n in range(5)], "idempotency_key": "shelf-7",
              "hold": True}
    first, again = await asyncio.gather(rpc.call("print.batch", params), rpc.call("print.batch", params))
    third = await rpc.call("print.batch", params)
    assert first["batch_id"] == again["batch_id"] == third["batch_id"]
    assert third["duplicate"] is True and [j["id"] for j in third["jobs"]] == [j["id"] for j in first["jobs"]]
    assert stored_jobs(fast) == 5
    with pytest.raises(RpcError) as caught:
        await rpc.call("print.batch", {**params, "rows": [{"text": "other"}]})
    assert caught.value.code == -32003 and caught.value.data["batch_id"] == first["batch_id"]
    with pytest.raises(RpcError) as caught:  # the same rows for another template are another request
        await rpc.call("print.batch", {**params, "template": "cable-flag"})
    assert caught.value.code == -32003 and caught.value.data["batch_id"] == first["batch_id"]
    assert stored_jobs(fast) == 5


async def test_cancel_a_held_batch_and_see_its_problem(fast: Appliance, rpc: RpcClient) -> None:
    answer = await rpc.call("print.batch", {"template": "text", "rows": [{"text": "a"}, {"text": "b"}],
                                            "hold": True})
    status = await rpc.call("queue.status", {})
    assert [b["batch_id"] for b in status["batches"]] == [answer["batch_id"]]
    canceled = await rpc.call("batch.cancel", {"batch_id": answer["batch_id"]})
    assert canceled["canceled"] == 2 and canceled["done"] and canceled["counts"]["canceled"] == 2
    assert canceled["first_problem"]["row"] == 1 and canceled["first_problem"]["reasons"] == ["canceled-by-user"]
    assert (await rpc.call("queue.status", {}))["batches"] == []
    with pytest.raises(RpcError) as caught:
        await rpc.call("batch.get", {"batch_id": 999})
    assert caught.value.code == -32002


async def test_too_many_rows_and_a_missing_template_are_refused_whole(fast: Appliance, rpc: RpcClient) -> None:
    fast.settings.queue.batch_max_rows = 3
    with pytest.raises(RpcError) as caught:
        await rpc.call("print.batch", {"template": "text", "rows": [{"text": "a"}] * 4})
    assert caught.value.code == -32602 and caught.value.data["field"] == "rows" and "at most 3" in \
        caught.value.data["reason"]
    with pytest.raises(RpcError) as caught:
        await rpc.call("print.batch", {"template": "no-such", "rows": [{"text": "a"}]})
    assert caught.value.code == -32002 and caught.value.data["field"] == "template"
    with pytest.raises(RpcError) as caught:  # print options are the call's, not a row's
        await rpc.call("print.batch", {"template": "text", "rows": [{"text": "a"}] * 2, "cut": "none",
                                       "cut_every": 2})
    assert caught.value.code == -32602 and caught.value.data["field"] == "cut_every" and "rows" not in \
        caught.value.data
    assert stored_jobs(fast) == 0


async def test_values_of_the_wrong_kind_are_named_by_their_row(fast: Appliance, rpc: RpcClient) -> None:
    rows = [{"text": "fine"}, {"text": {"nested": 1}}, {"text": "fine"}, {"text": "x" * 5000}]
    with pytest.raises(RpcError) as caught:
        await rpc.call("print.batch", {"template": "text", "rows": rows})
    bad = caught.value.data["rows"]
    assert [(b["row"], b["field"]) for b in bad] == [(2, "fields.text"), (4, "fields.text")], bad
    assert "not an object" in bad[0]["reason"] and "4096" in bad[1]["reason"]
    assert stored_jobs(fast) == 0


async def test_a_batch_row_is_an_ordinary_job_for_reprint_and_cancel(fast: Appliance, rpc: RpcClient) -> None:
    answer = await rpc.call("print.batch", {"template": "text", "rows": [{"text": "a"}, {"text": "b"}],
                                            "hold": True})
    first, second = (j["id"] for j in answer["jobs"])
    again = await rpc.call("job.reprint", {"job_id": second, "copies": 2})  # the stored page, encoded again
    canceled = await rpc.call("job.cancel", {"job_id": first})
    assert canceled["state"] == "canceled" and canceled["batch_id"] == answer["batch_id"] and canceled["row"] == 1
    reprinted = await rpc.call("job.get", {"job_id": again["id"]})
    deadline = time.monotonic() + 10
    while reprinted["state"] != "completed":
        assert time.monotonic() < deadline, reprinted
        await asyncio.sleep(0.05)
        reprinted = await rpc.call("job.get", {"job_id": again["id"]})
    assert "batch_id" not in reprinted and reprinted["copies"] == 2 and len(printed(fast)) == 2
    batch = await rpc.call("batch.get", {"batch_id": answer["batch_id"]})
    assert batch["counts"]["held"] == 1 and batch["counts"]["canceled"] == 1 and not batch["done"]
