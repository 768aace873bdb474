"""WebSocket helpers for the /ws tests."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import aiohttp

ALL_TOPICS = ["printers", "jobs", "queue"]


async def send(ws: aiohttp.ClientWebSocketResponse, method: str, params: Any = None, id: Any = 1) -> None:
    request: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": id}
    if params is not None:
        request["params"] = params
    await ws.send_str(json.dumps(request))


async def receive(ws: aiohttp.ClientWebSocketResponse, timeout: float = 5.0) -> Any:
    message = await ws.receive(timeout=timeout)
    if message.type != aiohttp.WSMsgType.TEXT:
        raise ConnectionError(f"{message.type.name} {ws.close_code}")
    return json.loads(message.data)


async def collect(ws: aiohttp.ClientWebSocketResponse, until: Callable[[Any], bool],
                  timeout: float = 10.0) -> list[Any]:
    """Every message up to and including the first one `until` accepts."""
    deadline = time.monotonic() + timeout
    seen = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"not seen in {timeout} s; got {[m.get('method', 'answer') for m in seen]}")
        message = await receive(ws, left)
        seen.append(message)
        if until(message):
            return seen


async def subscribe(ws: aiohttp.ClientWebSocketResponse, topics: list[str] = ALL_TOPICS, id: Any = "sub") -> Any:
    await send(ws, "server.subscribe", {"topics": topics}, id)
    answer = await receive(ws)
    assert answer.get("id") == id, answer  # the answer comes before any notification
    return answer["result"]

