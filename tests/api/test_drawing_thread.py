"""Labels are drawn off the event loop: a big batch of previews does not hold other callers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from rpc.client import RpcClient
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
