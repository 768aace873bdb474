"""USB jobs confirmed label by label through the real server: the virtual USB printer on a pty.

The appliance runs in this event loop with a `usb://Brother/MODEL?serial=…` printer that the
resolver finds in the simulator's sysfs-like tree; jobs go through print.submit, and the printer
side is checked too (labels printed, jobs received): never a label twice, never resent blindly.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from appliance.simulator import Simulator
from rpc.client import RpcClient
from tests.fast_fixtures import wait_job
from tests.support import cli_env, configured, printer_table, running, start_server, stop_server


@contextlib.asynccontextmanager
async def served(sim: Simulator, state_dir: Path, tmp_path: Path, media: str = "12mm",
                 **queue: Any) -> AsyncIterator[tuple[Any, RpcClient]]:
    uri = f"usb://Brother/{sim.printer.model.name}?serial={sim.printer.serial}"
    settings = configured(state_dir, tmp_path, printer_table("desk", sim.printer.model.name, uri, media,
                                                             poll_interval_s=0.2, busy_poll_interval_s=0.05))
    settings.queue.retry_base_s = settings.queue.retry_max_s = 0.05
    for name, value in queue.items():
        setattr(settings.queue, name, value)
    async with running(settings) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        yield app, rpc


async def submit_held(rpc: RpcClient, app: Any, copies: int, **fields: Any) -> dict[str, Any]:
    """A job submitted while the printer is paused (to read its length first); resume it with `go`."""
    await rpc.call("printer.pause", {"printer_id": app.printers[0].id})
    return await rpc.call("print.submit", {"template": "text", "copies": copies,
                                           "fields": {"text": "USB", **fields}})


async def go(rpc: RpcClient, app: Any) -> None:
    await rpc.call("printer.resume", {"printer_id": app.printers[0].id})


async def until(rpc: RpcClient, job_id: int, check: Any, timeout: float = 10.0) -> dict[str, Any]:
    """The job once `check(job, timeline)` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        job = await rpc.call("job.get", {"job_id": job_id})
        timeline = await rpc.call("job.timeline", {"job_id": job_id})
        if check(job, timeline):
            return job
        assert loop.time() < deadline, f"job {job['state']} {job['reasons']}; {[s['event'] for s in timeline]}"
        await asyncio.sleep(0.02)


def labels_out(timeline: list[dict[str, Any]]) -> list[tuple[int, int]]:
    return [(s["detail"]["label"], s["detail"]["of"]) for s in timeline if s["event"] == "label-out"]


def events(timeline: list[dict[str, Any]]) -> list[str]:
    return [s["event"] for s in timeline]


async def test_tape_out_after_the_first_label_then_three_labels_three_confirmations_no_resend(
        usb_printers, state_dir: Path, tmp_path: Path) -> None:
    sim = await usb_printers()
    async with served(sim, state_dir, tmp_path) as (app, rpc):
        job = await submit_held(rpc, app, 3)
        sim.printer.update(tape_remaining_mm=job["length_mm"] * 1.5)  # one label and half of the next
        await go(rpc, app)
        stopped = await wait_job(rpc, job["id"], ("stopped",))
        assert stopped["reasons"] == ["media-empty"], stopped
        status = await rpc.call("printer.status")  # the printer tells the same story as its job
        assert status["reasons"] == ["media-empty"], status
        sim.printer.update(tape="12mm", tape_remaining_mm=None)  # a new cassette: the printer finishes the job
        done = await wait_job(rpc, job["id"], ("completed",))
        timeline = await rpc.call("job.timeline", {"job_id": job["id"]})
    assert labels_out(timeline) == [(1, 3), (2, 3), (3, 3)]
    assert events(timeline).count("sent") == 1 and "resending" not in events(timeline)
    assert done["attempts"] == 1
    assert timeline[-1]["detail"]["labels"] == 3 and timeline[-1]["detail"].get("confirmed") is not False
    assert len(sim.printer.printed) == 3 and sim.printer.jobs_received == 1


