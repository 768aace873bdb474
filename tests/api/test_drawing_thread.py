"""Labels are drawn off the event loop: a big batch of previews does not hold other callers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from rpc.client import RpcClient
from rpc.errors import RpcError
from tests.support import make_settings, running


async def test_healthz_answers_while_a_batch_of_long_labels_is_drawn(state_dir: Path) -> None:
    # a QL 62 mm roll: the text template's label is ~200 mm long, the slowest label to draw
    settings = make_settings(state_dir, simulator={"model": "QL-820NWB", "tape": "62mm", "speed": "instant"})
    async with running(settings) as app:
        batch = [{"jsonrpc": "2.0", "id": i, "method": "label.preview",
                  "params": {"template": "text", "fields": {"text": f"Cable box {i}", "line2": "Keller 3"}}}
                 for i in range(60)]
        socket = str(app.settings.socket_path)
        async with RpcClient(socket_path=socket) as rpc, \
                aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=socket)) as http:
            drawing = asyncio.ensure_future(rpc.post(batch))
            answered_meanwhile = 0
            while not drawing.done():
                async with http.get("http://appliance/healthz") as response:
                    assert response.status == 200
                if not drawing.done():
                    answered_meanwhile += 1
            answers = await drawing
    assert sorted(a["id"] for a in answers) == list(range(60))
    assert all(a["result"]["length_mm"] > 100 for a in answers)
    # drawn on the loop, the batch let /healthz through twice (before and after drawing); off it,
    # /healthz answers throughout (about 1800 times here): one answer per label is plenty of margin
    assert answered_meanwhile >= len(batch)


async def test_previews_in_flight_when_the_server_stops_are_each_answered(state_dir: Path) -> None:
    from appliance.app import Appliance

    settings = make_settings(state_dir, simulator={"model": "QL-820NWB", "tape": "62mm", "speed": "instant"})
    app = Appliance(settings)
    await app.start()
    try:
        async with RpcClient(socket_path=str(settings.socket_path)) as rpc:
            calls = [asyncio.ensure_future(rpc.call("label.preview", {"template": "text", "fields": {"text": f"B{i}"}}))
                     for i in range(20)]
            await asyncio.sleep(0.05)  # some drawn, some still queued for the drawing thread
            await app.stop()
            answers = await asyncio.gather(*calls, return_exceptions=True)
    finally:
        await app.stop()
    # each call has its label, or was refused in words; before, queued ones were cut off (no answer at all)
    refused = [a for a in answers if isinstance(a, RpcError)]
    assert all(isinstance(a, dict) and a["length_mm"] > 0 for a in answers if not isinstance(a, RpcError)), answers
    assert all(a.code == -32003 and a.data["reason"] == "shutting down" for a in refused), refused
