"""USB and file printers end to end: the real server, its USB transport and status probes, on a pty.

The pty in raw mode stands in for the kernel's /dev/usb/lp0; its other end is the virtual printer
(the simulator's printer and print engine), which answers status requests and prints each job it
receives. What cannot exist here is the kernel driver's exclusive open: while another program
(a CUPS queue) holds the device, usblp refuses every other open with EBUSY. Only that is faked.
"""

from __future__ import annotations

import asyncio
import errno
import os
import tty
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from appliance.config import Settings
from appliance.printer.decode import RasterDecodeError, decode_job
from appliance.printer.transport import STATUS_REQUEST
from appliance.simulator.engine import PrintEngine
from appliance.simulator.state import VirtualPrinter
from rpc.client import RpcClient
from tests.fast_fixtures import wait_job
from tests.support import configured, printer_table, running

RESET = b"\x1b@"


class PtyPrinter:
    """The printer's end of the pty: status requests are answered, whole jobs go to the engine."""

    def __init__(self, out_dir: Path) -> None:
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        self.printer = VirtualPrinter("PT-P750W", "12mm", speed_mm_s=None)
        self.engine = PrintEngine(self.printer, out_dir)
        self.status_requests = 0
        self._buffer = b""

    def start(self) -> None:
        os.set_blocking(self.master, False)
        self.engine.start()
        asyncio.get_running_loop().add_reader(self.master, self._readable)

    async def stop(self) -> None:
        asyncio.get_running_loop().remove_reader(self.master)
        await self.engine.stop()
        os.close(self.master)
        os.close(self._slave)

    def _readable(self) -> None:
        try:
            self._buffer += os.read(self.master, 65536)
        except BlockingIOError:
            return
        while self._take():
            pass

    def _take(self) -> bool:
        """Handle one status request or one whole job at the front of the buffer; False if none is there yet."""
        start = self._buffer.find(RESET)
        if start < 0:
            return False
        if self._buffer[start:].startswith(STATUS_REQUEST[-5:]) and len(self._buffer) >= start + 5:
            self._buffer = self._buffer[start + 5:]
            self.status_requests += 1
            os.write(self.master, self.printer.status_block())
            return True
        try:
            job = decode_job(self._buffer)
        except RasterDecodeError:
            return False  # not all of it yet
        self._buffer = b""
        self.engine.submit(job)
        return True


@pytest.fixture
async def usb(tmp_path: Path) -> AsyncIterator[PtyPrinter]:
    printer = PtyPrinter(tmp_path / "usb-printed")
    printer.start()
    try:
        yield printer
    finally:
        await printer.stop()


def hold_device(monkeypatch: pytest.MonkeyPatch, path: str) -> Callable[[bool], None]:
    """Another program holding `path` open: every open of it fails with EBUSY while held."""
    real_open = os.open
    held = {"on": False}

    def open_(name: str | bytes | os.PathLike[str], flags: int, *args: int, **kwargs: int) -> int:
        if held["on"] and os.fspath(name) == path:
            raise OSError(errno.EBUSY, os.strerror(errno.EBUSY), path)
        return real_open(name, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_)
    return lambda on: held.update(on=on)


async def test_a_usb_printer_held_by_another_program_keeps_its_jobs_pending_busy_until_it_is_free(
    usb: PtyPrinter, state_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = hold_device(monkeypatch, usb.path)
    settings = configured(state_dir, tmp_path, printer_table("desk", "PT-P750W", f"usb://{usb.path}", "12mm",
                                                             poll_interval_s=0.2, busy_poll_interval_s=0.05))
    async with running(settings) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        monitor = app.printers[0].monitor
        await monitor.probe_now()
        assert monitor.snapshot.failures == 0 and usb.status_requests >= 1  # it answers over USB
        held(True)  # a CUPS queue grabs the device
        for _ in range(monitor.offline_after):
            await monitor.probe_now()
        status = await rpc.call("printer.status")
        assert status["reasons"] == ["printer-busy"], status  # not "check power and connection"
        job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "held"}})
        waiting = await wait_job(rpc, job["id"], ("pending",))
        for _ in range(100):
            if waiting["reasons"]:
                break
            await asyncio.sleep(0.02)
            waiting = await rpc.call("job.get", {"job_id": job["id"]})
        assert waiting["state"] == "pending" and waiting["reasons"] == ["printer-busy"], waiting
        assert usb.printer.jobs_received == 0
        held(False)  # it lets go: the job prints by itself, once
        done = await wait_job(rpc, job["id"], ("completed",), timeout=15)
    assert done["attempts"] == 1
    await usb.engine.wait_idle(5)
    assert usb.printer.jobs_received == 1 and len(usb.printer.printed) == 1