async def test_cover_opened_mid_job_stops_it_then_it_completes(usb_printers, state_dir: Path,
                                                              tmp_path: Path) -> None:
    sim = await usb_printers(speed=60.0)  # about 0.6 s a label
    async with served(sim, state_dir, tmp_path) as (_app, rpc):
        job = await rpc.call("print.submit", {"template": "text", "copies": 3, "fields": {"text": "lid"}})
        await until(rpc, job["id"], lambda j, t: len(labels_out(t)) >= 1)
        sim.printer.update(cover_open=True)
        stopped = await wait_job(rpc, job["id"], ("stopped",))
        assert stopped["reasons"] == ["cover-open"], stopped
        sim.printer.update(cover_open=False)
        await wait_job(rpc, job["id"], ("completed",))
        timeline = await rpc.call("job.timeline", {"job_id": job["id"]})
    assert labels_out(timeline) == [(1, 3), (2, 3), (3, 3)]
    assert "resumed" in events(timeline) and events(timeline).count("sent") == 1
    assert len(sim.printer.printed) == 3 and sim.printer.jobs_received == 1


async def test_unplugged_mid_job_and_back_idle_ends_send_interrupted_with_the_count(
        usb_printers, state_dir: Path, tmp_path: Path) -> None:
    sim = await usb_printers(speed=60.0)
    assert sim.usb is not None
    async with served(sim, state_dir, tmp_path) as (_app, rpc):
        job = await rpc.call("print.submit", {"template": "text", "copies": 3, "fields": {"text": "cable"}})
        await until(rpc, job["id"], lambda j, t: len(labels_out(t)) >= 1)
        sim.usb.apply({"unplugged": True})
        stopped = await wait_job(rpc, job["id"], ("stopped",))
        assert stopped["reasons"] == ["printer-offline"], stopped
        await sim.wait_idle(timeout=10)  # the printer goes on with what it got; what it says is lost
        confirmed = len(labels_out(await rpc.call("job.timeline", {"job_id": job["id"]})))
        sim.usb.apply({"unplugged": False})
        ended = await wait_job(rpc, job["id"], ("aborted", "completed"))
        timeline = await rpc.call("job.timeline", {"job_id": job["id"]})
    assert (ended["state"], ended["reasons"]) == ("aborted", ["send-interrupted"]), ended
    last = timeline[-1]["detail"]
    assert 1 <= confirmed < 3 and (last["labels"], last["rest"]) == (confirmed, 3 - confirmed)
    assert f"{confirmed} of 3 labels confirmed" in last["why"] and f"copies={3 - confirmed}" in last["why"]
    assert events(timeline).count("sent") == 1 and sim.printer.jobs_received == 1  # never sent again
    assert len(sim.printer.printed) == 3


async def test_unplugged_while_stopped_and_back_still_stopped_then_completes(
        usb_printers, state_dir: Path, tmp_path: Path) -> None:
    sim = await usb_printers()
    assert sim.usb is not None
    async with served(sim, state_dir, tmp_path) as (app, rpc):
        job = await submit_held(rpc, app, 3)
        sim.printer.update(tape_remaining_mm=job["length_mm"] * 1.5)
        await go(rpc, app)
        await wait_job(rpc, job["id"], ("stopped",))
        sim.usb.apply({"unplugged": True})
        await until(rpc, job["id"], lambda j, t: j["reasons"] == ["printer-offline"])
        sim.usb.apply({"unplugged": False})  # it still keeps the job, out of tape: followed in the new session
        back = await until(rpc, job["id"], lambda j, t: j["reasons"] == ["media-empty"])
        assert back["state"] == "stopped"
        sim.printer.update(tape="12mm", tape_remaining_mm=None)
        await wait_job(rpc, job["id"], ("completed",))
        timeline = await rpc.call("job.timeline", {"job_id": job["id"]})
    assert labels_out(timeline) == [(1, 3), (2, 3), (3, 3)]
    assert len(sim.printer.printed) == 3 and sim.printer.jobs_received == 1


async def test_a_ql_with_die_cut_labels_running_out_gets_three_labels_three_confirmations(
        usb_printers, state_dir: Path, tmp_path: Path) -> None:
    sim = await usb_printers("QL-820NWB", "29x90", serial="Q8Z000001", tape_remaining_mm=150)  # one 90 mm label
    async with served(sim, state_dir, tmp_path, media="29x90") as (_app, rpc):
        job = await rpc.call("print.submit", {"template": "text", "copies": 3, "fields": {"text": "DK"}})
        stopped = await wait_job(rpc, job["id"], ("stopped",))
        assert stopped["reasons"] == ["media-empty"], stopped
        sim.printer.update(tape="29x90", tape_remaining_mm=None)  # a new DK roll
        await wait_job(rpc, job["id"], ("completed",))
        timeline = await rpc.call("job.timeline", {"job_id": job["id"]})
    assert labels_out(timeline) == [(1, 3), (2, 3), (3, 3)]
    assert events(timeline).count("sent") == 1
    assert len(sim.printer.printed) == 3 and sim.printer.jobs_received == 1


