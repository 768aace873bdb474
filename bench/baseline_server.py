"""The RPC baseline: a bare aiohttp + jsonrpcserver (its async `dispatch`) `ping` handler.

    python -m bench.baseline_server   → prints "http://127.0.0.1:PORT" once listening, runs until SIGTERM

The floor any aiohttp JSON-RPC server pays: HTTP parsing, JSON in and out, a method lookup.
No middleware, no logging, no auth: the appliance adds all three and should still keep up.
"""

from __future__ import annotations

import asyncio
import signal

from aiohttp import web
from jsonrpcserver import Result, Success, async_dispatch, method


@method
async def ping() -> Result:
    return Success("pong")


async def handle(request: web.Request) -> web.Response:
    answer = await async_dispatch(await request.text())
    return web.Response(text=answer, content_type="application/json")


async def serve() -> None:
    app = web.Application()
    app.router.add_post("/rpc", handle)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(f"http://127.0.0.1:{port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(serve())
