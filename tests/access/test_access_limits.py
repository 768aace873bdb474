"""Rate limits per address and per token, the per-address connection cap; the unix socket is never limited."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from appliance.web.limits import ConnectionCounter, RateLimiter
from tests.access.helpers import bearer, make_token, post_rpc, running, unix_session

PING = {"jsonrpc": "2.0", "method": "printer.status", "id": 1}


def from_address(host: str) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(host, 0)))


def test_token_bucket_refills_at_its_rate() -> None:
    bucket = RateLimiter(rate=10.0, burst=3)
    assert [bucket.take("k", now=100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = bucket.take("k", now=100.0)
    assert 0.09 < wait <= 0.1
    assert bucket.take("k", now=100.11) == 0.0  # one token back after 1/rate
    assert bucket.take("other", now=100.11) == 0.0  # keys are independent


def test_a_bucket_gives_several_units_at_once_or_says_when() -> None:
    bucket = RateLimiter(rate=10.0, burst=5)
    assert bucket.take("k", now=0.0, units=3) == 0.0
    assert abs(bucket.take("k", now=0.0, units=3) - 0.1) < 1e-9  # 2 left: one more comes in 1/rate
    assert bucket.take("k", now=0.1, units=3) == 0.0
    assert bucket.take("k", now=9.0, units=6) == float("inf")  # more than the burst: never at once


def test_idle_buckets_are_pruned() -> None:
    bucket = RateLimiter(rate=100.0, burst=2)
    for n in range(RateLimiter.PRUNE_EVERY - 1):
        bucket.take(f"scan-{n}", now=0.0)
    bucket.take("late", now=10.0)  # the 1024th new key prunes buckets full again long ago
    assert len(bucket) == 1


def test_connection_counter_caps_and_forgets() -> None:
    counter = ConnectionCounter(limit=2)
    assert counter.acquire("a") and counter.acquire("a") and not counter.acquire("a")
    assert counter.acquire("b")
    counter.release("a")
    assert counter.acquire("a")
    for _ in range(2):
        counter.release("a")
    counter.release("b")
    assert len(counter) == 0


async def test_rate_limit_per_address_answers_32005_with_retry_after(state_dir: Path) -> None:
    async with running(state_dir, rate_per_s=2.0, rate_burst=3) as app:
        token = await make_token(app, "busy")
        async with aiohttp.ClientSession() as session:
            statuses = [(await post_rpc(app.listeners.url, PING, bearer(token), session))[0] for _ in range(3)]
            assert statuses == [200, 200, 200]
            status, answer, headers = await post_rpc(app.listeners.url, PING, bearer(token), session)
        assert status == 429
        assert answer["error"]["code"] == -32005 and answer["id"] is None
        assert 0 < answer["error"]["data"]["retry_after_s"] <= 0.5
        assert headers["Retry-After"] == "1"
        # unauthenticated floods are limited too (before any token lookup)
        status, answer, _ = await post_rpc(app.listeners.url, PING)
        assert status == 429 and answer["error"]["code"] == -32005
        # another address (with another token: this one's bucket is empty too) has its own bucket
        async with from_address("127.0.0.2") as other:
            status, _, _ = await post_rpc(app.listeners.url, PING, bearer(await make_token(app, "fresh")), other)
        assert status == 200
        # the unix socket is never limited
        async with unix_session(app) as session:
            for _ in range(50):
                async with session.post("http://localhost/rpc", json=PING) as response:
                    assert response.status == 200 and "result" in await response.json()


async def test_rate_limit_per_token_spans_addresses(state_dir: Path) -> None:
    async with running(state_dir, rate_per_s=1.0, rate_burst=2) as app:
        token = await make_token(app, "shared")
        other = await make_token(app, "other")
        async with from_address("127.0.0.2") as first, from_address("127.0.0.3") as second:
            assert (await post_rpc(app.listeners.url, PING, bearer(token), first))[0] == 200
            assert (await post_rpc(app.listeners.url, PING, bearer(token), second))[0] == 200
            # each address has spent one of its two; the token has spent both of its own
            status, answer, _ = await post_rpc(app.listeners.url, PING, bearer(token), first)
            assert status == 429 and answer["error"]["code"] == -32005
            assert (await post_rpc(app.listeners.url, PING, bearer(other), second))[0] == 200


async def test_concurrent_connections_per_address_are_capped(state_dir: Path) -> None:
    async with running(state_dir, max_connections_per_address=2) as app:
        token = await make_token(app, "many")
        async with aiohttp.ClientSession() as session:
            first = await session.ws_connect(app.listeners.url + "/ws", headers=bearer(token))
            second = await session.ws_connect(app.listeners.url + "/ws", headers=bearer(token))
            async with session.get(app.listeners.url + "/ws", headers=bearer(token)) as refused:
                assert refused.status == 429
                answer = await refused.json()
            assert answer["error"]["code"] == -32005 and answer["error"]["data"]["field"] == "connections"
            status, _, _ = await post_rpc(app.listeners.url, PING, bearer(token), session)
            assert status == 429  # a plain request is a connection too
            async with from_address("127.0.0.2") as other:
                assert (await post_rpc(app.listeners.url, PING, bearer(token), other))[0] == 200
            await first.close()
            for _ in range(50):  # the server notices the close asynchronously
                if app.access.connections.count("127.0.0.1") < 2:
                    break
                await asyncio.sleep(0.01)
            status, _, _ = await post_rpc(app.listeners.url, PING, bearer(token), session)
            assert status == 200
            await second.close()


def batch(method: str, n: int, params: dict[str, object] | None = None) -> list[dict[str, object]]:
    return [{"jsonrpc": "2.0", "method": method, "id": i, **({"params": params} if params else {})} for i in range(n)]


async def test_a_batch_pays_one_unit_per_call_over_http_and_websocket(state_dir: Path) -> None:
    async with running(state_dir, rate_per_s=0.5, rate_burst=5) as app:
        token = await make_token(app, "batcher")
        url = app.listeners.url
        async with aiohttp.ClientSession() as session:
            status, answer, headers = await post_rpc(url, batch("printer.status", 6), bearer(token), session)
            assert status == 429 and "Retry-After" not in headers  # more than the burst: never as one batch
            assert answer["error"]["data"]["field"] == "batch" and "at most 5" in answer["error"]["data"]["reason"]
            status, answer, _ = await post_rpc(url, batch("printer.status", 3), bearer(token), session)
            assert status == 200 and len(answer) == 3  # 1 unit went on the refused request; 4 - 3 = 1 left
            submit = batch("print.submit", 3, {"template": "text", "fields": {"text": "not now"}})
            status, answer, headers = await post_rpc(url, submit, bearer(token), session)
            assert status == 429 and answer["error"]["code"] == -32005 and headers["Retry-After"] == "4"
        async with unix_session(app) as local:  # nothing of the refused batch ran
            async with local.post("http://localhost/rpc", json=batch("job.list", 1)[0]) as response:
                assert (await response.json())["result"]["jobs"] == []
            async with local.post("http://localhost/rpc", json=batch("printer.status", 20)) as response:
                assert len(await response.json()) == 20  # the unix socket is never limited

    async with running(state_dir, rate_per_s=0.5, rate_burst=5) as app:
        token = await make_token(app, "ws-batcher")
        async with aiohttp.ClientSession() as session:
            ws = await session.ws_connect(app.listeners.url + "/ws", headers=bearer(token))
            await ws.send_json(batch("printer.status", 4))
            assert all("result" in a for a in await ws.receive_json(timeout=5))
            await ws.send_json(batch("printer.status", 3))
            refused = await ws.receive_json(timeout=5)
            assert [a["id"] for a in refused] == [0, 1, 2] and all(a["error"]["code"] == -32005 for a in refused)
            await ws.close()
