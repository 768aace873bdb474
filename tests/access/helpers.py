"""Helpers for the access and WebSocket tests: tokens, raw HTTP over TCP, an appliance with chosen auth settings."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from appliance.app import Appliance
from appliance.store import tokens
from tests.support import make_settings

GENEROUS = {"rate_per_s": 100000.0, "rate_burst": 100000, "max_connections_per_address": 10000}


async def make_token(appliance: Appliance, name: str, scope: str = "admin") -> str:
    """As the CLI does it, from another thread (a blocking write on the loop would deadlock with the server's)."""

    def create() -> str:
        conn = tokens.connect(appliance.settings.db_path)
        try:
            return tokens.create(conn, name, scope)
        finally:
            conn.close()

    return await asyncio.to_thread(create)


async def revoke_token(appliance: Appliance, name: str) -> None:
    """As the CLI does it, from another thread: the server's loop must keep running meanwhile."""

    def revoke() -> None:
        conn = tokens.connect(appliance.settings.db_path)
        try:
            tokens.revoke(conn, name)
        finally:
            conn.close()

    await asyncio.to_thread(revoke)


@asynccontextmanager
async def running(state_dir: Path, **auth: Any) -> AsyncIterator[Appliance]:
    """An appliance (embedded instant virtual printer) with these [auth] settings."""
    app = Appliance(make_settings(state_dir, auth={**GENEROUS, **auth}))
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def post_rpc(url: str, payload: Any, headers: dict[str, str] | None = None,
                   session: aiohttp.ClientSession | None = None, path: str = "/rpc") -> tuple[int, Any, Any]:
    """(status, decoded body or None, response headers) of one POST over TCP."""
    own = session is None
    session = session or aiohttp.ClientSession()
    try:
        async with session.post(url + path, data=json.dumps(payload),
                                headers={"Content-Type": "application/json", **(headers or {})}) as response:
            text = await response.text()
            return response.status, (json.loads(text) if text else None), response.headers
    finally:
        if own:
            await session.close()


def unix_session(appliance: Appliance) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=str(appliance.settings.socket_path)))