# --- SIGKILL of the appliance mid-job: the next start judges the job from what the printer reports ---

def usb_config(path: Path, sim: Simulator) -> Path:
    path.write_text(f"""
[queue]
retry_base_s = 0.05
retry_max_s = 0.2
[[printers]]
name = "desk"
model = "{sim.printer.model.name}"
uri = "usb://Brother/{sim.printer.model.name}?serial={sim.printer.serial}"
media = "12mm"
poll_interval_s = 0.2
busy_poll_interval_s = 0.05
""")
    return path


async def serve_process(state_dir: Path, cfg: Path, usb_roots: tuple[Path, Path]) -> Any:
    dev, sysfs = usb_roots
    env = cli_env(APPLIANCE_USB_DEV=str(dev), APPLIANCE_USB_SYSFS=str(sysfs), APPLIANCE_LOG_FORMAT="json")
    server, _ = await asyncio.to_thread(start_server, state_dir, "--config", str(cfg), env=env)
    return server


async def test_sigkill_while_stopped_then_the_restart_follows_the_kept_job_to_the_end(
        usb_printers, usb_roots, state_dir: Path, tmp_path: Path) -> None:
    sim = await usb_printers()
    cfg = usb_config(tmp_path / "appliance.toml", sim)
    socket = str(state_dir / "rpc.sock")
    server = await serve_process(state_dir, cfg, usb_roots)
    try:
        async with RpcClient(socket_path=socket) as rpc:
            printer_id = (await rpc.call("printer.list"))[0]["id"]
            await rpc.call("printer.pause", {"printer_id": printer_id})
            job = await rpc.call("print.submit", {"template": "text", "copies": 3, "fields": {"text": "kill"}})
            sim.printer.update(tape_remaining_mm=job["length_mm"] * 1.5)
            await rpc.call("printer.resume", {"printer_id": printer_id})
            await wait_job(rpc, job["id"], ("stopped",))
        code, _ = await asyncio.to_thread(stop_server, server, signal.SIGKILL)
        assert code == -signal.SIGKILL
        server = await serve_process(state_dir, cfg, usb_roots)
        async with RpcClient(socket_path=socket) as rpc:
            again = await until(rpc, job["id"], lambda j, t: "following" in events(t))
            assert again["state"] == "stopped" and again["reasons"] == ["media-empty"], again
            sim.printer.update(tape="12mm", tape_remaining_mm=None)  # the kept job finishes; its blocks confirm it
            await wait_job(rpc, job["id"], ("completed",))
            timeline = await rpc.call("job.timeline", {"job_id": job["id"]})
    finally:
        await asyncio.to_thread(stop_server, server)
    assert labels_out(timeline) == [(1, 3), (2, 3), (3, 3)]
    assert events(timeline).count("sent") == 1 and sim.printer.jobs_received == 1
    assert len(sim.printer.printed) == 3


async def test_sigkill_mid_job_then_the_restart_never_sends_it_blindly(
        usb_printers, usb_roots, state_dir: Path, tmp_path: Path) -> None:
    sim = await usb_printers(speed=40.0)  # about 0.9 s a label: the kill lands mid-job
    cfg = usb_config(tmp_path / "appliance.toml", sim)
    socket = str(state_dir / "rpc.sock")
    server = await serve_process(state_dir, cfg, usb_roots)
    try:
        async with RpcClient(socket_path=socket) as rpc:
            job = await rpc.call("print.submit", {"template": "text", "copies": 3, "fields": {"text": "kill"}})
            await until(rpc, job["id"], lambda j, t: len(labels_out(t)) >= 1)
        await asyncio.to_thread(stop_server, server, signal.SIGKILL)
        await sim.wait_idle(timeout=10)  # the printer finishes what it got; nobody reads what it says
        server = await serve_process(state_dir, cfg, usb_roots)
        async with RpcClient(socket_path=socket) as rpc:
            ended = await wait_job(rpc, job["id"], ("completed", "aborted"))
            timeline = await rpc.call("job.timeline", {"job_id": job["id"]})
    finally:
        await asyncio.to_thread(stop_server, server)
    out = labels_out(timeline)
    # what the printer said while nobody had its device open is gone (as the pty drops it): it is idle now,
    # the rest unconfirmed, so a person checks and reprints what the job names; nothing is sent by itself
    assert (ended["state"], ended["reasons"]) == ("aborted", ["send-interrupted"]), ended
    assert 1 <= len(out) < 3 and timeline[-1]["detail"]["rest"] == 3 - len(out)
    assert "following" in events(timeline)
    assert events(timeline).count("sent") == 1 and sim.printer.jobs_received == 1  # never resent
    assert len(sim.printer.printed) == 3


