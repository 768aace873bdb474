"""Who may print over IPP: HTTP Basic with an appliance token over TCP, nothing over the unix socket."""

from __future__ import annotations

from pathlib import Path

from appliance.ipp import codec, codes
from tests.access.helpers import make_token
from tests.support import make_settings, running

from .client import IppClient, label_png, request, status_name


async def test_tcp_needs_a_token_as_the_basic_password(state_dir: Path) -> None:
    async with running(make_settings(state_dir)) as app:
        url = app.listeners.url
        body = codec.encode_message(request(codes.GET_PRINTER_ATTRIBUTES, "ipp://x/ipp/print"))
        status, headers, _ = await IppClient(url=url).post_raw(body)
        assert status == 401
        assert headers["WWW-Authenticate"].startswith("Basic")
        status, _, _ = await IppClient(url=url, token="la_not-a-token").post_raw(body)
        assert status == 401
        reader = IppClient(url=url, path="/ipp/print/virtual", token=await make_token(app, "laptop", "read"))
        assert status_name(await reader.op(codes.GET_PRINTER_ATTRIBUTES)) == "successful-ok"
        assert status_name(await reader.op(codes.PRINT_JOB, label_png())) == "client-error-forbidden"
        admin = IppClient(url=url, token=await make_token(app, "cups"))
        assert status_name(await admin.op(codes.PRINT_JOB, label_png())) == "successful-ok"
        status, _, text = await IppClient(url=url, path="/ipp/print/nope", token="x").post_raw(body)
        assert status == 401 and b"virtual" not in text  # no printer's name before the credentials
        status, _, _ = await IppClient(url=url, path="/ipp/print/nope").post_raw(body)
        assert status == 401
        status, _, text = await IppClient(url=url, path="/ipp/print/nope",
                                          token=await make_token(app, "lister")).post_raw(body)
        assert status == 404 and b"virtual" in text  # a caller with a token hears which printers there are
        status, _, _ = await admin.post_raw(body, content_type="text/plain")
        assert status == 400


async def test_auth_none_trusts_the_network(state_dir: Path) -> None:
    async with running(make_settings(state_dir, ipp={"auth": "none"})) as app:
        client = IppClient(url=app.listeners.url)
        assert status_name(await client.op(codes.PRINT_JOB, label_png())) == "successful-ok"


async def test_ipp_can_be_switched_off(state_dir: Path) -> None:
    async with running(make_settings(state_dir, ipp={"enabled": False})) as app:
        client = IppClient(socket=str(app.settings.socket_path))
        status, _, _ = await client.post_raw(codec.encode_message(request(codes.GET_PRINTER_ATTRIBUTES, "ipp://x")))
        assert status == 404
