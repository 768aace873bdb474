"""`./run`'s set-up: it installs once, and again when the tools for the C raster encoder change.

The virtualenv's python here is a small shim that records `-m pip` calls instead of installing
(a real install needs the package index), and hands everything else to the test's own python.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _venv(tmp_path: Path) -> tuple[Path, Path]:
    venv, log = tmp_path / "venv", tmp_path / "pip-calls"
    (venv / "bin").mkdir(parents=True)
    shim = venv / "bin" / "python"
    shim.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then echo "$*" >> "{log}"; exit 0; fi\n'
        f'exec "{sys.executable}" "$@"\n'
    )
    shim.chmod(0o755)
    return venv, log


def _run_demo_help(venv: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "CC"}
    environ.update(APPLIANCE_VENV=str(venv), **env)
    return subprocess.run(
        [str(ROOT / "run"), "demo", "--help"], env=environ, capture_output=True, text=True, timeout=60
    )


def _installs(log: Path) -> int:
    if not log.exists():
        return 0
    return sum({"install", "-e"} <= set(line.split()) for line in log.read_text().splitlines())


def test_the_set_up_installs_once_then_again_when_the_build_tools_change(tmp_path: Path) -> None:
    venv, log = _venv(tmp_path)

    first = _run_demo_help(venv)
    assert first.returncode == 0, first.stderr
    assert "usage" in first.stdout.lower()
    assert _installs(log) == 1
    stamp = (venv / ".installed-test,bench").read_text()
    assert stamp.startswith("compiler:") and "headers:" in stamp

    assert _run_demo_help(venv).returncode == 0
    assert _installs(log) == 1, "a second run with nothing changed must not install again"

    # A compiler that appears (or goes) after the first set-up: the set-up runs again to build C.
    assert _run_demo_help(venv, CC=str(tmp_path / "no-such-cc")).returncode == 0
    assert _installs(log) == 2
    assert "compiler: None" in (venv / ".installed-test,bench").read_text()
