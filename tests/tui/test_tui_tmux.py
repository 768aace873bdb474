"""A real terminal: `appliance serve` and `appliance tui` in tmux, driven by keys, quit with q."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import cli_env

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

APPLIANCE = str(Path(sys.executable).with_name("appliance"))


def tmux(server: str, *args: str) -> str:
    return subprocess.run(["tmux", "-L", server, *args], capture_output=True, text=True, timeout=10).stdout


def wait_pane(server: str, needle: str, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = tmux(server, "capture-pane", "-p", "-t", "tui")
        if needle in screen:
            return screen
        time.sleep(0.1)
    raise AssertionError(f"{needle!r} not on screen:\n{screen}")


def test_tui_in_tmux(state_dir: Path) -> None:
    env = cli_env()
    server = subprocess.Popen([APPLIANCE, "serve", "--state-dir", str(state_dir), "--listen", "127.0.0.1:0"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    name = f"la-tui-{os.getpid()}"
    try:
        deadline = time.monotonic() + 20
        while not (state_dir / "rpc.sock").exists():
            assert time.monotonic() < deadline and server.poll() is None, "server did not start"
            time.sleep(0.1)
        status = state_dir / "tui.status"
        command = f"{APPLIANCE} tui --state-dir {state_dir}; echo $? > {status}; echo EXITED; sleep 30"
        subprocess.run(["tmux", "-L", name, "new-session", "-d", "-s", "tui", "-x", "80", "-y", "24",
                        "-e", "TERM=xterm-256color", command], env=env, check=True, timeout=10)
        wait_pane(name, "● connected")
        wait_pane(name, "✓ ready")
        # on Print the first field has the focus, so letters type there: F4 (shown in the footer) leaves it
        for key, needle in (("p", "› Print"), ("F4", "› Jobs"), ("h", "› Health"), ("s", "› Stats"),
                            ("d", "› Dashboard")):
            tmux(name, "send-keys", "-t", "tui", key)
            wait_pane(name, needle)
        tmux(name, "send-keys", "-t", "tui", "h")
        wait_pane(name, "✓ pass")
        tmux(name, "send-keys", "-t", "tui", "q")
        screen = wait_pane(name, "EXITED")
        assert status.read_text().strip() == "0"
        assert "Traceback" not in screen and "Error" not in screen
    finally:
        subprocess.run(["tmux", "-L", name, "kill-server"], capture_output=True, timeout=10)
        server.terminate()
        server.wait(timeout=15)


def test_tui_exits_when_the_terminal_goes_away(state_dir: Path) -> None:
    """SSH dropped: the pane is killed, the TUI gets SIGHUP and exits instead of spinning."""
    env = cli_env()
    name = f"la-hup-{os.getpid()}"
    pidfile = state_dir / "tui.pid"
    socket = state_dir / "nothing.sock"  # no server: the TUI keeps retrying until the terminal goes
    command = f"sh -c 'echo $$ > {pidfile}; exec {APPLIANCE} tui --socket {socket}'"
    subprocess.run(["tmux", "-L", name, "new-session", "-d", "-s", "tui", "-x", "80", "-y", "24", command],
                   env=env, check=True, timeout=10)
    try:
        wait_pane(name, "Cannot reach the appliance")
        pid = int(pidfile.read_text())
        subprocess.run(["tmux", "-L", name, "kill-server"], capture_output=True, timeout=10)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        os.kill(pid, 9)
        raise AssertionError("the TUI kept running after its terminal went away")
    finally:
        subprocess.run(["tmux", "-L", name, "kill-server"], capture_output=True, timeout=10)


def test_the_demo_in_a_terminal_prints_its_labels_opens_the_tui_and_stops_with_q(state_dir: Path) -> None:
    """What `./run demo` does for a newcomer: welcome labels as PNGs, the TUI live, q stops everything."""
    env = cli_env()
    name = f"la-demo-{os.getpid()}"
    status = state_dir.parent / "demo.status"
    command = (f"{sys.executable} -m appliance.demo --state-dir {state_dir} --listen 127.0.0.1:0; "
               f"echo $? > {status}; echo EXITED; sleep 30")
    subprocess.run(["tmux", "-L", name, "new-session", "-d", "-s", "tui", "-x", "80", "-y", "24",
                    "-e", "TERM=xterm-256color", command], env=env, check=True, timeout=10)
    try:
        wait_pane(name, "● connected", timeout=30)
        wait_pane(name, "✓ completed")
        tmux(name, "send-keys", "-t", "tui", "q")
        screen = wait_pane(name, "EXITED", timeout=30)
        assert status.read_text().strip() == "0"
        assert "The demo has stopped the appliance" in screen and "is running" not in screen
        assert "Traceback" not in screen
        assert len(list((state_dir / "printed").glob("*.png"))) == 2
        assert not (state_dir / "rpc.sock").exists()  # the server really stopped
    finally:
        subprocess.run(["tmux", "-L", name, "kill-server"], capture_output=True, timeout=10)
