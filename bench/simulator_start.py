"""The virtual printer's start time and its SNMP agent's cost per request.

Start: `appliance simulate` spawned on loopback (raster port and SNMP agent on free ports),
timed from spawn to its banner and to the first answer to an SNMP GET of the status block —
the second includes the agent's first use of pyasn1's BER codec, which it imports then.
Per request: the agent's `answer()` (decode, read the MIB of a virtual printer, encode) in
this process, for the two OIDs the worker asks per job and for all eleven the probe asks.
"""

from __future__ import annotations

import socket
import statistics
import subprocess
import time
from typing import Any

from .common import PYTHON, REPO, clean_env, median, row

START_TARGET_S = 0.5
STATUS_OIDS = ("1.3.6.1.4.1.2435.3.3.9.1.6.1.0", "1.3.6.1.2.1.43.10.2.1.4.1.1")


def _get(oids: tuple[str, ...]) -> bytes:
    """An SNMP v2c GET, built with the library a client would use."""
    from pyasn1.codec.ber import encoder
    from pysnmp.proto.api import v2c

    pdu = v2c.GetRequestPDU()
    v2c.apiPDU.set_defaults(pdu)
    v2c.apiPDU.set_varbinds(pdu, [(v2c.ObjectIdentifier(oid), v2c.null) for oid in oids])
    message = v2c.Message()
    v2c.apiMessage.set_defaults(message)
    v2c.apiMessage.set_community(message, "public")
    v2c.apiMessage.set_pdu(message, pdu)
    return bytes(encoder.encode(message))


def _start_once(request: bytes) -> tuple[float, float]:
    """(spawn → banner, spawn → first SNMP answer) in seconds, one simulator process."""
    from appliance.simulator.cli import announced_ports

    args = [PYTHON, "-m", "appliance.cli", "simulate", "--listen", "127.0.0.1:0", "--snmp", "127.0.0.1:0",
            "--speed", "instant"]
    started = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=clean_env(),
                               cwd=REPO)
    try:
        assert process.stdout is not None
        _, snmp_port = announced_ports(process.stdout.readline, timeout=30)
        banner = time.perf_counter() - started
        if snmp_port is None:
            raise RuntimeError("appliance simulate announced no SNMP port")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(0.05)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                sock.sendto(request, ("127.0.0.1", snmp_port))
                try:
                    sock.recv(65536)
                    break
                except TimeoutError:
                    continue
            else:
                raise RuntimeError("the virtual printer's SNMP agent did not answer in 10 s")
        return banner, time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(10)


def _per_request_ms(request: bytes, repeat: int) -> float:
    from appliance.simulator.snmp_agent import answer
    from appliance.simulator.snmp_mib import printer_mib
    from appliance.simulator.state import VirtualPrinter

    printer = VirtualPrinter("PT-P750W", "12mm")
    assert answer(request, printer_mib(printer), b"public") is not None
    rounds = []
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(20):
            answer(request, printer_mib(printer), b"public")
        rounds.append((time.perf_counter() - started) / 20 * 1000)
    return statistics.median(rounds)


def run(runs: int = 5, repeat: int = 31) -> list[dict[str, Any]]:
    from appliance.printer.snmp import PROBE_OIDS

    request = _get(STATUS_OIDS[:1])
    starts = [_start_once(request) for _ in range(runs)]
    banner, answered = median([s[0] for s in starts]), median([s[1] for s in starts])
    two = _per_request_ms(_get(STATUS_OIDS), repeat)
    probe_oids = (*PROBE_OIDS.values(), "1.3.6.1.2.1.1.2.0", "1.3.6.1.2.1.1.3.0")
    eleven = _per_request_ms(_get(probe_oids), repeat)
    note = f"median of {runs}; `appliance simulate` on loopback, spawn →"
    return [
        row("virtual printer start → banner", round(banner, 3), "s", target=f"< {START_TARGET_S:g} s",
            ok=banner < START_TARGET_S, note=f"{note} its banner (raster port and SNMP agent listening)"),
        row("virtual printer start → first SNMP answer", round(answered, 3), "s", target=f"< {START_TARGET_S:g} s",
            ok=answered < START_TARGET_S,
            note=f"{note} first GET answered (includes importing pyasn1's BER codec on that GET)"),
        row("SNMP agent: GET of the 2 status OIDs", round(two, 3), "ms",
            note="answer(): pyasn1 decode + the virtual printer's MIB + encode, in-process; median of "
                 f"{repeat} × 20"),
        row(f"SNMP agent: GET of all {len(probe_oids)} OIDs", round(eleven, 3), "ms",
            note="the same, for every OID of the virtual printer's MIB"),
    ]


if __name__ == "__main__":
    for r in run():
        print(r)