async def test_a_file_printer_gets_the_whole_job_and_completes_it(state_dir: Path, tmp_path: Path) -> None:
    # file:// is for trying templates without a printer, and for decoding what would have been printed
    out = tmp_path / "out.prn"
    settings = configured(state_dir, tmp_path, printer_table("file", "QL-820NWB", f"file://{out}", "62mm"))
    async with running(settings) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "to a file"}, "copies": 2})
        done = await wait_job(rpc, job["id"], ("completed",), timeout=15)
        last = (await rpc.call("job.timeline", {"job_id": job["id"]}))[-1]
    assert done["attempts"] == 1
    assert last["detail"]["written_to"] == f"file://{out}"  # done when written, not after a printer's time
    decoded = decode_job(out.read_bytes())
    assert len(decoded.pages) == 2


class SlowPtyPrinter(PtyPrinter):
    """A USB printer that takes a job at its printing pace: `rate` bytes a second, not all at once.
    `stall_after`: it stops taking bytes after that many (a printer that stopped mid-job)."""

    def __init__(self, out_dir: Path, rate: float, stall_after: int | None = None) -> None:
        super().__init__(out_dir)
        self.rate, self.stall_after, self.received, self.unplugged = rate, stall_after, 0, False

    def _readable(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            chunk = os.read(self.master, 4096)
        except BlockingIOError:
            return
        self.received += len(chunk)
        self._buffer += chunk
        while self._take():
            pass
        loop.remove_reader(self.master)
        if self.stall_after is None or self.received < self.stall_after:
            loop.call_later(len(chunk) / self.rate, self._resume)

    def _resume(self) -> None:
        if not self.unplugged:
            asyncio.get_running_loop().add_reader(self.master, self._readable)

    def unplug(self) -> None:
        """The cable is pulled: a write to the device fails (EIO), as usblp's does."""
        self.unplugged = True
        asyncio.get_running_loop().remove_reader(self.master)
        os.close(self.master)

    async def stop(self) -> None:
        if self.unplugged:
            await self.engine.stop()
            os.close(self._slave)
        else:
            await super().stop()


def slow_usb_settings(state_dir: Path, tmp_path: Path, path: str) -> Settings:
    settings = configured(state_dir, tmp_path, printer_table("desk", "PT-P750W", f"usb://{path}", "12mm",
                                                             poll_interval_s=0.2, busy_poll_interval_s=0.05))
    settings.queue.write_timeout_s = 0.3
    settings.queue.retry_base_s = settings.queue.retry_max_s = 0.05
    return settings


async def test_a_usb_printer_that_takes_a_long_job_at_its_pace_gets_it_once(state_dir: Path, tmp_path: Path) -> None:
    usb = SlowPtyPrinter(tmp_path / "usb-printed", rate=80_000)  # 12 labels: 0.6 s to take in, twice the timeout
    usb.start()
    settings = slow_usb_settings(state_dir, tmp_path, usb.path)
    settings.server.shutdown_timeout_s = 0.2  # without a page counter it is done by time, after a minute
    try:
        async with running(settings) as app, \
                RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
            job = await rpc.call("print.submit", {"template": "asset-tag", "copies": 12,
                                                  "fields": {"name": "Dell Latitude 7440", "asset_id": "IT-004211"}})
            await wait_job(rpc, job["id"], ("processing",))
            await usb.printer.wait_for(lambda p: len(p.printed) >= 12, timeout=10)
            await asyncio.sleep(0.3)  # a resend, if one were coming, would be on its way by now
            current = await rpc.call("job.get", {"job_id": job["id"]})
            events = [s["event"] for s in await rpc.call("job.timeline", {"job_id": job["id"]})]
        # before: the write was given up after write_timeout_s (0.3 s) and the whole job went again (and again)
        assert "send-failed" not in events, events
        assert current["state"] == "processing" and current["attempts"] == 1, current
        assert len(usb.printer.printed) == 12 and usb.printer.jobs_received == 1
    finally:
        await usb.stop()


async def test_a_usb_printer_unplugged_mid_job_is_not_sent_it_again(state_dir: Path, tmp_path: Path) -> None:
    usb = SlowPtyPrinter(tmp_path / "usb-printed", rate=1_000_000, stall_after=16_000)
    usb.start()
    try:
        async with running(slow_usb_settings(state_dir, tmp_path, usb.path)) as app, \
                RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
            job = await rpc.call("print.submit", {"template": "asset-tag", "copies": 40,
                                                  "fields": {"name": "Dell Latitude 7440", "asset_id": "IT-004211"}})
            await wait_job(rpc, job["id"], ("processing",))
            while usb.received < 16_000:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.1)  # the writer is blocked on a full device
            usb.unplug()
            # before: sent again in full once the device came back (it may have printed some of it already)
            ended = await wait_job(rpc, job["id"], ("aborted", "completed"), timeout=5)
            timeline = await rpc.call("job.timeline", {"job_id": job["id"]})
        assert (ended["state"], ended["reasons"]) == ("aborted", ["send-interrupted"]), ended
        assert ended["attempts"] == 1 and "check the printer" in ended["descriptions"][0]
        failed = [s for s in timeline if s["event"] == "send-failed"]
        assert len(failed) == 1 and failed[0]["detail"]["reason"] == "printer-offline"
    finally:
        await usb.stop()
