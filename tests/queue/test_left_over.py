"""Jobs the last run left at the printer: followed even while the printer is paused, shown and
cancelable in safe mode, never called resumed before the printer answers, and a database that
fails meanwhile does not stop the worker."""

from __future__ import annotations

import asyncio
import io
import json
import socket
from pathlib import Path

import pytest

from appliance.queue.worker import UNSTORED_WHY
from appliance.simulator.runner import Simulator
from appliance.store import jobs
from appliance.store import printers as printer_store
from appliance.store.db import Database
from rpc.client import RpcClient
from rpc.errors import RpcError
from tests.fast_fixtures import wait_job
from tests.support import configured, make_settings, printer_table, running


async def _leave_at_printer(state_dir: Path, state: str = "processing", reason: str | None = None,
                            page_count: int = 0, serial: str | None = None) -> int:
    """A job as a killed server leaves it: sent (`processing`, or `stopped` for `reason`), with the page
    counter read before sending. With the default 0 the counter now (1, after one real label) says it came out."""
    db = Database(state_dir / "appliance.db")
    await db.open()
    try:
        printer_id = (await db.fetchone("SELECT id FROM printers"))["id"]
        row = await jobs.insert(db, jobs.NewJob(printer_id, "pending", "text", 1, {"text": "left over"}, 1, "12mm",
                                                20.0, b"\x1b@", b""), [])
        steps = [jobs.step("processing", "processing", attempt=1, page_count=page_count,
                           **({"serial": serial} if serial else {}))]
        await jobs.transition(db, row["id"], allowed_from=("pending",), to="processing", started=True, attempts=1,
                              steps=steps)
        if state == "stopped":
            await jobs.transition(db, row["id"], allowed_from=("processing",), to="stopped", reasons=[reason],
                                  steps=[jobs.step("printer-error", "stopped", reason=reason, sent=True)])
        return int(row["id"])
    finally:
        await db.close()


async def _one_label(state_dir: Path) -> None:
    """A first run that prints one label: the virtual printer's page counter is 1 afterwards."""
    async with running(make_settings(state_dir)) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "first"}})
        await wait_job(rpc, job["id"], ("completed",))


async def _set_paused(state_dir: Path) -> None:
    db = Database(state_dir / "appliance.db")
    await db.open()
    try:
        printer_id = (await db.fetchone("SELECT id FROM printers"))["id"]
        await printer_store.set_paused(db, printer_id, True)
    finally:
        await db.close()


async def _events(rpc: RpcClient, job_id: int) -> list[str]:
    return [step["event"] for step in await rpc.call("job.timeline", {"job_id": job_id})]


async def test_a_paused_printer_still_follows_the_job_left_at_it(state_dir: Path) -> None:
    await _one_label(state_dir)
    left = await _leave_at_printer(state_dir)
    await _set_paused(state_dir)
    async with running(make_settings(state_dir)) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        waiting = await rpc.call("print.submit", {"template": "text", "fields": {"text": "waits for resume"}})
        done = await wait_job(rpc, left, ("completed",))  # paused holds new jobs, not the one already sent
        assert done["attempts"] == 1 and "following" in await _events(rpc, left)
        await asyncio.sleep(0.3)
        assert (await rpc.call("job.get", {"job_id": waiting["id"]}))["state"] == "pending"
        await rpc.call("printer.resume")
        await wait_job(rpc, waiting["id"], ("completed",))
    assert len(list((state_dir / "printed").glob("*.png"))) == 2  # the first run's and the waiting job's


