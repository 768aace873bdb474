"""USB rows: a job written to the virtual USB printer (a pty standing in for /dev/usb/lp0).

- raw job write → first byte read at the device, p50: UsbSession.send against the simulator's USB
  device in the same process (the full submit → first byte over USB comes with the queue's use of it);
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


def run(count: int = 200) -> list[dict[str, Any]]:
    with temp_dir("bench-usb-") as tmp:
        first_bytes, confirms = asyncio.run(_measure(count, tmp))
    first_p50, confirm_p50 = median(first_bytes) * 1000, median(confirms) * 1000
    note = f"{count} one-label PT-P750W jobs, one at a time, on a pty; virtual printer in the bench process (instant)"
    return [
        row("USB raw job write → first byte at the device p50", round(first_p50, 3), "ms",
            target=f"< {FIRST_BYTE_P50_MS:g} ms", ok=first_p50 < FIRST_BYTE_P50_MS,
            note=f"{note}; p99 {percentile(first_bytes, 99) * 1000:.2f} ms"),
        row("USB label out → 'printing completed' read p50", round(confirm_p50, 3), "ms",
            target=f"< {CONFIRM_P50_MS:g} ms", ok=confirm_p50 < CONFIRM_P50_MS,
            note=f"p99 {percentile(confirms, 99) * 1000:.2f} ms"),
    ]  # fmt: skip
