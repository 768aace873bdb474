"""`appliance simulate`: a standalone virtual printer until Ctrl-C / SIGTERM.

    appliance simulate --model PT-P750W --tape 12mm [--listen 127.0.0.1:9100]
        [--control 127.0.0.1:PORT] [--snmp 127.0.0.1:1161] [--out DIR] [--speed MM_PER_S|instant]
        [--tape-length MM] [--serial SERIAL] [--usb PATH [--sysfs DIR]]

With --usb (and no --listen) it is a USB-only printer: PATH becomes its device node (a pty).

The CLI calls `run(argv) -> int`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from appliance.printer.media import MediaError
from appliance.printer.models import MODELS, UnknownModelError
from appliance.printer.status import MEDIA_HOLDER, worded
from appliance.simulator.state import DEFAULT_SPEED_MM_S


def address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT")
    return host.strip("[]") or "127.0.0.1", int(port)


def speed(text: str) -> float | None:
    if text.lower() == "instant":
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a speed in mm/s or 'instant'") from None
    if value < 0:
        raise argparse.ArgumentTypeError("speed must not be negative")
    return value or None


def tape(text: str) -> str | None:
    return None if text.lower() in ("none", "") else text


def serial(text: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9-]{1,32}", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a serial number (1-32 letters, digits or -)")
    return text


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="appliance simulate", description="Run a virtual Brother label printer.")
    p.add_argument("--model", default="PT-P750W", help=f"one of: {', '.join(MODELS)} (default PT-P750W)")
    p.add_argument("--tape", type=tape, default="12mm", help="loaded media, e.g. 12mm, 62mm, 29x90, or none")
    p.add_argument("--listen", type=address, default=None,
                   help="raster port (HOST:PORT; default 127.0.0.1:9100, none with --usb)")
    p.add_argument("--control", type=address, default=None, help="JSON-RPC control endpoint (HOST:PORT)")
    p.add_argument("--snmp", type=address, default=None, help="SNMP agent (HOST:PORT), e.g. 127.0.0.1:1161")
    p.add_argument("--out", type=Path, default=None, help="write every printed label as a PNG here")
    p.add_argument("--speed", type=speed, default=DEFAULT_SPEED_MM_S, help="print speed in mm/s, or 'instant'")
    p.add_argument("--tape-length", type=float, default=None, help="mm of tape in a cassette (default unlimited)")
    p.add_argument("--serial", type=serial, default="E7Z000001",
                   help="serial number its SNMP agent reports (another one = another printer at the address)")
    p.add_argument("--usb", type=Path, default=None,
                   help="be a USB printer: PATH becomes its device node (a pty in raw mode), like /dev/usb/lp0")
    p.add_argument("--sysfs", type=Path, default=None,
                   help="with --usb: write its IEEE 1284 id under DIR/<name of PATH>/ as the kernel does under "
                        "/sys/class/usbmisc (point APPLIANCE_USB_SYSFS at DIR)")
    return p


async def main(args: argparse.Namespace) -> int:
    from appliance.simulator.runner import Simulator

    if args.sysfs is not None and args.usb is None:
        print("appliance simulate: --sysfs goes with --usb PATH", file=sys.stderr)
        return 2
    listen = args.listen if args.listen is not None or args.usb is not None else ("127.0.0.1", 9100)
    try:
        sim = Simulator(
            model=args.model, tape=args.tape, listen=listen, control=args.control, snmp=args.snmp,
            out_dir=args.out, speed=args.speed, tape_remaining_mm=args.tape_length, serial=args.serial,
            usb=args.usb, sysfs=args.sysfs,
        )  # fmt: skip
    except (UnknownModelError, MediaError) as exc:
        print(f"appliance simulate: {exc}", file=sys.stderr)
        return 2
    try:
        await sim.start()
    except OSError as exc:
        what = "cannot make the USB device" if args.usb is not None and isinstance(exc, FileExistsError) else \
            "cannot listen"
        print(f"appliance simulate: {what}: {exc}", file=sys.stderr)
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    tape_name = sim.printer.tape.id if sim.printer.tape else f"no {worded(MEDIA_HOLDER, sim.printer.model.family)}"
    print(f"virtual {sim.printer.model.name} with {tape_name}: raster {sim.uri}", flush=True)
    if sim.usb is not None and sim.uri.startswith("tcp:"):
        print(f"  USB   usb://{sim.usb.path}", flush=True)
    if sim.usb is not None:
        from appliance.simulator.usb import device_id

        print(f"  USB device {sim.usb.path} → {sim.usb.pty_name}; 1284 id {device_id(sim.printer)}", flush=True)
        if args.sysfs is not None:
            print(f"  sysfs {args.sysfs} (APPLIANCE_USB_SYSFS={args.sysfs})", flush=True)
    if sim.snmp_address:
        host, port = sim.snmp_address
        print(f"  SNMP  udp://{host}:{port} (community public)", flush=True)
    if sim.control_url:
        print(f"  control {sim.control_url} (JSON-RPC: sim.state, sim.set)", flush=True)
    if args.out:
        print(f"  labels → {args.out}", flush=True)
    try:
        await stop.wait()
    finally:
        await sim.stop()
    return 0


def run(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    try:
        return asyncio.run(main(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(run(sys.argv[1:]))


_RASTER_LINE = re.compile(r"raster tcp://[\d.]+:(\d+)")
_SNMP_LINE = re.compile(r"SNMP\s+udp://[\d.]+:(\d+)")


def announced_ports(readline: Callable[[], str], timeout: float = 30.0) -> tuple[int | None, int | None]:
    """The raster and SNMP ports from the banner `appliance simulate` prints when it is up
    (for the tests and the bench, which start it as a separate process)."""
    raster = snmp = None
    deadline = time.monotonic() + timeout
    while (raster is None or snmp is None) and time.monotonic() < deadline:
        line = readline()
        if not line:
            break
        if found := _RASTER_LINE.search(line):
            raster = int(found.group(1))
        if found := _SNMP_LINE.search(line):
            snmp = int(found.group(1))
    return raster, snmp
