"""The systemd files: `systemd-analyze verify`, the security score, sysusers, the example config, and
the server itself under the unit's MemoryDenyWriteExecute= (applied with prctl, as systemd does)."""

from __future__ import annotations

import ctypes
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from appliance.config import load
from tests.ops.helpers import terminate, wait_ready
from tests.support import PYTHON, REPO, cli_env

UNIT = REPO / "systemd" / "appliance.service"
SYSUSERS = REPO / "systemd" / "appliance.sysusers.conf"
EXAMPLE = REPO / "systemd" / "appliance.toml"
analyze = pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")


def directives(path: Path) -> dict[str, list[str]]:
    """Every `Key=value` of a unit file (keys may repeat), sections ignored."""
    found: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key, []).append(value)
    return found


def test_the_unit_says_what_the_issue_asks() -> None:
    unit = directives(UNIT)
    assert unit["Type"] == ["notify"] and unit["NotifyAccess"] == ["main"]
    assert unit["Restart"] == ["on-failure"] and unit["WatchdogSignal"] == ["SIGABRT"]
    assert int(unit["WatchdogSec"][0]) >= 10
    assert unit["StateDirectory"] == unit["RuntimeDirectory"] == unit["ConfigurationDirectory"] == ["appliance"]
    assert unit["User"] == ["appliance"] and unit["SupplementaryGroups"] == ["lp"]
    families = unit["RestrictAddressFamilies"][0].split()
    assert {"AF_INET", "AF_INET6", "AF_UNIX"} <= set(families)
    assert unit["DevicePolicy"] == ["closed"] and "char-usb rw" in unit["DeviceAllow"]
    assert "PrivateDevices" not in unit  # it would hide /dev/usb/lp*
    # stopping waits for the label being printed: TimeoutStopSec must cover shutdown_timeout_s
    assert int(unit["TimeoutStopSec"][0]) > load(EXAMPLE, env={}).server.shutdown_timeout_s + 10
    assert unit["ExecStart"][0].startswith("/opt/appliance/bin/appliance serve")


@analyze
def test_systemd_analyze_verify_is_clean(tmp_path: Path) -> None:
    entry_point = Path(sys.prefix) / "bin" / "appliance"
    assert entry_point.exists()
    # the unit points at /opt/appliance (the Pi's path); verify the same unit with this machine's entry point
    copy = tmp_path / "appliance.service"
    copy.write_text(UNIT.read_text().replace("/opt/appliance/bin/appliance", str(entry_point)))
    result = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
    # and the shipped file's only complaint here is the missing /opt path
    shipped = subprocess.run(["systemd-analyze", "verify", str(UNIT)], capture_output=True, text=True, timeout=60)
    complaints = [line for line in shipped.stderr.splitlines() if line.strip()]
    assert all("/opt/appliance/bin/appliance is not executable" in line for line in complaints), complaints


@analyze
def test_security_exposure_is_two_or_lower() -> None:
    result = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager", str(UNIT)],
                            capture_output=True, text=True, timeout=60)
    found = re.search(r"Overall exposure level for appliance\.service: (\d+\.\d+)", result.stdout + result.stderr)
    assert found, result.stdout[-1000:] + result.stderr[-1000:]
    assert float(found.group(1)) <= 2.0


@pytest.mark.skipif(shutil.which("systemd-sysusers") is None, reason="systemd-sysusers is not installed")
def test_sysusers_creates_the_user_in_group_lp(tmp_path: Path) -> None:
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (etc / "group").write_text("root:x:0:\nlp:x:7:\n")
    result = subprocess.run(["systemd-sysusers", f"--root={tmp_path}", str(SYSUSERS)], capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    user = next(line for line in (etc / "passwd").read_text().splitlines() if line.startswith("appliance:"))
    assert user.split(":")[5] == "/var/lib/appliance" and user.split(":")[6].endswith("nologin")
    groups = {line.split(":")[0]: line.split(":")[3] for line in (etc / "group").read_text().splitlines()}
    assert groups["lp"] == "appliance" and "appliance" in groups


def test_the_example_config_loads_and_clients_find_its_socket() -> None:
    from appliance.commands.common import socket_candidates

    settings = load(EXAMPLE, env={"STATE_DIRECTORY": "/var/lib/appliance"})
    assert str(settings.socket_path) == "/run/appliance/rpc.sock"
    assert str(settings.state_dir) == "/var/lib/appliance"
    assert settings.printers and settings.server.watchdog
    import argparse

    assert Path("/run/appliance/rpc.sock") in socket_candidates(argparse.Namespace(socket=None, state_dir=None))


PR_SET_MDWE, PR_GET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 66, 1


def _deny_write_execute() -> None:  # runs in the child between fork and exec
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
        os._exit(97)


def _mdwe_supported() -> bool:
    probe = subprocess.run([PYTHON, "-c", "import ctypes; print(ctypes.CDLL(None).prctl(66, 0, 0, 0, 0))"],
                           preexec_fn=_deny_write_execute, capture_output=True, text=True, timeout=30)
    return probe.returncode == 0 and probe.stdout.strip() == "1"


def test_the_server_prints_under_memory_deny_write_execute(state_dir: Path) -> None:
    """MemoryDenyWriteExecute=yes is what systemd applies (by seccomp); the kernel's PR_SET_MDWE is the same rule."""
    if not _mdwe_supported():
        pytest.skip("this kernel has no PR_SET_MDWE (Linux 6.3+)")
    env = cli_env(APPLIANCE_SIMULATOR_SPEED="instant", APPLIANCE_LOG_FORMAT="json")
    args = [PYTHON, "-m", "appliance.cli", "serve", "--state-dir", str(state_dir), "--listen", "127.0.0.1:0",
            "--ready-file", str(state_dir / "ready")]
    process = subprocess.Popen(args, preexec_fn=_deny_write_execute, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env)
    try:
        wait_ready(process, state_dir)
        submit = subprocess.run([PYTHON, "-m", "appliance.cli", "call", "print.submit", "template=asset-tag",
                                 "fields.name=Drill", "fields.asset_id=MS-0042", "--state-dir", str(state_dir)],
                                capture_output=True, text=True, timeout=30, env=cli_env())
        assert submit.returncode == 0, submit.stderr
        job_id = json.loads(submit.stdout)["id"]
        deadline = time.monotonic() + 15
        while True:
            got = subprocess.run([PYTHON, "-m", "appliance.cli", "call", "job.get", f"job_id={job_id}",
                                  "--state-dir", str(state_dir)], capture_output=True, text=True, timeout=30,
                                 env=cli_env())
            if json.loads(got.stdout)["state"] == "completed":
                break
            assert time.monotonic() < deadline, got.stdout
            time.sleep(0.1)
    finally:
        code, err = terminate(process)
    assert code == 0 and "Traceback" not in err

