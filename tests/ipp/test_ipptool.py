"""CUPS' ipptool runs its IPP/2.0 conformance suite (which includes IPP/1.1) against the appliance.

Against the embedded virtual printer (/ipp/print) with a PNG and with a PDF, and against a
configured QL-820NWB on a standalone virtual printer over real TCP and SNMP (/ipp/print/ship).
Any [FAIL] fails the test. Skipped where cups-ipp-utils is not installed (.ci/run installs it).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.simulator.runner import Simulator
from tests.access.helpers import make_token
from tests.support import configured, make_settings, printer_table, running

from .interop import IPPTOOL, IPPTOOL_TESTS, ipptool_dir, run

pytestmark = pytest.mark.skipif(IPPTOOL is None or IPPTOOL_TESTS is None,
                                reason="ipptool and its tests (Debian: cups-ipp-utils) are not installed")


def passed(out: str) -> None:
    assert "[FAIL]" not in out, out
    assert out.count("[PASS]") >= 25, out  # the suite really ran: Print-Job, Create-Job, Get-Jobs, …


@pytest.mark.parametrize("document", ["label.png", "label.pdf"])
async def test_ipptool_ipp20_passes_on_the_embedded_virtual_printer(document: str, state_dir: Path,
                                                                     tmp_path: Path) -> None:
    work = ipptool_dir(tmp_path)
    settings = make_settings(state_dir, ipp={"auth": "none"}, simulator={"poll_interval_s": 0.2})
    async with running(settings) as app:
        host = app.listeners.url.split("://", 1)[1]
        status, out = await run(IPPTOOL or "ipptool", "-tf", document, f"ipp://{host}/ipp/print", "ipp-2.0.test",
                                cwd=work)
        printed = sorted((state_dir / "printed").glob("*.png"))
    passed(out)
    assert status == 0, out
    assert printed  # the suite's Print-Job and Send-Document documents came out as labels


async def test_ipptool_ipp20_passes_on_a_configured_ql_with_a_token(state_dir: Path, tmp_path: Path) -> None:
    """[ipp] auth = "token" (the default): ipptool sends the credentials of the URI as HTTP Basic after a 401."""
    work = ipptool_dir(tmp_path)
    async with Simulator("QL-820NWB", "62mm", out_dir=tmp_path / "out", speed=None) as sim:
        settings = configured(state_dir, tmp_path, printer_table(
            "ship", "QL-820NWB", sim.uri, "62mm", snmp={"port": sim.snmp_port, "host": "127.0.0.1"},
            poll_interval_s=0.2, busy_poll_interval_s=0.05))
        async with running(settings) as app:
            host = app.listeners.url.split("://", 1)[1]
            token = await make_token(app, "ipptool")
            status, out = await run(IPPTOOL or "ipptool", "-tf", "label.pdf", f"ipp://me:{token}@{host}/ipp/print/ship",
                                    "ipp-2.0.test", cwd=work)
        labels = sorted((tmp_path / "out").glob("*.png"))
    passed(out)
    assert status == 0, out
    assert labels
