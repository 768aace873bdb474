"""GET /ws: JSON-RPC over the WebSocket, server.subscribe, ordered notifications, limits, revocation, shutdown."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import pytest

from appliance.app import Appliance
from rpc.client import RpcClient
from tests.access.helpers import bearer, make_token, revoke_token, running, unix_session
from tests.ws.helpers import ALL_TOPICS, collect, receive, send, subscribe

JOB = {"template": "text", "fields": {"text": "ws"}}


async def test_rpc_over_ws_single_batch_notification_and_parse_error(appliance: Appliance) -> None:
    async with unix_session(appliance) as session, session.ws_connect("http://localhost/ws") as ws:
        await send(ws, "server.info", id=1)
        info = await receive(ws)
        assert info["id"] == 1 and info["result"]["caller"] == {"transport": "ws", "scope": "trusted"}
        await ws.send_str(json.dumps([{"jsonrpc": "2.0", "method": "printer.status", "id": "a"},
                                      {"jsonrpc": "2.0", "method": "queue.status"},  # a notification: no answer
                                      {"jsonrpc": "2.0", "method": "job.get", "params": {"job_id": 999}, "id": "b"}]))
        batch = await receive(ws)
        assert [m["id"] for m in batch] == ["a", "b"]
        assert batch[0]["result"]["printer_id"] == appliance.printers[0].id
        assert batch[1]["error"]["code"] == -32002
        await ws.send_str("{not json")
        answer = await receive(ws)
        assert answer["error"]["code"] == -32700 and answer["error"]["message"] == "Parse error"
        assert answer["id"] is None


async def test_subscribe_over_http_says_it_needs_the_websocket(client: RpcClient) -> None:
    answer = await client.post({"jsonrpc": "2.0", "method": "server.subscribe", "params": {"topics": ["jobs"]},
                                "id": 1})
    assert answer["error"]["code"] == -32003
    assert "/ws" in answer["error"]["message"] and answer["error"]["data"]["field"] == "transport"


async def test_snapshot_first_then_a_printed_job_in_order(appliance: Appliance) -> None:
    async with unix_session(appliance) as session, session.ws_connect("http://localhost/ws") as ws:
        result = await subscribe(ws)
        assert result["topics"] == ALL_TOPICS
        snapshot = result["snapshot"]
        assert [p["printer_id"] for p in snapshot["printers"]] == [appliance.printers[0].id]
        assert {"state", "reasons", "media", "paused", "name"} <= set(snapshot["printers"][0])
        assert snapshot["jobs"] == [] and set(snapshot["queue"]) == {"printers", "totals", "batches"}

        await send(ws, "print.submit", JOB, id="p")
        seen = await collect(ws, lambda m: m.get("method") == "notify_job_updated"
                             and m["params"]["state"] == "completed")
        answer = next(m for m in seen if m.get("id") == "p")
        job_id = answer["result"]["id"]
        states = [m["params"]["state"] for m in seen
                  if m.get("method") == "notify_job_updated" and m["params"]["id"] == job_id]
        distinct = [s for n, s in enumerate(states) if n == 0 or states[n - 1] != s]
        assert distinct == ["pending", "processing", "completed"]
        assert any(m.get("method") == "notify_queue_changed" for m in seen) or await collect(
            ws, lambda m: m.get("method") == "notify_queue_changed", timeout=2.0)

        # a fresh subscription's snapshot now lists the job, newest first
        again = await subscribe(ws, ["jobs"], id="again")
        assert again["snapshot"]["jobs"][0]["id"] == job_id and again["snapshot"]["jobs"][0]["state"] == "completed"


async def test_cover_opening_is_pushed(appliance: Appliance) -> None:
    async with unix_session(appliance) as session, session.ws_connect("http://localhost/ws") as ws:
        await subscribe(ws, ["printers"])
        appliance.simulator.printer.update(cover_open=True)
        await appliance.printers[0].monitor.probe_now()
        seen = await collect(ws, lambda m: m.get("method") == "notify_printer_status"
                             and m["params"]["reasons"] == ["cover-open"])
        assert seen[-1]["params"]["printer_id"] == appliance.printers[0].id
        appliance.simulator.printer.update(cover_open=False)
        await appliance.printers[0].monitor.probe_now()
        await collect(ws, lambda m: m.get("method") == "notify_printer_status" and m["params"]["reasons"] == [])


async def test_resubscribing_replaces_the_topics(appliance: Appliance) -> None:
    await appliance.printers[0].monitor.probe_now()  # the first status after start lands now, not mid-test
    async with unix_session(appliance) as session, session.ws_connect("http://localhost/ws") as ws:
        await subscribe(ws, ["printers"])
        await subscribe(ws, ["jobs", "jobs"], id="replace")
        assert appliance.events.subscriber_count == 1
        appliance.simulator.printer.update(cover_open=True)
        await appliance.printers[0].monitor.probe_now()
        appliance.simulator.printer.update(cover_open=False)
        await appliance.printers[0].monitor.probe_now()
        await send(ws, "print.submit", JOB, id="p")
        seen = await collect(ws, lambda m: m.get("method") == "notify_job_updated"
                             and m["params"]["state"] == "completed")
        # the printer changes came first; had they been delivered, they would be here
        assert {m.get("method") for m in seen} == {None, "notify_job_updated"}
    for _ in range(100):
        if appliance.events.subscriber_count == 0:
            break
        await asyncio.sleep(0.01)
    assert appliance.events.subscriber_count == 0


async def test_subscriber_cap_answers_clearly(state_dir: Path) -> None:
    async with running(state_dir, max_subscribers=2) as app, unix_session(app) as session:
        sockets = [await session.ws_connect("http://localhost/ws") for _ in range(3)]
        await subscribe(sockets[0])
        await subscribe(sockets[1])
        await send(sockets[2], "server.subscribe", {"topics": ["jobs"]})
        refused = await receive(sockets[2])
        assert refused["error"]["code"] == -32003
        assert refused["error"]["data"] == {"field": "topics", "reason": "subscriber limit of 2 reached"}
        await sockets[0].close()
        for _ in range(100):
            if app.events.subscriber_count < 2:
                break
            await asyncio.sleep(0.01)
        assert (await subscribe(sockets[2]))["topics"] == ALL_TOPICS
        for ws in sockets:
            await ws.close()


async def test_messages_over_the_size_limit_close_the_connection(state_dir: Path) -> None:
    async with running(state_dir, ws_max_message_bytes=1024) as app, unix_session(app) as session:
        ws = await session.ws_connect("http://localhost/ws")
        await send(ws, "server.info", {"pad": "x" * 2000})
        message = await ws.receive(timeout=5)
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert ws.close_code == 1009  # message too big
        small = await session.ws_connect("http://localhost/ws")
        await send(small, "server.info")
        assert "result" in await receive(small)
        await small.close()


async def test_ws_over_tcp_needs_a_token_at_the_handshake(state_dir: Path) -> None:
    async with running(state_dir) as app, aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(app.listeners.url + "/ws", headers=bearer("la_" + "x" * 43))
        assert refused.value.status == 401
        token = await make_token(app, "reader", "read")
        async with session.ws_connect(app.listeners.url + "/ws", headers={"X-Api-Key": token}) as ws:
            await send(ws, "server.info")
            assert (await receive(ws))["result"]["caller"] == {"transport": "ws", "scope": "read"}
            await send(ws, "print.submit", JOB, id=2)
            assert (await receive(ws))["error"]["code"] == -32001
            assert (await subscribe(ws))["topics"] == ALL_TOPICS  # reading is allowed


async def test_a_revoked_token_closes_its_websocket(state_dir: Path) -> None:
    async with running(state_dir) as app, aiohttp.ClientSession() as session:
        token = await make_token(app, "short-lived")
        ws = await session.ws_connect(app.listeners.url + "/ws", headers=bearer(token))
        await subscribe(ws, ["jobs"])
        await revoke_token(app, "short-lived")
        await asyncio.sleep(1.1)
        app.events.publish("jobs", "notify_job_updated", {"id": 0, "state": "pending"})  # not delivered any more
        message = await ws.receive(timeout=5)
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), message
        assert ws.close_code == 4001
        await ws.close()


async def test_rate_limit_applies_to_ws_messages(state_dir: Path) -> None:
    async with running(state_dir, rate_per_s=1.0, rate_burst=3) as app, aiohttp.ClientSession() as session:
        token = await make_token(app, "chatty")
        async with session.ws_connect(app.listeners.url + "/ws", headers=bearer(token)) as ws:  # 1 of 3
            await send(ws, "server.info", id=1)
            assert "result" in await receive(ws)
            await send(ws, "server.info", id=2)
            assert "result" in await receive(ws)
            await send(ws, "server.info", id=3)
            limited = await receive(ws)
            assert limited["id"] == 3 and limited["error"]["code"] == -32005
            assert limited["error"]["data"]["retry_after_s"] > 0


async def test_dead_peers_are_found_by_heartbeat(appliance: Appliance) -> None:
    from tests.ws.rawws import RawWs

    appliance.ws_hub.heartbeat = 0.2
    token = await make_token(appliance, "silent")
    host, port = appliance.listeners.tcp_addresses[0]
    raw = await asyncio.to_thread(RawWs, host, port, token)  # answers no ping, ever
    try:
        assert raw.status == 101
        for _ in range(100):
            if appliance.ws_hub.opened and not appliance.ws_hub.sessions:
                break
            await asyncio.sleep(0.05)
        assert appliance.ws_hub.opened == 1 and not appliance.ws_hub.sessions
    finally:
        raw.close()


async def test_shutdown_tells_clients_we_are_going_away(state_dir: Path) -> None:
    async with running(state_dir) as app, unix_session(app) as session:
        ws = await session.ws_connect("http://localhost/ws")
        await subscribe(ws)
        stopping = asyncio.get_running_loop().create_task(app.stop())
        message = await ws.receive(timeout=5)
        assert message.type == aiohttp.WSMsgType.CLOSE and message.data == 1001
        await ws.close()
        await asyncio.wait_for(stopping, 15)
        assert ws.closed and not app.ws_hub.sessions


async def test_no_event_of_a_replaced_topic_follows_the_resubscribe_answer(appliance: Appliance) -> None:
    """Printer status changes race the switch from "printers" to "jobs", thirty times over.

    An event may arrive before the answer to the re-subscribe (its old subscription was live until
    then); none may arrive after it. A later call's answer marks how long to look.
    """
    monitor, printer = appliance.printers[0].monitor, appliance.simulator.printer
    churning = True

    async def churn() -> None:
        cover = False
        while churning:
            cover = not cover
            printer.update(cover_open=cover)
            await monitor.probe_now()
            await asyncio.sleep(0)

    before_answer = 0
    async with unix_session(appliance) as session, session.ws_connect("http://localhost/ws") as ws:
        task = asyncio.create_task(churn())
        try:
            for i in range(30):
                await send(ws, "server.subscribe", {"topics": ["printers"]}, id=f"printers-{i}")
                await collect(ws, lambda m, i=i: m.get("id") == f"printers-{i}")
                await asyncio.sleep(0.003)  # let status events queue up on the printers subscription
                await send(ws, "server.subscribe", {"topics": ["jobs"]}, id=f"jobs-{i}")
                seen = await collect(ws, lambda m, i=i: m.get("id") == f"jobs-{i}")
                before_answer += sum(m.get("method") == "notify_printer_status" for m in seen)
                await asyncio.sleep(0.003)
                await send(ws, "queue.status", id=f"mark-{i}")
                after = await collect(ws, lambda m, i=i: m.get("id") == f"mark-{i}")
                assert [m.get("method") for m in after if "method" in m] == [], after
        finally:
            churning = False
            await task
    assert before_answer > 0  # the race was real: events of the old topic were in flight