async def test_safe_mode_shows_the_job_left_at_the_printer_and_lets_a_person_cancel_it(state_dir: Path) -> None:
    await _one_label(state_dir)
    kept = await _leave_at_printer(state_dir)
    dropped = await _leave_at_printer(state_dir)
    (state_dir / "starting.marker").write_text("2026-12-04T08:00:00Z 2")  # the last two starts died before ready
    async with running(make_settings(state_dir)) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        assert app.safe_mode
        held = await wait_job(rpc, kept, ("stopped",))
        assert held["reasons"] == ["safe-mode"]
        await wait_job(rpc, dropped, ("stopped",))
        canceled = await rpc.call("job.cancel", {"job_id": dropped})
        assert canceled["state"] == "canceled" and "printer-may-still-print" in canceled["reasons"]
        assert app.printers[0].monitor.probes == 0  # nobody looked at the printer

        await rpc.call("printer.resume")  # out of safe mode: the page counter decides
        done = await wait_job(rpc, kept, ("completed",))
        assert done["attempts"] == 1 and (await rpc.call("job.get", {"job_id": dropped}))["state"] == "canceled"
    assert len(list((state_dir / "printed").glob("*.png"))) == 1  # nothing sent again


@pytest.mark.parametrize("sent_to", ["E7Z000001", "E7Z999999"])
async def test_a_job_left_at_a_printer_that_was_replaced_is_not_judged_by_the_new_ones_counter(
    state_dir: Path, sent_to: str, captured_logs: io.StringIO
) -> None:
    await _one_label(state_dir)  # the embedded virtual printer's serial is E7Z000001; its counter is 1 now
    async with running(make_settings(state_dir)) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        first = (await rpc.call("job.list", {}))["jobs"][0]
        processing = next(s for s in await rpc.call("job.timeline", {"job_id": first["id"]})
                          if s["event"] == "processing")
        assert processing["detail"]["serial"] == "E7Z000001"  # each send records whose counter it read
    left = await _leave_at_printer(state_dir, serial=sent_to)
    async with running(make_settings(state_dir)) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        job = await wait_job(rpc, left, ("completed", "aborted"))
        if sent_to == "E7Z000001":  # the same printer: its counter moved past the one read before, so it came out
            assert job["state"] == "completed", job
        else:  # another printer's counter says nothing of this label: a person checks, nothing is sent again
            assert job["state"] == "aborted" and job["reasons"] == ["printer-replaced"], job
            said = [json.loads(line) for line in captured_logs.getvalue().splitlines() if "printer_replaced" in line]
            assert [(e["job_id"], e["sent_to"], e["now"]) for e in said] == [(left, sent_to, "E7Z000001")]
    assert len(list((state_dir / "printed").glob("*.png"))) == 1


