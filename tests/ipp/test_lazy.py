"""The server stays light: nothing of IPP's document decoding or DNS-SD is imported until used."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support import REPO

SCRIPT = """
import asyncio, sys
from pathlib import Path
from tests.support import make_settings, running
from tests.ipp.client import IppClient
from appliance.ipp import codes

async def main():
    async with running(make_settings(Path(sys.argv[1]))) as app:
        before = sorted(m for m in ("pypdfium2", "zeroconf", "appliance.ipp.http", "appliance.ipp.documents")
                        if m in sys.modules)
        await IppClient(socket=str(app.settings.socket_path)).op(codes.GET_PRINTER_ATTRIBUTES)
        after = sorted(m for m in ("pypdfium2", "zeroconf", "appliance.ipp.http") if m in sys.modules)
    print(before, after)

asyncio.run(main())
"""


def test_ipp_and_pdfium_are_imported_only_by_the_first_request(state_dir: Path) -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(state_dir)], cwd=REPO, capture_output=True, text=True,
                         timeout=60, check=True).stdout.strip().splitlines()[-1]
    assert out == "[] ['appliance.ipp.http']", out  # a PDF would bring pypdfium2; the loopback listener no zeroconf
