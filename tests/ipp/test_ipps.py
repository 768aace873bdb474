"""With [server] tls on, the same listener serves IPP as ipps://, and the printer says so in its attributes."""

from __future__ import annotations

import io
import ssl
from pathlib import Path

import aiohttp

from appliance import tls
from appliance.ipp import codec, codes
from tests.support import make_settings, running

from .client import attrs, request, status_name


async def _get_printer_attributes(url: str, context: ssl.SSLContext | None) -> codec.Message:
    body = codec.encode_message(request(codes.GET_PRINTER_ATTRIBUTES, url.replace("http", "ipp", 1) + "/ipp/print"))
    async with aiohttp.ClientSession() as session, session.post(
            url + "/ipp/print", data=body, headers={"Content-Type": "application/ipp"}, ssl=context) as response:
        assert response.status == 200
        return codec.read_message(io.BytesIO(await response.read()))


async def test_ipp_over_tls_is_ipps_and_plain_ipp_stays_ipp(state_dir: Path, tmp_path: Path) -> None:
    settings = make_settings(state_dir, server={"tls": "self-signed"}, ipp={"auth": "none"})
    async with running(settings) as app:
        url = app.listeners.url
        assert url.startswith("https://")
        context = ssl.create_default_context(cafile=str(tls.state_files(state_dir).cert))
        context.check_hostname = False  # the certificate names the host and 127.0.0.1; the URL is the address
        answer = await _get_printer_attributes(url, context)
        assert status_name(answer) == "successful-ok"
        printer = attrs(answer)
        assert printer["printer-uri-supported"] == [f"ipps://{url.split('://', 1)[1]}/ipp/print/virtual"]
        assert printer["uri-security-supported"] == ["tls"]
        assert printer["printer-more-info"][0].startswith("https://")
        assert app.dnssd.service == "_ipps._tcp"  # DNS-SD says ipps too (records: tests/ipp/test_dnssd.py)
    async with running(make_settings(tmp_path / "plain", ipp={"auth": "none"})) as app:
        printer = attrs(await _get_printer_attributes(app.listeners.url, None))
        assert printer["printer-uri-supported"][0].startswith("ipp://")
        assert printer["uri-security-supported"] == ["none"]
