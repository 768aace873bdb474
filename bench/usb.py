"""USB rows: a job written to the virtual USB printer (a pty standing in for /dev/usb/lp0).

- raw job write → first byte read at the device, p50: UsbSession.send against the simulator's USB
  device in the same process;
- print.submit → first raster byte at the device, p50: the whole way through the appliance (RPC over
  its unix socket, drawing, the queue's worker, its USB session asking the printer's status first) to
  the virtual USB printer found by its 1284 id (`usb://Brother/PT-P750W?serial=…`), one job at a time;
- "printing completed" pushed by the printer → read by the transport as an event, p50: how soon a
  label is confirmed once it is out.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from bench.common import median, percentile, row, temp_dir

FIRST_BYTE_P50_MS = 5.0
SUBMIT_FIRST_BYTE_P50_MS = 15.0  # the same goal as the networked submit → first byte row (bench/jobs.py)
CONFIRM_P50_MS = 5.0
ST_COMPLETED = 0x01


async def _measure(count: int, tmp: Path) -> tuple[list[float], list[float]]:
    from appliance.printer.media import media_for
    from appliance.printer.models import get_model
    from appliance.printer.raster import encode_job
    from appliance.printer.transport import UsbTransport
    from appliance.simulator.engine import PrintEngine
    from appliance.simulator.state import VirtualPrinter
    from appliance.simulator.usb import UsbDevice
    from bench.raster import text_label

    arrived: list[float] = []
    pushed: list[float] = []

    class TimedDevice(UsbDevice):
        def _readable(self) -> None:
            if len(arrived) < started_jobs:
                arrived.append(time.perf_counter())
            super()._readable()

    model = get_model("PT-P750W")
    media = media_for(model, "12mm")
    data = encode_job(model, media, [text_label(model, media, 30)])
    printer = VirtualPrinter(model, media, speed_mm_s=None)
    printer.add_block_listener(lambda block: block[18] == ST_COMPLETED and pushed.append(time.monotonic()))
    engine = PrintEngine(printer)
    device = TimedDevice(printer, engine, tmp / "lp0")
    engine.start()
    await device.start()
    transport = UsbTransport(str(device.path))
    first_bytes: list[float] = []
    confirms: list[float] = []
    started_jobs = 0
    try:
        session = await transport.session()
        await session.request_status()
        for _ in range(count):
            started_jobs += 1
            begun = time.perf_counter()
            await session.send(data, timeout=10)
            while True:
                event = await session.next_event(10)
                if event is None:
                    raise RuntimeError("the virtual USB printer confirmed nothing within 10 s")
                if event.kind == "printed":
                    break
            first_bytes.append(arrived[-1] - begun)
            confirms.append(event.at - pushed[-1])
            await asyncio.sleep(0)
    finally:
        await transport.close()
        await device.stop()
        await engine.stop()
    return first_bytes, confirms


async def _measure_queue(count: int, tmp: Path) -> list[float]:
    """print.submit → the first byte of the job's raster read at the virtual USB device, per job."""
    import os

    from appliance import logs
    from appliance.app import Appliance
    from appliance.config import load
    from appliance.printer.usb_devices import DEV_ENV, SYSFS_ENV
    from appliance.simulator import Simulator
    from appliance.simulator.usb import UsbDevice
    from bench.common import write_config
    from rpc.client import RpcClient

    dev, sysfs = tmp / "dev", tmp / "sys"
    (dev / "usb").mkdir(parents=True)
    sysfs.mkdir()
    saved = {name: os.environ.get(name) for name in (DEV_ENV, SYSFS_ENV)}
    os.environ[DEV_ENV], os.environ[SYSFS_ENV] = str(dev), str(sysfs)
    raster_at: list[float] = []
    original = UsbDevice._readable

    def timed(device: Any) -> None:  # the first chunk of a job holds its raster-mode command (ESC i a)
        seen = len(device._buffer)
        original(device)
        if b"\x1bia" in device._buffer[seen:]:
            raster_at.append(time.perf_counter())

    UsbDevice._readable = timed  # type: ignore[method-assign]
    sim = Simulator("PT-P750W", "12mm", listen=None, snmp=None, usb=dev / "usb" / "lp0", sysfs=sysfs, speed=None,
                    serial="E7ZBENCH1")
    latencies: list[float] = []
    try:
        await sim.start()
        config = write_config(tmp / "appliance.toml", {}, [{
            "name": "desk", "model": "PT-P750W", "uri": "usb://Brother/PT-P750W?serial=E7ZBENCH1", "media": "12mm"}])
        settings = load(config, env={}, overrides={"server": {"state_dir": str(tmp / "state"),
                                                              "listen": "127.0.0.1:0"}})
        log_file = (tmp / "appliance.log").open("w")  # the appliance runs in this process: its log stays out
        logs.configure("json", "warning", stream=log_file)  # of the table on stdout
        app = Appliance(settings)
        await app.start()
        try:
            async with RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
                for n in range(count):
                    begun = time.perf_counter()
                    job = await rpc.call("print.submit", {"template": "text", "fields": {"text": f"bin {n}"}})
                    while True:  # one at a time: the next is submitted once this one is confirmed
                        state = (await rpc.call("job.get", {"job_id": job["id"]}))["state"]
                        if state in ("completed", "aborted", "canceled"):
                            break
                        await asyncio.sleep(0.002)
                    if state != "completed" or not raster_at or raster_at[-1] < begun:
                        raise RuntimeError(f"bench job {job['id']} ended {state} without its raster at the device")
                    latencies.append(raster_at[-1] - begun)
        finally:
            await app.stop()
    finally:
        UsbDevice._readable = original  # type: ignore[method-assign]
        await sim.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return latencies


def run(count: int = 200) -> list[dict[str, Any]]:
    with temp_dir("bench-usb-") as tmp:
        first_bytes, confirms = asyncio.run(_measure(count, tmp))
    queued = min(count, 50)
    with temp_dir("bench-usb-queue-") as tmp:
        submitted = asyncio.run(_measure_queue(queued, tmp))
    submit_p50 = median(submitted) * 1000
    first_p50, confirm_p50 = median(first_bytes) * 1000, median(confirms) * 1000
    note = f"{count} one-label PT-P750W jobs, one at a time, on a pty; virtual printer in the bench process (instant)"
    return [
        row("USB raw job write → first byte at the device p50", round(first_p50, 3), "ms",
            target=f"< {FIRST_BYTE_P50_MS:g} ms", ok=first_p50 < FIRST_BYTE_P50_MS,
            note=f"{note}; p99 {percentile(first_bytes, 99) * 1000:.2f} ms"),
        row("USB print.submit → first raster byte at the device p50", round(submit_p50, 3), "ms",
            target=f"< {SUBMIT_FIRST_BYTE_P50_MS:g} ms", ok=submit_p50 < SUBMIT_FIRST_BYTE_P50_MS,
            note=f"{queued} one-label jobs through the appliance in the bench process, one at a time, confirmed "
                 f"label by label; p99 {percentile(submitted, 99) * 1000:.2f} ms"),
        row("USB label out → 'printing completed' read p50", round(confirm_p50, 3), "ms",
            target=f"< {CONFIRM_P50_MS:g} ms", ok=confirm_p50 < CONFIRM_P50_MS,
            note=f"p99 {percentile(confirms, 99) * 1000:.2f} ms"),
    ]  # fmt: skip
