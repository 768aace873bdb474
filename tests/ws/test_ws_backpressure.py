"""A client that stops reading never delays another client's notifications; it is told to resync or cut off."""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path
from typing import Any

import aiohttp

from appliance.app import Appliance
from tests.access.helpers import bearer, make_token, running
from tests.ws.helpers import subscribe
from tests.ws.rawws import RawWs

PAD = "x" * 8192  # big events fill a stuck client's socket buffers quickly


def publish(app: Appliance, n: int) -> None:
    app.events.publish("jobs", "notify_job_updated", {"probe": n, "t": time.perf_counter(), "pad": PAD})


class Watcher:
    """A well-behaved client: records each probe's latency from publish to arrival."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.latencies: list[float] = []
        self.probes: list[int] = []
        self.methods: set[str] = set()
        self.task = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            data: Any = message.json()
            self.methods.add(data.get("method"))
            if "probe" in data.get("params", {}):
                self.latencies.append(time.perf_counter() - data["params"]["t"])
                self.probes.append(data["params"]["probe"])

    async def wait_for(self, count: int) -> None:
        for _ in range(500):
            if len(self.probes) >= count:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"only {len(self.probes)} of {count} arrived")


def summary(values: list[float]) -> tuple[float, float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.95)], ordered[-1]


async def run_probes(app: Appliance, watcher: Watcher, start: int, count: int) -> list[float]:
    before = len(watcher.latencies)
    for n in range(start, start + count):
        publish(app, n)
        await asyncio.sleep(0.001)
    await watcher.wait_for(before + count)
    return watcher.latencies[before:]


async def test_a_stuck_client_does_not_delay_others_and_is_cut_off(state_dir: Path) -> None:
    async with running(state_dir, ws_buffer=64) as app, aiohttp.ClientSession() as session:
        app.ws_hub.send_timeout = 1.0
        token = await make_token(app, "watch")
        ws = await session.ws_connect(app.listeners.url + "/ws", headers=bearer(token))
        await subscribe(ws, ["jobs"])
        watcher = Watcher(ws)
        baseline = await run_probes(app, watcher, 0, 300)

        host, port = app.listeners.tcp_addresses[0]
        stuck = await asyncio.to_thread(RawWs, host, port, token)
        await asyncio.to_thread(stuck.send_json, {"jsonrpc": "2.0", "method": "server.subscribe",
                                                  "params": {"topics": ["jobs"]}, "id": 1})
        answer = await asyncio.to_thread(stuck.message)
        assert "snapshot" in answer["result"]  # ... and from now on it reads nothing
        assert app.events.subscriber_count == 2
        with_stuck = await run_probes(app, watcher, 300, 1500)  # ~12 MB: far more than its buffers hold
        for _ in range(300):
            if app.ws_hub.cut_off or app.ws_hub.resyncs:
                break
            await asyncio.sleep(0.01)

        base, during = summary(baseline), summary(with_stuck)
        print(f"\nlatency without a stuck client: median {base[0] * 1000:.2f} ms, p95 {base[1] * 1000:.2f} ms, "
              f"max {base[2] * 1000:.2f} ms; with one: median {during[0] * 1000:.2f} ms, "
              f"p95 {during[1] * 1000:.2f} ms, max {during[2] * 1000:.2f} ms; "
              f"cut off {app.ws_hub.cut_off}, resyncs {app.ws_hub.resyncs}")
        assert watcher.probes == list(range(1800))  # everything, in order, no resync for the good client
        assert "notify_resync" not in watcher.methods
        assert app.ws_hub.cut_off + app.ws_hub.resyncs >= 1
        assert during[0] <= 3 * base[0] + 0.005 and during[1] < 0.1
        for _ in range(100):
            if app.events.subscriber_count == 1:
                break
            await asyncio.sleep(0.01)
        assert app.events.subscriber_count == 1  # the stuck one left nothing behind
        stuck.close()
        await ws.close()
        await watcher.task


async def test_a_slow_client_that_catches_up_is_told_to_resync(state_dir: Path) -> None:
    async with running(state_dir, ws_buffer=16) as app:
        token = await make_token(app, "slow")
        host, port = app.listeners.tcp_addresses[0]
        slow = await asyncio.to_thread(RawWs, host, port, token)
        await asyncio.to_thread(slow.send_json, {"jsonrpc": "2.0", "method": "server.subscribe",
                                                 "params": {"topics": ["jobs"]}, "id": 1})
        await asyncio.to_thread(slow.message)
        session = next(iter(app.ws_hub.sessions))
        n = 0
        while not (session._subscription is None or session._subscription.overflowed):
            publish(app, n)
            n += 1
            await asyncio.sleep(0.0005)
            assert n < 5000, "never overflowed"
        # it reads again: what was on the way, then the resync, and then nothing more of the old stream
        seen: list[Any] = []
        while not seen or seen[-1].get("method") != "notify_resync":
            seen.append(await asyncio.to_thread(slow.message))
        dropped = seen[-1]["params"]["dropped"]
        assert dropped >= 1 and len(seen) - 1 + dropped <= n
        assert [m["params"]["probe"] for m in seen[:-1]] == list(range(len(seen) - 1))  # in order, no gaps
        assert app.events.subscriber_count == 0 and app.ws_hub.resyncs == 1

        await asyncio.to_thread(slow.send_json, {"jsonrpc": "2.0", "method": "server.subscribe",
                                                 "params": {"topics": ["jobs"]}, "id": 2})
        again = await asyncio.to_thread(slow.message)
        assert again["id"] == 2 and "snapshot" in again["result"]
        publish(app, 10_000)
        after = await asyncio.to_thread(slow.message)
        assert after["params"]["probe"] == 10_000
        slow.close()
