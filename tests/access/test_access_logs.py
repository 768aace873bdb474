"""The logs of a busy session with tokens (good, wrong, revoked, in the URL, over /ws) hold no token."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import aiohttp
import pytest

from tests.access.helpers import bearer, make_token, post_rpc, revoke_token, running
from tests.ws.helpers import receive, send, subscribe


async def test_no_token_in_any_log_line_error_or_server_info(state_dir: Path, captured_logs: io.StringIO) -> None:
    async with running(state_dir) as app, aiohttp.ClientSession() as session:
        admin = await make_token(app, "admin")
        reader = await make_token(app, "reader", "read")
        gone = await make_token(app, "gone")
        url = app.listeners.url
        secrets = [admin, reader, gone]
        answers = []
        for token in secrets:
            answers.append(await post_rpc(url, {"jsonrpc": "2.0", "method": "server.info", "id": 1}, bearer(token),
                                          session))
        answers.append(await post_rpc(url, {"jsonrpc": "2.0", "method": "print.submit", "id": 2,
                                            "params": {"template": "text"}}, bearer(reader), session))
        answers.append(await post_rpc(url, {"jsonrpc": "2.0", "method": "no.such", "id": 3}, bearer(admin), session))
        await revoke_token(app, "gone")
        await asyncio.sleep(1.1)
        answers.append(await post_rpc(url, {"jsonrpc": "2.0", "method": "server.info", "id": 4}, bearer(gone), session))
        # careless clients: a token in the path, in a query string, in a field value
        async with session.post(f"{url}/rpc/{admin}?token={admin}", headers={"X-Api-Key": admin}) as response:
            assert response.status == 404
            answers.append((404, await response.text(), {}))
        answers.append(await post_rpc(url, {"jsonrpc": "2.0", "method": "label.preview", "id": 5,
                                            "params": {"template": "nope", "fields": {"t": admin}}},
                                      bearer(admin), session))
        async with session.ws_connect(url + "/ws", headers=bearer(admin)) as ws:
            await subscribe(ws)
            await send(ws, "server.info", id=6)
            answers.append((200, await receive(ws), {}))
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await session.ws_connect(url + "/ws", headers={"X-Api-Key": gone})
    text = captured_logs.getvalue()
    events = {json.loads(line).get("event") for line in text.splitlines() if line.startswith("{")}
    assert {"rpc.call", "auth.denied", "ws.open", "ws.closed", "appliance.ready"} <= events  # the capture works
    everything = text + json.dumps([answer for _, answer, _ in answers])
    for token in secrets:
        assert token not in everything and token[3:] not in everything
    assert answers[0][1]["result"]["caller"] == {"transport": "tcp", "scope": "admin"}


def test_a_malformed_request_logged_by_aiohttp_shows_no_token(state_dir: Path) -> None:
    # aiohttp logs a request it cannot parse with its header lines, through the standard library
    import socket
    from urllib.parse import urlsplit

    from tests.ops.helpers import spawn, terminate, wait_ready

    secret = "la_" + "S3cr3tT0k3n" * 3
    server = spawn(state_dir)
    try:
        url = urlsplit(wait_ready(server, state_dir))
        with socket.create_connection((url.hostname, url.port), timeout=5) as raw:
            raw.sendall(f"POST /rpc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {secret}\x7f\r\n"
                        "Content-Length: 2\r\n\r\n{}".encode("latin-1"))
            assert b" 400 " in raw.recv(4096).split(b"\r\n")[0]
    finally:
        _, err = terminate(server)
    assert '"event": "http.bad_request"' in err  # the malformed request was logged
    assert secret not in err and "S3cr3tT0k3n" not in err
