"""A real CUPS prints to the appliance: cupsd (its own configuration and spool in a temp dir), a queue
made with `lpadmin -m everywhere` from the appliance's own attributes, `lp` of a one-page PDF, and
the label found in the virtual printer's output with its QR code readable.

Skipped without cupsd/lpadmin/lp (Debian: cups; .ci/run installs it) or when not root (cupsd runs
its filters as the lp user). cupsd listens on a unix socket only, with browsing off: nothing is
announced or broadcast.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image, ImageOps

from appliance.simulator.runner import Simulator
from tests.access.helpers import make_token
from tests.support import configured, printer_table, running

from .client import qr_pdf
from .interop import run

CUPSD = shutil.which("cupsd") or ("/usr/sbin/cupsd" if os.path.exists("/usr/sbin/cupsd") else None)
LPADMIN = shutil.which("lpadmin") or ("/usr/sbin/lpadmin" if os.path.exists("/usr/sbin/lpadmin") else None)
LP = shutil.which("lp")
pytestmark = pytest.mark.skipif(CUPSD is None or LPADMIN is None or LP is None or os.geteuid() != 0,
                                reason="needs cupsd, lpadmin and lp (Debian: cups) and root")

CUPSD_CONF = """LogLevel warn
Listen {socket}
Browsing No
BrowseLocalProtocols none
DefaultAuthType None
WebInterface No
<Location />
  Order allow,deny
  Allow all
</Location>
<Policy default>
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
"""
FILES_CONF = """ServerRoot {root}/root
RequestRoot {root}/spool
TempDir {root}/tmp
CacheDir {root}/cache
StateDir {root}/state
ErrorLog {root}/log/error_log
AccessLog {root}/log/access_log
PageLog {root}/log/page_log
Sandboxing relaxed
"""


def cups_root(root: Path) -> Path:
    """cupsd's directories and configuration under `root`; the path of the socket it will listen on."""
    for sub in ("root/ppd", "root/ssl", "spool", "tmp", "cache", "state", "log"):
        (root / sub).mkdir(parents=True, exist_ok=True)
        (root / sub).chmod(0o777)  # cupsd runs its filters and backends as the lp user
    root.chmod(0o755)
    socket = root / "cups.sock"
    (root / "cupsd.conf").write_text(CUPSD_CONF.format(socket=socket))
    (root / "cups-files.conf").write_text(FILES_CONF.format(root=root))
    return socket


async def cupsd(root: Path) -> AsyncIterator[Path]:
    socket = cups_root(root)
    process = await asyncio.create_subprocess_exec(
        CUPSD or "cupsd", "-f", "-c", str(root / "cupsd.conf"), "-s", str(root / "cups-files.conf"),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while not socket.exists():
            assert process.returncode is None, "cupsd exited"
            assert time.monotonic() < deadline, "cupsd did not open its socket"
            await asyncio.sleep(0.05)
        yield socket
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()


def qr_codes(path: Path) -> list[str]:
    with Image.open(path) as image:
        gray = ImageOps.expand(image.convert("L"), border=40, fill=255)
        return [r.text for r in zxingcpp.read_barcodes(gray.resize((gray.width * 2, gray.height * 2)))]


async def test_cups_prints_a_pdf_through_an_everywhere_queue(state_dir: Path, tmp_path: Path) -> None:
    root = Path(f"/tmp/la-cups-{os.getpid()}-{tmp_path.name[-8:]}")  # short: unix socket paths are limited
    out = tmp_path / "labels"
    document = tmp_path / "label.pdf"
    document.write_bytes(qr_pdf("from-cups", size_mm=(62, 40)))
    try:
        async with Simulator("QL-820NWB", "62mm", out_dir=out, speed=None) as sim:
            settings = configured(state_dir, tmp_path, printer_table(
                "shelf", "QL-820NWB", sim.uri, "62mm", snmp={"port": sim.snmp_port, "host": "127.0.0.1"},
                poll_interval_s=0.2, busy_poll_interval_s=0.05))
            async with running(settings) as app:  # [ipp] auth = "token": the token goes in the device URI
                host = app.listeners.url.split("://", 1)[1]
                token = await make_token(app, "cups")
                async for socket in cupsd(root):
                    status, said = await run(LPADMIN or "lpadmin", "-h", str(socket), "-p", "shelf", "-E", "-v",
                                             f"ipp://cups:{token}@{host}/ipp/print/shelf", "-m", "everywhere")
                    assert status == 0, said
                    status, said = await run(LP or "lp", "-h", str(socket), "-d", "shelf", str(document))
                    assert status == 0, said
                    deadline = time.monotonic() + 60
                    while not list(out.glob("*.png")):
                        assert time.monotonic() < deadline, (root / "log" / "error_log").read_text()[-3000:]
                        await asyncio.sleep(0.2)
                    await asyncio.sleep(0.5)
                    jobs = (await app.queue.listing(None, None, None, 10, None))["jobs"]
        labels = sorted(out.glob("*.png"))
        assert len(labels) == 1
        assert qr_codes(labels[0]) == ["from-cups"]
        assert [(j["source"], j["state"]) for j in jobs] == [("ipp", "completed")]
    finally:
        shutil.rmtree(root, ignore_errors=True)
