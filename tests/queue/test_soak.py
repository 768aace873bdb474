"""A soak through random faults, on the real server and the virtual printer, with a fixed seed.

30 jobs (1-3 copies of an asset tag whose QR code names the job) go out while the faults the queue
must live through come one after another: the cover opened, the tape running out and a new cassette,
a connection dropped mid-send, SNMP silence, offline spells, the head cooling, SIGKILL of the
appliance (started again on the same state) and a power cut of the printer (its process stopped and
started again on the same ports: the page counter survives, the job it kept does not). Then the
faults stop. Every job ends; every label on paper is read back by its QR code: labels out == copies
for every completed job, and never more than its copies for any job.

APPLIANCE_SOAK_JOBS scales it (30 by default, about a minute here); APPLIANCE_SOAK_SEED picks another
fault sequence (it is printed when the test fails).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image, ImageOps

from rpc.client import RpcClient
from tests.support import PYTHON, cli_env, start_server, stop_server

JOBS = int(os.environ.get("APPLIANCE_SOAK_JOBS", "30"))
SEED = int(os.environ.get("APPLIANCE_SOAK_SEED", "3401"))
FAULTS = ("cover", "tape-out", "drop", "snmp-silent", "offline", "cooling", "sigkill", "power-cut")
ENDED = ("completed", "aborted", "canceled")

pytestmark = pytest.mark.timeout(240 + 6 * JOBS)


def free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Printer:
    """A standalone virtual PT-P750W on fixed loopback ports, so a power cut can bring it back there."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.raster, self.control = free_port(socket.SOCK_STREAM), free_port(socket.SOCK_STREAM)
        self.snmp = free_port(socket.SOCK_DGRAM)
        self.process: subprocess.Popen[str] | None = None

    def power_on(self) -> None:
        self.process = subprocess.Popen(
            [PYTHON, "-m", "appliance.cli", "simulate", "--listen", f"127.0.0.1:{self.raster}",
             "--snmp", f"127.0.0.1:{self.snmp}", "--control", f"127.0.0.1:{self.control}", "--out", str(self.out),
             "--speed", "80"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=cli_env())
        deadline = time.monotonic() + 20
        while True:
            try:
                self.call("sim.state")
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"simulator did not start: {self.process.communicate()[1][-2000:]}") from None
                time.sleep(0.05)

    def power_off(self) -> None:
        """A power cut: what it kept is lost, its page counter stays in --out (its NVRAM)."""
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            self.process.communicate(timeout=20)
            self.process = None

    def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{self.control}/", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as response:
            reply = json.loads(response.read())
        assert "error" not in reply, reply
        return reply["result"]

    def set(self, **knobs: Any) -> None:
        self.call("sim.set", knobs)


def config(path: Path, printer: Printer) -> Path:
    path.write_text(f"""
[queue]
lost_after_idle_s = 3.0
retry_base_s = 0.1
retry_max_s = 1.0
print_timeout_s = 60.0
[[printers]]
name = "shelf"
model = "PT-P750W"
uri = "tcp://127.0.0.1:{printer.raster}"
media = "12mm"
poll_interval_s = 0.5
busy_poll_interval_s = 0.05
[printers.snmp]
port = {printer.snmp}
timeout = 0.5
""")
    return path


async def _call(socket_path: Path, method: str, params: dict[str, Any]) -> Any:
    async with RpcClient(socket_path=str(socket_path)) as rpc:
        return await rpc.call(method, params)


async def _jobs(socket_path: Path) -> list[dict[str, Any]]:
    async with RpcClient(socket_path=str(socket_path)) as rpc:
        found, cursor = [], None
        while True:
            page = await rpc.call("job.list", {"limit": 500, **({"cursor": cursor} if cursor else {})})
            found += page["jobs"]
            cursor = page["next_cursor"]
            if cursor is None:
                return found


def label_of(png: Path) -> str | None:
    """The job a printed label belongs to, by its QR code."""
    with Image.open(png) as img:
        grey = ImageOps.expand(img.convert("L"), border=40, fill=255)
    grey = grey.resize((grey.width * 3, grey.height * 3), Image.Resampling.NEAREST)
    codes = [r.text for r in zxingcpp.read_barcodes(grey)]
    return codes[0] if codes else None


