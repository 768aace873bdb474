"""`appliance check`: a table (or --json) of the readiness document; exit 0 pass, 1 warn, 2 fail."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

from appliance.app import Appliance
from tests.support import PYTHON, cli_env


async def check(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        PYTHON, "-m", "appliance.cli", "check", *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=cli_env())
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_exit_status_follows_pass_warn_fail(appliance: Appliance) -> None:
    sock = str(appliance.settings.socket_path)
    await appliance.printers[0].monitor.probe_now()
    code, out, err = await check("--socket", sock)
    assert code == 0, out + err
    lines = out.splitlines()
    assert lines[0].startswith("PASS")
    assert any(line.split()[:2] == ["PASS", "sqlite:responseTime"] and " ms" in line for line in lines)
    assert any("printer:status [virtual]" in line for line in lines)

    appliance.simulator.printer.update(cover_open=True)
    await appliance.printers[0].monitor.probe_now()
    code, out, _ = await check("--socket", sock)
    assert code == 1 and out.startswith("WARN")
    row = next(line for line in out.splitlines() if "printer:status [virtual]" in line)
    assert row.split()[0] == "WARN" and "cover" in row.lower()

    code, out, _ = await check("--socket", sock, "--json")
    assert code == 1 and json.loads(out)["status"] == "warn"

    await appliance.queue.stop(1.0)
    await appliance.db.close()
    code, out, _ = await check("--socket", sock)
    assert code == 2 and out.startswith("FAIL")
    assert next(line for line in out.splitlines() if "sqlite:responseTime" in line).split()[0] == "FAIL"


async def test_no_server_is_a_fail_in_words(tmp_path: Path) -> None:
    code, out, err = await check("--socket", str(tmp_path / "none.sock"))
    assert code == 2 and out == ""
    assert "appliance serve" in err and "Traceback" not in err