async def test_a_job_canceled_while_the_printer_keeps_it_does_not_lend_its_labels_to_the_next(
        usb_printers, state_dir: Path, tmp_path: Path) -> None:
    sim = await usb_printers()
    sim.printer.update(resume_after_s=0.4)  # after the new cassette it stands idle a moment, then goes on
    async with served(sim, state_dir, tmp_path, lost_after_idle_s=1.0) as (app, rpc):
        first = await submit_held(rpc, app, 3)
        sim.printer.update(tape_remaining_mm=first["length_mm"] * 1.5)
        await go(rpc, app)
        await wait_job(rpc, first["id"], ("stopped",))
        canceled = await rpc.call("job.cancel", {"job_id": first["id"]})
        assert "printer-may-still-print" in canceled["reasons"]
        second = await rpc.call("print.submit", {"template": "text", "copies": 1, "fields": {"text": "next"}})
        await asyncio.sleep(0.3)
        waiting = await rpc.call("job.get", {"job_id": second["id"]})
        assert waiting["state"] in ("pending", "stopped") and sim.printer.jobs_received == 1  # nothing sent
        sim.printer.update(tape="12mm", tape_remaining_mm=None)  # the printer goes on with the canceled job
        await wait_job(rpc, second["id"], ("completed",))
        printed_then = len(sim.printer.printed)
        timeline = await rpc.call("job.timeline", {"job_id": second["id"]})
    assert printed_then == 4  # before: completed by the canceled job's label, its own still to come
    assert labels_out(timeline) == [(1, 1)]
    assert sim.printer.jobs_received == 2 and len(sim.printer.printed) == 3 + 1


async def test_a_usb_printer_that_answers_no_status_is_printed_to_as_before(
        usb_printers, state_dir: Path, tmp_path: Path) -> None:
    sim = await usb_printers(speed=None)
    assert sim.usb is not None
    sim.usb.apply({"answers_status": False})
    async with served(sim, state_dir, tmp_path) as (_app, rpc):
        job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "quiet"}})
        await wait_job(rpc, job["id"], ("completed",), timeout=20)
        timeline = await rpc.call("job.timeline", {"job_id": job["id"]})
    assert timeline[-1]["detail"]["confirmed"] is False and not labels_out(timeline)  # by time, said so
    assert events(timeline).count("sent") == 1 and len(sim.printer.printed) == 1


async def test_two_alike_without_a_serial_keep_the_job_pending_printer_ambiguous(
        usb_printers, state_dir: Path, tmp_path: Path) -> None:
    a = await usb_printers(node="lp0", serial="E7Z0000AA", speed=None)
    b = await usb_printers(node="lp1", serial="E7Z0000BB", speed=None)
    settings = configured(state_dir, tmp_path, printer_table("desk", "PT-P750W", "usb://Brother/PT-P750W", "12mm",
                                                             poll_interval_s=0.2, busy_poll_interval_s=0.05))
    async with running(settings) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "which?"}})
        waiting = await until(rpc, job["id"], lambda j, t: j["reasons"] == ["printer-ambiguous"])
        timeline = await rpc.call("job.timeline", {"job_id": job["id"]})
    assert waiting["state"] == "pending"  # not "offline": a person adds ?serial=
    assert "add ?serial=" in timeline[-1]["detail"]["error"]
    assert a.printer.jobs_received == b.printer.jobs_received == 0
