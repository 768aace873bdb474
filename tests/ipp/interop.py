"""CUPS' own tools against the appliance: where they are, and the files their test suites print."""

from __future__ import annotations

import asyncio
import io
import shutil
from pathlib import Path

from PIL import Image, ImageDraw

from .client import label_png, qr_pdf

IPPTOOL = shutil.which("ipptool")
IPPTOOL_TESTS = next((d for d in (Path("/usr/share/cups/ipptool"), Path("/usr/local/share/cups/ipptool"))
                      if (d / "ipp-2.0.test").is_file()), None)


def ipptool_dir(tmp: Path) -> Path:
    """ipp-1.1.test and ipp-2.0.test with the documents they print (Debian ships the tests without them)."""
    assert IPPTOOL_TESTS is not None
    work = tmp / "ipptool"
    work.mkdir(exist_ok=True)
    for name in ("ipp-1.1.test", "ipp-2.0.test"):
        shutil.copy(IPPTOOL_TESTS / name, work / name)
    for name, size in (("document-a4.pdf", (2480, 3508)), ("document-letter.pdf", (2550, 3300))):
        page = Image.new("L", size, 255)
        ImageDraw.Draw(page).rectangle((100, 100, size[0] - 100, size[1] - 100), outline=0, width=20)
        page.save(work / name, resolution=300)
    color = Image.new("RGB", (1200, 1800), (200, 50, 50))
    color.save(work / "color.jpg", dpi=(300, 300))
    color.convert("L").save(work / "gray.jpg", dpi=(300, 300))
    for name in ("document-a4.ps", "document-letter.ps"):  # never sent: the appliance takes no PostScript
        (work / name).write_text("%!PS\n")
    (work / "label.png").write_bytes(label_png())
    (work / "label.pdf").write_bytes(qr_pdf("ipptool"))
    return work


async def run(*argv: str, cwd: Path | None = None, timeout: float = 120.0) -> tuple[int, str]:
    """A tool as a subprocess, the event loop (and the appliance in it) serving meanwhile."""
    process = await asyncio.create_subprocess_exec(*argv, cwd=cwd, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.STDOUT)
    try:
        out, _ = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    return process.returncode or 0, out.decode(errors="replace")


def png_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
