"""The real TUI (Pilot) over https:// after pinning: it connects, and its status bar shows the fingerprint."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from appliance.store import tokens as token_store
from rpc.trust import ssl_for
from tests.support import make_settings, running
from tests.tui.helpers import SIZE, connected, text_of
from tui.app import ApplianceApp
from tui.config import Target


def create_token(db: Path) -> str:
    conn = token_store.connect(db)
    try:
        return token_store.create(conn, "tui", "read")
    finally:
        conn.close()


async def test_tui_connects_over_tls_after_pinning_and_shows_the_fingerprint(
        state_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    async with running(make_settings(state_dir, server={"tls": "self-signed"})) as appliance:
        token = await asyncio.to_thread(create_token, appliance.settings.db_path)
        url = appliance.listeners.url
        await ssl_for(url, fingerprint=appliance.tls.fingerprint)  # what `appliance tui --fingerprint` does first
        app = ApplianceApp(Target(url, None, token), backoff_initial=0.05, backoff_max=0.3)
        async with app.run_test(size=(140, SIZE[1])) as pilot:
            await connected(pilot)
            for _ in range(100):
                if app.tls_fingerprint:
                    break
                await pilot.pause(0.05)
            await pilot.pause(0.1)
            bar = text_of(app, "#status-bar")
            assert "connected" in bar and appliance.tls.fingerprint in bar, bar
            await app.action_quit()
