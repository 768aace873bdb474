"""printer.discover of 127.0.0.0/24 with two virtual printers in it: wall time and the server's CPU.

Two `appliance simulate` processes answer SNMP on 127.0.0.2 and 127.0.0.3 (the same port, so one
sweep finds both); the other 252 addresses of the /24 say nothing, so the sweep lasts until its
budget is spent (0.8 × timeout_s) whatever is found. The server is a real `appliance serve`
(the default install: the embedded virtual printer). Loopback only: nothing is broadcast.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from contextlib import ExitStack
from typing import Any

from .common import PYTHON, clean_env, cpu_seconds, median, row, start_server, temp_dir

TIMEOUT_S = 3.0
CPU_TARGET_S = 0.5


def _simulator(out: Any, host: str, snmp_port: int, model: str, tape: str, serial: str) -> tuple[Any, int]:
    from appliance.simulator.cli import announced_ports

    process = subprocess.Popen(
        [PYTHON, "-m", "appliance.cli", "simulate", "--model", model, "--tape", tape, "--serial", serial,
         "--listen", f"{host}:0", "--snmp", f"{host}:{snmp_port}", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=clean_env())
    assert process.stdout is not None
    _, snmp = announced_ports(process.stdout.readline, timeout=20)
    if snmp is None:
        process.kill()
        raise RuntimeError(f"the virtual printer on {host} did not start")
    return process, snmp


async def _discover(socket_path: str, snmp_port: int) -> dict[str, Any]:
    from rpc.client import RpcClient

    async with RpcClient(socket_path=socket_path, timeout=30) as client:
        answer: dict[str, Any] = await client.call("printer.discover", {
            "network": "127.0.0.0/24", "snmp_port": snmp_port, "timeout_s": TIMEOUT_S})
        return answer


def run(repeat: int = 3) -> list[dict[str, Any]]:
    walls: list[float] = []
    cpus: list[float] = []
    found = 0
    with temp_dir("bench-discover-") as tmp, ExitStack() as stack:
        first, port = _simulator(tmp / "pt", "127.0.0.2", 0, "PT-P750W", "12mm", "E7Z100001")
        stack.callback(_stop, first)
        second, _ = _simulator(tmp / "ql", "127.0.0.3", port, "QL-820NWB", "62mm", "K8Q200002")
        stack.callback(_stop, second)
        server = start_server(tmp / "state", env={"APPLIANCE_SIMULATOR_SPEED": "instant"}, token=False)
        stack.callback(server.stop)
        for _ in range(max(1, repeat)):
            cpu_before = cpu_seconds(server.pid)
            started = time.perf_counter()
            answer = asyncio.run(_discover(str(server.socket_path), port))
            walls.append(time.perf_counter() - started)
            cpus.append(cpu_seconds(server.pid) - cpu_before)
            found = len(answer["printers"])
    wall, cpu = median(walls), median(cpus)
    note = (f"median of {len(walls)}; 254 addresses, {found} of 2 printers found; timeout_s {TIMEOUT_S:g} "
            f"(the sweep waits {0.8 * TIMEOUT_S:g} s for the silent ones)")
    return [
        row("printer.discover of 127.0.0.0/24, 2 printers: wall time", round(wall, 3), "s",
            target=f"< {TIMEOUT_S:g} s", ok=wall < TIMEOUT_S and found == 2, note=note),
        row("printer.discover of 127.0.0.0/24: server CPU", round(cpu * 1000, 1), "ms",
            target=f"< {CPU_TARGET_S * 1000:g} ms", ok=cpu < CPU_TARGET_S,
            note="user+system CPU of the server process during the call (/proc/PID/stat, 10 ms ticks)"),
    ]


def _stop(process: subprocess.Popen[Any]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


if __name__ == "__main__":
    for r in run():
        print(r)
