"""`./run demo` without a terminal: the welcome labels print on a state dir's first start only."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from tests.support import PYTHON, cli_env


def _demo(state_dir: Path, *, labels: int) -> str:
    """Run the demo until it serves and `labels` PNGs are out, stop it with Ctrl-C; its output."""
    process = subprocess.Popen(
        [PYTHON, "-m", "appliance.demo", "--no-tui", "--state-dir", str(state_dir), "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=cli_env(APPLIANCE_SIMULATOR_SPEED="instant"))
    assert process.stdout is not None
    lines = []
    try:
        while not lines or "Ctrl-C stops it." not in lines[-1]:
            line = process.stdout.readline()
            assert line, f"the demo stopped: {process.stderr.read() if process.stderr else ''}"
            lines.append(line)
        deadline = time.monotonic() + 20
        while len(list((state_dir / "printed").glob("*.png"))) < labels:
            assert time.monotonic() < deadline, "the welcome labels did not print"
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0 and "Traceback" not in err, err
    return "".join(lines) + out


def test_the_welcome_labels_print_on_the_first_start_only(state_dir: Path) -> None:
    first = _demo(state_dir, labels=2)
    assert "printed on the first start" not in first
    again = _demo(state_dir, labels=2)
    assert "The welcome labels were printed on the first start (jobs 1, 2), not again." in again
    with sqlite3.connect(state_dir / "appliance.db") as db:
        jobs = db.execute("SELECT count(*) FROM jobs").fetchone()[0]
    db.close()
    assert jobs == 2
    assert len(list((state_dir / "printed").glob("*.png"))) == 2
