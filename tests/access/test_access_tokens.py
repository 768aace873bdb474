"""Tokens over TCP: every method refuses a missing, wrong or revoked token the same way; scopes; the socket."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from pathlib import Path

import aiohttp
import pytest

from appliance.web.auth import NO_TOKEN_BODY, NOT_A_TOKEN_BODY, REFUSED_BODY
from rpc import contract
from rpc.errors import UNAUTHORIZED
from tests.access.helpers import bearer, make_token, post_rpc, revoke_token, running, unix_session

# params that get each method past validation (the calls may still fail for other reasons: not -32001)
PARAMS = {
    "server.subscribe": {"topics": ["jobs"]},
    "template.get": {"name": "text"},
    "template.put": {"name": "access-test", "definition": {"name": "access-test"}},
    "template.delete": {"name": "access-test"},
    "label.preview": {"template": "text", "fields": {"text": "hi"}},
    "print.submit": {"template": "text", "fields": {"text": "hi"}},
    "job.get": {"job_id": 1}, "job.timeline": {"job_id": 1}, "job.cancel": {"job_id": 1},
    "job.hold": {"job_id": 1}, "job.release": {"job_id": 1}, "job.reprint": {"job_id": 1},
    # loopback only, never the local network; port 1 refuses: nothing is added
    "printer.discover": {"network": "127.0.0.1/32", "snmp_port": 1, "timeout_s": 0.2},
    "printer.add": {"name": "access", "uri": "tcp://127.0.0.1:1", "model": "PT-P750W", "snmp": {"enabled": False}},
    "printer.update": {"printer_id": "virtual"}, "printer.remove": {"printer_id": "virtual"},
}


def request(name: str) -> dict[str, object]:
    return {"jsonrpc": "2.0", "method": name, "params": PARAMS.get(name, {}), "id": 7}


async def test_every_method_refuses_missing_wrong_and_revoked_tokens_identically(state_dir: Path) -> None:
    async with running(state_dir) as app:
        url = app.listeners.url
        revoked = await make_token(app, "soon-gone")
        status, answer, _ = await post_rpc(url, request("server.info"), bearer(revoked))
        assert status == 200 and answer["result"]["caller"]["scope"] == "admin"  # it worked, and is now cached
        await revoke_token(app, "soon-gone")
        await asyncio.sleep(1.1)
        wrong = "la_" + secrets.token_urlsafe(32)
        credentials = {  # what the caller sent → the one answer it gets
            "missing": ({}, NO_TOKEN_BODY),
            "wrong bearer": (bearer(wrong), REFUSED_BODY),
            "wrong x-api-key": ({"X-Api-Key": wrong}, REFUSED_BODY),
            "revoked": (bearer(revoked), REFUSED_BODY),  # as a token never issued: nothing tells which exist
            "too long": (bearer("la_" + "x" * 300), REFUSED_BODY),
            "not bearer": ({"Authorization": f"Basic {revoked}"}, NOT_A_TOKEN_BODY),
            "empty": ({"Authorization": "Bearer "}, NOT_A_TOKEN_BODY),
            "empty x-api-key": ({"X-Api-Key": ""}, NOT_A_TOKEN_BODY),
        }
        async with aiohttp.ClientSession() as session:
            for name in contract.CATALOGUE:
                for label, (headers, expected) in credentials.items():
                    async with session.post(url + "/rpc", json=request(name), headers=headers) as response:
                        body = await response.text()
                        assert response.status == 401, (name, label)
                        assert response.headers["WWW-Authenticate"] == "Bearer"
                        assert body == expected, (name, label)
            # a path the appliance serves, with another verb, is refused the same way
            for method, path in (("GET", "/rpc"), ("GET", "/ws"), ("DELETE", "/rpc"), ("PUT", "/ws")):
                for label, (headers, expected) in credentials.items():
                    async with session.request(method, url + path, headers=headers) as response:
                        assert (response.status, await response.text()) == (401, expected), (method, path, label)
        assert revoked not in REFUSED_BODY + NOT_A_TOKEN_BODY
        assert json.loads(NO_TOKEN_BODY)["error"] == {
            "code": -32001, "message": "Unauthorized",
            "data": {"credentials": "missing", "reason": "no token: send `Authorization: Bearer TOKEN` (or "
                     "`X-Api-Key: TOKEN`); create one on the appliance with `appliance token create NAME`"}}
        assert json.loads(REFUSED_BODY)["error"]["data"] == {
            "credentials": "refused", "reason": "token not accepted (mistyped or revoked?): `appliance token list` "
            "on the appliance shows the tokens it knows; `appliance token create NAME` makes a new one"}


async def test_a_path_the_appliance_does_not_serve_is_404_whatever_the_token(state_dir: Path) -> None:
    async with running(state_dir) as app:
        url = app.listeners.url
        admin = await make_token(app, "admin")
        async with aiohttp.ClientSession() as session:
            for headers in ({}, bearer("la_" + secrets.token_urlsafe(32)), bearer(admin), {"X-Api-Key": ""}):
                for method, path in (("GET", "/nonexistent"), ("GET", "/readyz"), ("POST", "/nope"),
                                     ("GET", "/admin"), ("POST", "/rpc/"), ("GET", "/healthz/x")):
                    async with session.request(method, url + path, headers=headers) as response:
                        assert response.status == 404, (method, path, headers)
                        answer = await response.json()
                    assert answer["error"]["data"] == {
                        "field": "path", "reason": "no such path: the appliance serves POST /rpc, GET /ws, "
                        "GET /healthz, GET /readiness, GET /metrics and (IPP) POST /ipp/print/PRINTER"}
            async with session.get(url + "/readiness") as response:  # the documented open paths stay open
                assert response.status in (200, 503)
            async with session.get(url + "/healthz") as response:
                assert response.status == 200
        served = {(route.method, route.resource.canonical) for route in app.listeners.app.router.routes()
                  if route.method != "*" and route.resource is not None}
        assert served == {("POST", "/rpc"), ("GET", "/ws"), ("GET", "/healthz"), ("GET", "/readiness"),
                          ("GET", "/metrics"), ("HEAD", "/ws"), ("HEAD", "/healthz"), ("HEAD", "/readiness"),
                          ("HEAD", "/metrics"), ("POST", "/ipp/print"), ("POST", "/ipp/print/{printer}")}


async def test_a_revoked_token_stops_working_within_about_a_second(state_dir: Path) -> None:
    async with running(state_dir) as app:
        token = await make_token(app, "revoke-me")
        async with aiohttp.ClientSession() as session:
            status, _, _ = await post_rpc(app.listeners.url, request("printer.status"), bearer(token), session)
            assert status == 200
            await revoke_token(app, "revoke-me")
            revoked_at = time.monotonic()
            while True:
                status, _, _ = await post_rpc(app.listeners.url, request("printer.status"), bearer(token), session)
                if status == 401:
                    break
                assert time.monotonic() - revoked_at < 1.5, "the revoked token still works after 1.5 s"
                await asyncio.sleep(0.05)
        assert time.monotonic() - revoked_at <= 1.5


async def test_read_token_reads_but_cannot_print_cancel_or_change_templates(state_dir: Path) -> None:
    async with running(state_dir) as app:
        token = await make_token(app, "reader", "read")
        async with aiohttp.ClientSession() as session:
            for method in contract.METHODS:
                status, answer, _ = await post_rpc(app.listeners.url, request(method.name), bearer(token), session)
                assert status == 200
                code = answer.get("error", {}).get("code")
                if method.admin:
                    assert code == UNAUTHORIZED, method.name
                    assert answer["error"]["data"] == {"method": method.name, "needs": "admin"}
                else:
                    assert code != UNAUTHORIZED, (method.name, answer)
            _, info, _ = await post_rpc(app.listeners.url, request("server.info"), bearer(token), session)
            assert info["result"]["caller"] == {"transport": "tcp", "scope": "read"}
            _, status_answer, _ = await post_rpc(app.listeners.url, request("printer.status"), bearer(token), session)
            assert status_answer["result"]["printer_id"] == app.printers[0].id
        assert {"print.submit", "job.cancel", "template.put", "template.delete"} <= set(contract.admin_methods())


async def test_admin_token_may_call_everything_and_prints(state_dir: Path) -> None:
    async with running(state_dir) as app:
        token = await make_token(app, "admin")
        async with aiohttp.ClientSession() as session:
            for method in contract.METHODS:
                _, answer, _ = await post_rpc(app.listeners.url, request(method.name), {"X-Api-Key": token}, session)
                assert answer.get("error", {}).get("code") != UNAUTHORIZED, (method.name, answer)
            _, job, _ = await post_rpc(app.listeners.url, request("print.submit"), bearer(token), session)
            job_id = job["result"]["id"]
            for _ in range(200):
                _, got, _ = await post_rpc(app.listeners.url, {**request("job.get"), "params": {"job_id": job_id}},
                                           bearer(token), session)
                if got["result"]["state"] == "completed":
                    break
                await asyncio.sleep(0.02)
            assert got["result"]["state"] == "completed"


async def test_the_unix_socket_needs_no_token(state_dir: Path) -> None:
    async with running(state_dir) as app, unix_session(app) as session:
        for method in contract.METHODS:
            async with session.post("http://localhost/rpc", json=request(method.name)) as response:
                answer = await response.json()
            assert response.status == 200
            assert answer.get("error", {}).get("code") != UNAUTHORIZED, (method.name, answer)
        async with session.post("http://localhost/rpc", json=request("server.info")) as response:
            assert (await response.json())["result"]["caller"] == {"transport": "unix", "scope": "trusted"}


async def test_loopback_is_not_trusted_unless_configured(state_dir: Path) -> None:
    async with running(state_dir) as app:
        status, _, _ = await post_rpc(app.listeners.url, request("server.info"))
        assert status == 401
    async with running(state_dir, trust_loopback=True) as app:
        status, answer, _ = await post_rpc(app.listeners.url, request("server.info"))
        assert status == 200 and answer["result"]["caller"] == {"transport": "tcp", "scope": "admin"}
        # but not from a web page: a cross-site form or text/plain post carries no JSON content type
        async with aiohttp.ClientSession() as session:
            for kind in ("text/plain", "application/x-www-form-urlencoded"):
                async with session.post(app.listeners.url + "/rpc", data=json.dumps(request("job.list")),
                                        headers={"Content-Type": kind}) as response:
                    refused = await response.json()
                assert response.status == 415 and refused["error"]["data"]["field"] == "Content-Type", refused
            # nor a WebSocket a web page of another origin opens (browsers allow those cross-site)
            with pytest.raises(aiohttp.WSServerHandshakeError) as handshake:
                await session.ws_connect(app.listeners.url + "/ws", headers={"Origin": "http://evil.example"})
            assert handshake.value.status == 403
            async with session.ws_connect(app.listeners.url + "/ws") as ws:  # a script sends no Origin
                await ws.send_str(json.dumps(request("server.info")))
                assert (await ws.receive_json(timeout=5))["result"]["caller"]["scope"] == "admin"


@pytest.mark.parametrize("path", ["/healthz", "/readiness"])
async def test_health_endpoints_stay_open_and_reveal_no_secret(state_dir: Path, path: str) -> None:
    async with running(state_dir) as app:
        token = await make_token(app, "secret-holder")
        async with aiohttp.ClientSession() as session, session.get(app.listeners.url + path) as response:
            body = await response.text()
        assert response.status == 200
        assert token not in body and token[3:] not in body and "secret-holder" not in body
        assert "la_" not in body


async def test_token_lookups_are_cached_and_last_used_is_written_at_most_once_a_minute(state_dir: Path) -> None:
    async with running(state_dir) as app:
        token = await make_token(app, "hot")
        guard = app.access
        async with aiohttp.ClientSession() as session:
            status, _, _ = await post_rpc(app.listeners.url, request("printer.status"), bearer(token), session)
            assert status == 200
            await asyncio.sleep(0.2)  # the first use is recorded in the background
            row = await app.db.fetchone("SELECT last_used_at FROM api_tokens WHERE name = 'hot'")
            assert row["last_used_at"] is not None
            writes, lookups = app.db.transactions, guard.auth.lookups
            started = time.monotonic()
            for _ in range(100):
                status, _, _ = await post_rpc(app.listeners.url, request("printer.status"), bearer(token), session)
                assert status == 200
            elapsed = time.monotonic() - started
        assert app.db.transactions == writes  # no write per request (an SD card wears with each)
        assert guard.auth.lookups - lookups <= 1 + int(elapsed / guard.auth.cache_ttl)  # at most one a second
