"""rpc.ws_client against the real in-process server (its /ws endpoint) and the virtual printer."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from appliance.app import Appliance
from rpc.errors import NotFound, RpcError
from rpc.ws_client import (
    CLOSED,
    CONNECTED,
    DISCONNECTED,
    ConnectionLost,
    ConnectionState,
    Notification,
    Snapshot,
    WsClient,
)
from tests.support import make_settings

TOPICS = ["printers", "jobs", "queue"]


def unix_client(appliance: Appliance, **kw: object) -> WsClient:
    return WsClient(socket_path=str(appliance.settings.socket_path), **kw)  # type: ignore[arg-type]


async def wait_for(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def test_call_over_unix_socket(appliance: Appliance) -> None:
    async with unix_client(appliance) as client:
        await client.connect(timeout=5)
        info = await client.call("server.info")
        assert info["name"] == "Label Appliance"
        assert info["caller"]["scope"] == "trusted"  # the unix socket needs no token
        answers = await asyncio.gather(*(client.call("printer.list") for _ in range(10)))
        assert all(a[0]["id"] == appliance.printers[0].id for a in answers)


async def test_call_errors_carry_code_and_data(appliance: Appliance) -> None:
    async with unix_client(appliance) as client:
        await client.connect(timeout=5)
        with pytest.raises(RpcError) as err:
            await client.call("label.preview", {"template": "text", "fields": {"text": ""}})
        assert err.value.code == -32602
        assert err.value.data == {"field": "fields.text", "reason": "required"}
        with pytest.raises(NotFound):
            await client.call("job.get", {"job_id": 999})


async def test_call_over_tcp_sends_the_token(aiohttp_server) -> None:  # type: ignore[no-untyped-def]
    from aiohttp import web

    seen: list[str | None] = []

    async def handle(request: web.Request) -> web.WebSocketResponse:
        seen.append(request.headers.get("Authorization"))
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            request_id = msg.json()["id"]
            await ws.send_json({"jsonrpc": "2.0", "result": {"pong": True}, "id": request_id})
        return ws

    app = web.Application()
    app.router.add_get("/ws", handle)
    server = await aiohttp_server(app)
    async with WsClient(f"http://127.0.0.1:{server.port}/rpc", token="s3cret") as client:
        await client.connect(timeout=5)
        assert await client.call("ping") == {"pong": True}
    assert seen == ["Bearer s3cret"]


async def test_tcp_without_a_valid_token_is_refused_cleanly(appliance: Appliance) -> None:
    async with WsClient(appliance.listeners.url, token="wrong", backoff_initial=0.05, reconnect=False) as client:
        try:
            await client.connect(timeout=5)
        except ConnectionLost:
            assert "401" in client.state.detail or "token" in client.state.detail  # refused at the handshake
            return
        with pytest.raises(RpcError) as err:  # or refused per call
            await client.call("server.info")
        assert err.value.code == -32001


async def test_subscribe_snapshot_then_ordered_notifications(appliance: Appliance) -> None:
    events: list[object] = []
    async with unix_client(appliance) as client:
        client.add_listener(events.append)
        await client.connect(timeout=5)
        snapshot = await client.subscribe(TOPICS)
        assert [p["printer_id"] for p in snapshot["printers"]] == [appliance.printers[0].id]
        assert snapshot["jobs"] == []
        assert "totals" in snapshot["queue"]
        job = await client.call("print.submit", {"template": "text", "fields": {"text": "Order"}})

        def job_states() -> list[str]:
            return [e.params["state"] for e in events
                    if isinstance(e, Notification) and e.method == "notify_job_updated"
                    and e.params.get("id") == job["id"]]

        await wait_for(lambda: "completed" in job_states())
        states = job_states()
        # in the order the server sent them: each state only after the ones before it
        order = ["pending", "processing", "completed"]
        seen = [s for s in states if s in order]
        assert seen == sorted(seen, key=order.index)
        assert seen[-1] == "completed"
        kinds = [type(e).__name__ for e in events]
        assert kinds.index("Snapshot") < kinds.index("Notification")
        # queue notifications are coalesced by the server (a short delay after a burst)
        await wait_for(lambda: any(isinstance(e, Notification) and e.method == "notify_queue_changed"
                                   for e in events))


async def test_printer_status_notification(appliance: Appliance) -> None:
    async with unix_client(appliance) as client:
        seen: list[Notification] = []
        client.add_listener(lambda e: seen.append(e) if isinstance(e, Notification) else None)
        await client.connect(timeout=5)
        await client.subscribe(["printers"])
        appliance.simulator.printer.update(cover_open=True)
        await appliance.printers[0].monitor.probe_now()
        await wait_for(lambda: any("cover-open" in n.params.get("reasons", []) for n in seen))
        status = next(n.params for n in seen if "cover-open" in n.params.get("reasons", []))
        assert status["state"] == "stopped"
        assert status["descriptions"] and "Cover open" in status["descriptions"][0]


async def test_events_iterator(appliance: Appliance) -> None:
    client = unix_client(appliance)
    got: list[object] = []

    async def consume() -> None:
        async for event in client.events():
            got.append(event)

    consumer = asyncio.create_task(consume())
    await asyncio.sleep(0)
    await client.connect(timeout=5)
    await client.subscribe(["queue"])
    await client.close()
    await asyncio.wait_for(consumer, 5)  # ends by itself at close()
    assert any(isinstance(e, Snapshot) for e in got)
    assert isinstance(got[-1], ConnectionState) and got[-1].state == CLOSED


async def test_reconnect_after_server_restart_gives_fresh_snapshot(state_dir: Path) -> None:
    first = Appliance(make_settings(state_dir))
    await first.start()
    snapshots: list[Snapshot] = []
    states: list[str] = []

    def listen(event: object) -> None:
        if isinstance(event, Snapshot):
            snapshots.append(event)
        elif isinstance(event, ConnectionState):
            states.append(event.state)

    # the first retry comes 1.6-2 s after the loss: time enough to restart and submit a job while away
    client = WsClient(socket_path=str(first.settings.socket_path), backoff_initial=2.0, backoff_max=2.0)
    client.add_listener(listen)
    second: Appliance | None = None
    try:
        await client.connect(timeout=5)
        await client.subscribe(TOPICS)
        assert snapshots[-1].data["jobs"] == []
        await first.stop()
        await wait_for(lambda: DISCONNECTED in states)
        with pytest.raises(ConnectionLost):
            await client.call("server.info")
        # a job made while the client was away must be in the fresh snapshot
        second = Appliance(make_settings(state_dir))
        await second.start()
        from rpc.client import RpcClient

        async with RpcClient(socket_path=str(second.settings.socket_path)) as rpc:
            job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "while away"}})
        await wait_for(lambda: len(snapshots) >= 2 and client.connected)
        assert snapshots[-1].generation == 2
        assert [j["id"] for j in snapshots[-1].data["jobs"]] == [job["id"]]
        assert states[-1] == CONNECTED
        assert (await client.call("server.info"))["uptime_s"] < 60
    finally:
        await client.close()
        if second is not None:
            await second.stop()
        await first.stop()


async def test_backoff_is_exponential_and_capped() -> None:
    client = WsClient(socket_path="/nonexistent/rpc.sock", backoff_initial=0.1, backoff_max=1.0)
    delays = [client._backoff(n) for n in range(1, 10)]
    assert delays[0] <= 0.1 and delays[1] <= 0.2 and delays[2] <= 0.4
    assert max(delays) <= 1.0 and delays[-1] >= 0.8


async def test_not_running_reports_state_and_retries() -> None:
    states: list[ConnectionState] = []
    client = WsClient(socket_path="/tmp/no-such-appliance.sock", backoff_initial=0.05, backoff_max=0.1)
    client.add_listener(lambda e: states.append(e) if isinstance(e, ConnectionState) else None)
    with pytest.raises(ConnectionLost):
        await client.connect(timeout=0.5)
    await client.close()
    failed = [s for s in states if s.state == DISCONNECTED]
    assert len(failed) >= 2 and "not running" in failed[0].detail
    assert failed[1].attempt == failed[0].attempt + 1


async def test_clean_close_leaves_no_tasks(appliance: Appliance) -> None:
    before = {t for t in asyncio.all_tasks()}
    client = unix_client(appliance)
    await client.connect(timeout=5)
    await client.subscribe(TOPICS)
    await client.call("server.info")
    await client.close()
    await asyncio.sleep(0.05)
    left = {t for t in asyncio.all_tasks() if t not in before and not t.done()}
    assert not [t for t in left if t.get_name().startswith("ws-client")]
    assert client._session is None and client.state.state == CLOSED
    with pytest.raises(ConnectionLost):
        await client.call("server.info")
    await client.close()  # idempotent


async def make_token(appliance: Appliance, scope: str = "admin") -> str:
    tokens = pytest.importorskip("appliance.store.tokens")  # token auth lands with the server side of /ws

    def create() -> str:  # in a thread: the server's own writer needs the event loop meanwhile
        conn = tokens.connect(appliance.settings.db_path)
        try:
            return str(tokens.create(conn, f"ws-test-{scope}", scope))
        finally:
            conn.close()

    return await asyncio.to_thread(create)


async def test_tcp_with_a_real_token(appliance: Appliance) -> None:
    token = await make_token(appliance)
    async with WsClient(appliance.listeners.url, token=token) as client:
        await client.connect(timeout=5)
        info = await client.call("server.info")
        assert info["caller"]["scope"] == "admin"  # the token was accepted at the handshake
        snapshot = await client.subscribe(TOPICS)
        assert snapshot["printers"][0]["printer_id"] == appliance.printers[0].id
