"""`appliance printers discover|add|list|remove` against a real server process and a virtual printer process."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.support import PYTHON, cli_env, start_server, start_simulator, stop_server


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PYTHON, "-m", "appliance.cli", "printers", *args], capture_output=True, text=True,
                          env=cli_env(), timeout=60)


def test_printers_are_found_added_listed_and_removed_from_the_command_line(tmp_path: Path,
                                                                           state_dir: Path) -> None:
    sim, raster, snmp = start_simulator(tmp_path / "out", "--model", "QL-820NWB", "--tape", "62mm",
                                        "--serial", "K8Q200002")
    server, _ = start_server(state_dir)
    where = ("--state-dir", str(state_dir))
    try:
        found = cli("discover", "--network", "127.0.0.1/32", "--snmp-port", str(snmp), "--timeout", "1", *where)
        assert found.returncode == 0, found.stderr
        assert "QL-820NWB  serial K8Q200002  62mm roll  tcp://127.0.0.1:9100  (found by snmp" in found.stdout
        assert "name: ql-820nwb" in found.stdout
        assert f"add it: appliance printers add ql-820nwb tcp://127.0.0.1:9100 --snmp-port {snmp}" in found.stdout

        wide = cli("discover", "--network", "10.0.0.0/8", *where)
        assert wide.returncode == 1 and "/8 is too large" in wide.stderr and "Traceback" not in wide.stderr

        added = cli("add", "desk", f"tcp://127.0.0.1:{raster}", "--snmp-port", str(snmp), *where)
        assert added.returncode == 0 and "added desk: QL-820NWB" in added.stdout, added.stderr
        again = cli("add", "desk", f"tcp://127.0.0.1:{raster}", "--snmp-port", str(snmp), *where)
        assert again.returncode == 1 and "error -32003" in again.stderr and "already called 'desk'" in again.stderr

        listed = json.loads(cli("list", "--json", *where).stdout)
        assert [(p["name"], p["model"], p["virtual"]) for p in listed] == [("desk", "QL-820NWB", False)]

        removed = cli("remove", "desk", *where)
        assert removed.returncode == 0 and removed.stdout.startswith("removed desk (QL-820NWB"), removed.stderr
        gone = cli("remove", "desk", *where)
        assert gone.returncode == 1 and "error -32002" in gone.stderr
    finally:
        status, err = stop_server(server)
        stop_server(sim)
    assert status == 0 and "Traceback" not in err