async def test_a_cancel_judges_the_job_in_the_state_it_changes_it_from(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker can move a job between job.cancel's look and its change. The answer must fit the state
    the look saw: `processing` cannot be canceled, and a cancel from `stopped` at the printer says the
    printer may still print it (it used to succeed without that reason)."""
    await _one_label(state_dir)
    job_id = await _leave_at_printer(state_dir)
    (state_dir / "starting.marker").write_text("2026-12-04T08:00:00Z 2")  # safe mode: the worker holds it
    from appliance.queue import worker as worker_module

    looked = asyncio.Event()
    real_started_on = worker_module.jobs.started_on

    async def started_on_after_the_look(*args):  # type: ignore[no-untyped-def]
        await looked.wait()  # the worker's hold comes after job.cancel's look, every time
        return await real_started_on(*args)

    monkeypatch.setattr(worker_module.jobs, "started_on", started_on_after_the_look)
    async with running(make_settings(state_dir)) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        queue = app.queue
        real_job_row = queue.job_row
        stale: list[str] = []

        async def job_row_then_the_worker_moves_it(wanted: int):  # type: ignore[no-untyped-def]
            row = await real_job_row(wanted)
            if not stale:
                stale.append(row["state"])
                looked.set()
                await wait_job(rpc, job_id, ("stopped",))  # the worker's hold lands after the look
            return row

        queue.job_row = job_row_then_the_worker_moves_it
        with pytest.raises(RpcError) as refused:
            await rpc.call("job.cancel", {"job_id": job_id})
        assert stale == ["processing"]  # the look did see the job before the worker moved it
        assert refused.value.code == -32003 and refused.value.data["state"] == "processing"
        assert (await rpc.call("job.get", {"job_id": job_id}))["state"] == "stopped"  # untouched
        canceled = await rpc.call("job.cancel", {"job_id": job_id})  # asked again: judged on what it is now
    assert canceled["state"] == "canceled"
    assert canceled["reasons"] == ["canceled-by-user", "printer-may-still-print"], canceled


def _free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_job_stopped_for_an_offline_printer_stays_stopped_while_it_is_still_off(
    state_dir: Path, tmp_path: Path
) -> None:
    settings = configured(state_dir, tmp_path, printer_table(
        "off", "PT-P750W", f"tcp://127.0.0.1:{_free_port(socket.SOCK_STREAM)}", "12mm", poll_interval_s=0.2,
        busy_poll_interval_s=0.05, snmp={"port": _free_port(socket.SOCK_DGRAM), "timeout": 0.2}))
    async with running(settings):
        pass  # registers the printer
    job_id = await _leave_at_printer(state_dir, "stopped", "printer-offline", page_count=5)
    async with running(settings) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        monitor = app.printers[0].monitor
        deadline = asyncio.get_running_loop().time() + 15
        while monitor.snapshot.state != "offline":  # several failed probes, the worker's among them
            assert asyncio.get_running_loop().time() < deadline, monitor.snapshot
            await monitor.wait_change(1.0)
        await asyncio.sleep(0.3)
        job = await rpc.call("job.get", {"job_id": job_id})
        # stopped as a version before status-lost stored it; reworded as its printer's status says it now
        assert job["state"] == "stopped" and job["reasons"] == ["status-lost"], job
        assert (await rpc.call("printer.status"))["reasons"] == ["status-lost"]
        assert "resumed" not in await _events(rpc, job_id)  # not "cleared" by a printer that never answered


async def test_a_database_failure_between_jobs_does_not_stop_the_worker(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from appliance.queue import worker as worker_module

    await _one_label(state_dir)
    left = await _leave_at_printer(state_dir)
    real_started_on, real_next_pending = worker_module.jobs.started_on, worker_module.jobs.next_pending
    failures = {"started_on": 1, "next_pending": 1}

    async def locked(name: str, real, *args):  # type: ignore[no-untyped-def]
        if failures[name]:
            failures[name] -= 1
            raise sqlite3.OperationalError("database is locked")
        return await real(*args)

    monkeypatch.setattr(worker_module.jobs, "started_on", lambda *a: locked("started_on", real_started_on, *a))
    monkeypatch.setattr(worker_module.jobs, "next_pending", lambda *a: locked("next_pending", real_next_pending, *a))
    async with running(make_settings(state_dir)) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        await wait_job(rpc, left, ("completed",), timeout=15)  # looked for again after the failure
        job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "after the failures"}})
        await wait_job(rpc, job["id"], ("completed",), timeout=15)
        assert failures == {"started_on": 0, "next_pending": 0} and app.printers[0].worker.alive



async def test_the_timeline_of_a_job_left_stopped_keeps_its_steps_in_the_order_they_happened(tmp_path: Path) -> None:
    """The appliance stops while its job waits, stopped, for a new cassette (the printer keeps the job).
    The next run follows it again: `following` comes before the `resumed` of the new cassette. It used
    to wait in memory for the job's end and was stored after `resumed`, out of order."""
    async with Simulator("PT-P750W", "12mm", out_dir=tmp_path / "lab", speed=None) as lab:
        _, port = lab.tcp_address
        settings = configured(tmp_path / "state", tmp_path, printer_table(
            "lab", "PT-P750W", f"tcp://127.0.0.1:{port}", "12mm", poll_interval_s=0.2, busy_poll_interval_s=0.05,
            snmp={"host": "127.0.0.1", "port": lab.snmp_port, "timeout": 0.5}), "[server]\nshutdown_timeout_s = 0.1\n")
        async with running(settings) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
            job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "two"}, "copies": 2})
            lab.printer.update(tape_remaining_mm=job["length_mm"] * 1.5)  # out in the middle of the second
            await wait_job(rpc, job["id"], ("stopped",))
        async with running(settings) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
            await app.printers[0].monitor.probe_now()
            lab.printer.update(tape="12mm", tape_remaining_mm=None)  # a new cassette: the printer finishes it
            await wait_job(rpc, job["id"], ("completed",))
            timeline = await rpc.call("job.timeline", {"job_id": job["id"]})
    events = [step["event"] for step in timeline]
    assert events[events.index("printer-error"):] in (  # "printing" when a probe caught it, after "resumed"
        ["printer-error", "following", "resumed", "completed"],
        ["printer-error", "following", "resumed", "printing", "completed"]), events
    assert [step["at"] for step in timeline] == sorted(step["at"] for step in timeline), timeline
    assert lab.printer.jobs_received == 1  # followed, not sent again