def fault(kind: str, printer: Printer, rng: random.Random, restart_server: Any) -> None:
    """One fault, held for a moment, then cleared (a new cassette, the cover closed, power back, …)."""
    spell = rng.uniform(0.3, 1.5)
    if kind == "cover":
        printer.set(cover_open=True)
        time.sleep(spell)
        printer.set(cover_open=False)
    elif kind == "tape-out":
        printer.set(tape_remaining_mm=rng.uniform(5, 40))  # runs out part way through a label
        time.sleep(spell + 1.0)
        printer.set(tape_remaining_mm=None)  # a new cassette
    elif kind == "drop":
        printer.set(drop_after_bytes=rng.randint(100, 3000))  # the next connection is cut mid-send
        time.sleep(spell)
        printer.set(drop_after_bytes=None)
    elif kind == "snmp-silent":
        printer.set(snmp_silent=True)
        time.sleep(spell + 1.0)
        printer.set(snmp_silent=False)
    elif kind == "offline":
        printer.set(offline=True, snmp_silent=True)
        time.sleep(spell + 1.0)
        printer.set(offline=False, snmp_silent=False)
    elif kind == "cooling":
        printer.set(cooling=True)
        time.sleep(spell)
        printer.set(cooling=False)
    elif kind == "sigkill":
        restart_server()
    elif kind == "power-cut":
        printer.power_off()
        time.sleep(spell)
        printer.power_on()


def test_a_soak_through_random_faults_prints_every_completed_job_exactly_once(state_dir: Path,
                                                                               tmp_path: Path) -> None:
    rng = random.Random(SEED)
    out = tmp_path / "labels"
    printer = Printer(out)
    printer.power_on()
    cfg = config(tmp_path / "appliance.toml", printer)
    socket_path = state_dir / "rpc.sock"
    server, _ = start_server(state_dir, "--config", str(cfg))
    done: list[str] = []

    def restart_server() -> None:
        nonlocal server
        stop_server(server, signal.SIGKILL)
        server, _ = start_server(state_dir, "--config", str(cfg))

    copies: dict[str, int] = {}
    plan = rng.sample(FAULTS, len(FAULTS))  # every kind once, in a seeded order, then at random

    def next_fault() -> str:
        return plan.pop(0) if plan else rng.choice(FAULTS)

    try:
        for n in range(JOBS):
            asset = f"SOAK-{n:03d}"
            copies[asset] = rng.randint(1, 3)
            asyncio.run(_call(socket_path, "print.submit", {
                "template": "asset-tag", "fields": {"name": f"soak {n}", "asset_id": asset},
                "copies": copies[asset]}))
            if n % 3 == 2:  # the faults come while the queue drains
                kind = next_fault()
                fault(kind, printer, rng, restart_server)
                done.append(kind)
        while (plan or len(done) < JOBS // 2) and any(j["state"] not in ENDED for j in asyncio.run(_jobs(socket_path))):
            kind = next_fault()
            fault(kind, printer, rng, restart_server)
            done.append(kind)
            time.sleep(rng.uniform(0.2, 1.0))
        deadline = time.monotonic() + 60 + 3 * JOBS  # the faults stopped: every job ends
        while True:
            jobs = asyncio.run(_jobs(socket_path))
            if all(j["state"] in ENDED for j in jobs) or time.monotonic() > deadline:
                break
            time.sleep(0.3)
    finally:
        stop_server(server)
        printer.power_off()
    story = f"seed {SEED}, faults {done}"
    ends = Counter(j["state"] + "/" + ",".join(j["reasons"]) for j in jobs)
    assert all(j["state"] in ENDED for j in jobs), (story, ends)
    out_per_job = Counter(label_of(png) for png in sorted(out.glob("*.png")))
    assert None not in out_per_job, (story, "a label without a readable code", out_per_job)
    assert len(jobs) == JOBS
    for job in jobs:
        asset = job["fields"]["asset_id"]
        assert asset in copies, job
        assert out_per_job[asset] <= copies[asset], (story, asset, out_per_job[asset], copies[asset], ends)
        if job["state"] == "completed":
            assert out_per_job[asset] == copies[asset], (story, asset, out_per_job[asset], copies[asset], ends)
    assert ends["completed/"] >= JOBS // 2, (story, ends)  # the faults were survivable, most jobs got through
    print(f"soak: {story}; ends {dict(ends)}; labels {sum(out_per_job.values())}")
