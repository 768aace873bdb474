"""IPP: Print-Job of a one-page PDF → first raster byte, Get-Printer-Attributes latency, and the server's
RSS while it prints a 100-page PDF.

The server is a separate `appliance serve` process with one [[printers]] entry pointing at a virtual
printer in this process (instant, with SNMP), its raster sink timed as in bench/jobs.py. Requests go
over TCP with HTTP Basic (the bench token as the password), one at a time on an idle server.
"""

from __future__ import annotations

import asyncio
import base64
import io
import time
from pathlib import Path
from typing import Any

import aiohttp
from PIL import Image, ImageDraw

from .common import BENCH_AUTH, median, percentile, row, start_server, temp_dir, write_config
from .jobs import first_byte_sinks, printer_entry

FIRST_BYTE_P50_MS = 150.0
ATTRIBUTES_P50_MS = 5.0
RSS_GROWTH_MB = 40.0


def pdf(pages: int, size_mm: tuple[float, float] = (40.0, 12.0)) -> bytes:
    """A PDF made by Pillow: each page a bordered label with its number."""
    dpi = 300
    width, height = (round(v / 25.4 * dpi) for v in size_mm)
    images = []
    for number in range(pages):
        page = Image.new("L", (width, height), 255)
        draw = ImageDraw.Draw(page)
        draw.rectangle((4, 4, width - 5, height - 5), outline=0, width=6)
        draw.text((20, height // 3), f"Bin A-{number:04d}", fill=0)
        images.append(page)
    out = io.BytesIO()
    images[0].save(out, format="PDF", resolution=dpi, save_all=True, append_images=images[1:])
    return out.getvalue()


class Ipp:
    def __init__(self, url: str, token: str | None, session: aiohttp.ClientSession) -> None:
        from appliance.ipp import codec

        self.codec = codec
        self.url = url + "/ipp/print/bench"
        self.uri = "ipp://" + url.split("://", 1)[1] + "/ipp/print/bench"
        self.session = session
        self.headers = {"Content-Type": "application/ipp"}
        if token:
            self.headers["Authorization"] = "Basic " + base64.b64encode(f"bench:{token}".encode()).decode()
        self.ids = 0

    def body(self, op: int, *extra: tuple[str, int, Any]) -> bytes:
        codec = self.codec
        self.ids += 1
        message = codec.Message((2, 0), op, self.ids)
        group = message.new_group(codec.OPERATION_GROUP)
        group.add("attributes-charset", codec.CHARSET, "utf-8")
        group.add("attributes-natural-language", codec.LANGUAGE, "en")
        group.add("printer-uri", codec.URI, self.uri)
        for name, tag, value in extra:
            group.add(name, tag, value)
        return codec.encode_message(message)

    async def send(self, body: bytes) -> Any:
        async with self.session.post(self.url, data=body, headers=self.headers) as response:
            raw = await response.read()
        answer = self.codec.read_message(io.BytesIO(raw))
        if answer.code >= 0x0400:
            raise RuntimeError(f"IPP status 0x{answer.code:04x}")
        return answer

    async def print_pdf(self, document: bytes) -> int:
        from appliance.ipp import codes

        answer = await self.send(self.body(codes.PRINT_JOB, ("document-format", self.codec.MIME_TYPE,
                                                             "application/pdf")) + document)
        return int(answer.group(self.codec.JOB_GROUP).get("job-id").value)


async def _wait_done(session: aiohttp.ClientSession, server: Any, timeout: float = 120.0) -> None:
    """Until no job of the server is pending or printing (queue.status over JSON-RPC)."""
    deadline = time.monotonic() + timeout
    body = b'{"jsonrpc":"2.0","id":1,"method":"queue.status"}'
    while time.monotonic() < deadline:
        async with session.post(server.url + "/rpc", data=body, headers=server.headers()) as response:
            totals = (await response.json(content_type=None))["result"]["totals"]
        if not totals["pending"] and not totals["processing"]:
            return
        await asyncio.sleep(0.02)
    raise RuntimeError("the jobs did not finish")


def _vm(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {key} for {pid}")


async def _measure(count: int, pages: int, tmp: Path) -> dict[str, Any]:
    from appliance.ipp import codes
    from appliance.simulator.runner import Simulator

    arrivals: list[float] = []
    with first_byte_sinks(arrivals):
        sim = Simulator("PT-P750W", "12mm", snmp=("127.0.0.1", 0), out_dir=None, speed=None)
        await sim.start()
    found: dict[str, Any] = {"first_byte": [], "attributes": [], "problems": []}
    try:
        config = write_config(tmp / "bench.toml", {"auth": BENCH_AUTH},
                              [printer_entry(sim.tcp_address[1], sim.snmp_port or 0)])
        server = await asyncio.to_thread(start_server, tmp / "state", config=config)
        found["token_note"] = server.token_note
        try:
            async with aiohttp.ClientSession() as session:
                ipp = Ipp(server.url, server.token, session)
                one = pdf(1)
                await ipp.print_pdf(one)  # warm-up: pypdfium2 loads with the first PDF
                await _wait_done(session, server)
                for _ in range(count):
                    await asyncio.sleep(0.02)
                    arrivals.clear()
                    body = ipp.body(codes.PRINT_JOB, ("document-format", ipp.codec.MIME_TYPE, "application/pdf")) + one
                    sent = time.perf_counter()
                    await ipp.send(body)
                    deadline = time.monotonic() + 10
                    while not arrivals and time.monotonic() < deadline:
                        await asyncio.sleep(0.0005)
                    if arrivals:
                        found["first_byte"].append(arrivals[0] - sent)
                    else:
                        found["problems"].append("a job sent no byte within 10 s")
                    await _wait_done(session, server)
                attributes = ipp.body(codes.GET_PRINTER_ATTRIBUTES)
                for _ in range(max(20, count * 5)):
                    started = time.perf_counter()
                    await ipp.send(attributes)
                    found["attributes"].append(time.perf_counter() - started)
                document = pdf(pages)
                before = _vm(server.pid, "VmRSS")
                await ipp.print_pdf(document)
                await _wait_done(session, server, timeout=300)
                found["rss_before"], found["rss_peak"] = before, _vm(server.pid, "VmHWM")
                found["rss_after"] = _vm(server.pid, "VmRSS")
                found["pdf_kb"] = len(document) / 1024
        finally:
            await asyncio.to_thread(server.stop)
    finally:
        await sim.stop()
    return found


def run(count: int = 30, pages: int = 100) -> list[dict[str, Any]]:
    with temp_dir("bench-ipp-") as tmp:
        found = asyncio.run(_measure(count, pages, tmp))
    first = found["first_byte"]
    p50 = median(first) * 1000
    attr_p50 = median(found["attributes"]) * 1000
    growth = found["rss_peak"] - found["rss_before"]
    problems = "; problems: " + ", ".join(found["problems"][:3]) if found["problems"] else ""
    return [
        row("IPP Print-Job (1-page PDF) → first raster byte p50", round(p50, 2), "ms",
            target=f"< {FIRST_BYTE_P50_MS:g} ms", ok=p50 < FIRST_BYTE_P50_MS and not found["problems"],
            note=f"{len(first)} jobs one at a time over TCP with Basic auth; p99 "
                 f"{percentile(first, 99) * 1000:.1f} ms{problems}"),
        row("IPP Get-Printer-Attributes p50", round(attr_p50, 3), "ms", target=f"< {ATTRIBUTES_P50_MS:g} ms",
            ok=attr_p50 < ATTRIBUTES_P50_MS,
            note=f"{len(found['attributes'])} requests, keep-alive; p99 "
                 f"{percentile(found['attributes'], 99) * 1000:.2f} ms"),
        row(f"IPP: server RSS growth printing a {pages}-page PDF (peak)", round(growth, 1), "MB",
            target=f"< {RSS_GROWTH_MB:g} MB", ok=growth < RSS_GROWTH_MB,
            note=f"{found['pdf_kb']:.0f} KB PDF, one job per page; RSS {found['rss_before']:.0f} MB before, "
                 f"{found['rss_after']:.0f} MB after, peak {found['rss_peak']:.0f} MB"),
    ]