async def test_the_full_disk_words_stay_with_the_job_whose_end_could_not_be_stored(state_dir: Path) -> None:
    """Two jobs left at the printer; the first one's end cannot be stored (a full disk, made by a trigger
    on its row). Its `following` says so when it is followed again; the second job's says a restart, as
    it was: the full-disk words once stuck to the worker and went to every job followed after."""
    await _one_label(state_dir)
    unstored = await _leave_at_printer(state_dir)
    other = await _leave_at_printer(state_dir)
    db = Database(state_dir / "appliance.db")
    await db.open()
    try:
        async with db.transaction() as conn:
            await conn.execute(f"CREATE TRIGGER disk_full BEFORE UPDATE OF state ON jobs WHEN NEW.id = {unstored} "
                               "AND NEW.state IN ('completed', 'aborted') "
                               "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END")
    finally:
        await db.close()
    async with running(make_settings(state_dir)) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        await wait_job(rpc, other, ("completed",))
        async with app.db.transaction() as conn:  # space freed
            await conn.execute("DROP TRIGGER disk_full")
        await wait_job(rpc, unstored, ("completed",))
        whys = {job_id: [s["detail"]["why"] for s in await rpc.call("job.timeline", {"job_id": job_id})
                         if s["event"] == "following"] for job_id in (unstored, other)}
    assert len(whys[other]) == 1 and whys[other][0].startswith("the appliance restarted"), whys
    assert whys[unstored] and whys[unstored][-1].startswith("its last step could not be stored"), whys


async def test_a_label_out_whose_end_cannot_be_stored_is_never_written_off_as_aborted(state_dir: Path) -> None:
    """The label comes out, but `completed` cannot be written (the disk is full); space is freed a moment
    later. The job used to be aborted ("internal-error") by the very next write, a printed label a person
    would then print again; it is followed again instead, and completed when its end can be stored."""
    async with running(make_settings(state_dir)) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        async with app.db.transaction() as conn:  # every job's end fails; anything else is written
            await conn.execute("CREATE TRIGGER disk_full BEFORE UPDATE OF state ON jobs WHEN NEW.state = 'completed' "
                               "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END")
        job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "once"}})
        worker = app.printers[0].worker
        for _ in range(500):  # until the worker has met the full disk (or, as it did, aborted the job)
            now = await rpc.call("job.get", {"job_id": job["id"]})
            if job["id"] in worker._unstored or now["state"] not in ("pending", "processing"):
                break
            await asyncio.sleep(0.02)
        assert now["state"] in ("pending", "processing"), now
        async with app.db.transaction() as conn:  # space freed
            await conn.execute("DROP TRIGGER disk_full")
        done = await wait_job(rpc, job["id"], ("completed", "aborted"))
        timeline = await rpc.call("job.timeline", {"job_id": job["id"]})
    assert done["state"] == "completed", done
    whys = [s["detail"]["why"] for s in timeline if s["event"] == "following"]
    assert whys and all(why == UNSTORED_WHY for why in whys), timeline
    assert len(list((state_dir / "printed").glob("*.png"))) == 1  # followed by the page counter, not sent again
