"""TUI start-up: time from launching `appliance tui` to its first painted status line, to
"connected", and to live data from the first snapshot, in a real pseudo-terminal (80×24)
against a real `appliance serve` with the virtual printer.

    python bench/tui_start.py            # prints a table
    from bench.tui_start import run; run() -> [{figure, value, unit, target}, ...]
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

APPLIANCE = str(Path(sys.executable).with_name("appliance"))
MARKS = {"paint": b"Label Appliance", "connected": "● connected".encode(), "data": "✓ ready".encode()}


def _start_server(state_dir: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPLIANCE_")}
    server = subprocess.Popen([APPLIANCE, "serve", "--state-dir", str(state_dir), "--listen", "127.0.0.1:0"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not (state_dir / "rpc.sock").exists():
        if time.monotonic() > deadline or server.poll() is not None:
            raise RuntimeError("appliance serve did not start")
        time.sleep(0.05)
    time.sleep(0.3)
    return server


def _one_start(state_dir: Path, timeout: float = 15.0) -> dict[str, float]:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPLIANCE_")}
    env["TERM"] = "xterm-256color"
    started = time.perf_counter()
    proc = subprocess.Popen([APPLIANCE, "tui", "--state-dir", str(state_dir)], stdin=slave, stdout=slave,
                            stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    seen: dict[str, float] = {}
    buffer = b""
    try:
        while len(seen) < len(MARKS) and time.perf_counter() - started < timeout:
            ready, _, _ = select.select([master], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            buffer += chunk
            now = time.perf_counter()
            for name, mark in MARKS.items():
                if name not in seen and mark in buffer:
                    seen[name] = (now - started) * 1000
    finally:
        os.write(master, b"q")
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        os.close(master)
    return seen


def run(repeats: int = 5) -> list[dict[str, object]]:
    state_dir = Path(tempfile.mkdtemp(prefix="la-bench-tui-"))
    server = _start_server(state_dir)
    try:
        _one_start(state_dir)  # warm the OS file cache and bytecode
        samples = [_one_start(state_dir) for _ in range(repeats)]
    finally:
        server.terminate()
        server.wait(timeout=15)
        shutil.rmtree(state_dir, ignore_errors=True)

    def median(name: str) -> float:
        values = [s[name] for s in samples if name in s]
        return round(statistics.median(values), 1) if values else float("nan")

    return [
        {"figure": "tui start → first painted status line (median)", "value": median("paint"), "unit": "ms",
         "target": "< 1000"},
        {"figure": "tui start → '● connected' painted (median)", "value": median("connected"), "unit": "ms",
         "target": "-"},
        {"figure": "tui start → live printer status painted (median)", "value": median("data"), "unit": "ms",
         "target": "-"},
        {"figure": "tui start → first paint (worst of runs)",
         "value": round(max(s.get("paint", float("nan")) for s in samples), 1), "unit": "ms", "target": "< 1000"},
    ]


def main() -> None:
    rows = run()
    width = max(len(str(r["figure"])) for r in rows)
    print(f"{'figure':<{width}}  {'value':>8}  unit  target")
    for r in rows:
        print(f"{r['figure']!s:<{width}}  {r['value']!s:>8}  {r['unit']!s:<4}  {r['target']}")


if __name__ == "__main__":
    main()
