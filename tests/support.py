"""Helpers shared by the tests (importable as `tests.support`)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from appliance.config import Settings, load
from appliance.simulator.cli import announced_ports

REPO = Path(__file__).resolve().parents[1]
TESTDATA = REPO / "tests" / "data"  # the vectors live in the repository (see tests/data/README.md)


def make_settings(state_dir: Path, **sections: dict[str, Any]) -> Settings:
    """Settings as a fresh install would have them, in a temp state dir, on a free loopback port."""
    overrides: dict[str, dict[str, Any]] = {"server": {"state_dir": str(state_dir), "listen": "127.0.0.1:0"},
                                            "simulator": {"speed": "instant"}}
    for name, values in sections.items():
        overrides.setdefault(name, {}).update(values)
    return load(None, env={}, overrides=overrides)



def printer_table(name: str, model: str, uri: str, media: str, *, snmp: dict[str, Any] | None = None,
                  **values: Any) -> str:
    """One `[[printers]]` table of a config file (and its `[printers.snmp]`), values written as JSON (valid TOML)."""
    lines = ["[[printers]]", *(f"{k} = {json.dumps(v)}" for k, v in
                               {"name": name, "model": model, "uri": uri, "media": media, **values}.items())]
    if snmp:
        lines += ["[printers.snmp]", *(f"{k} = {json.dumps(v)}" for k, v in snmp.items())]
    return "\n".join(lines) + "\n"


def configured(state_dir: Path, config_dir: Path, *tables: str) -> Settings:
    """Settings from a config file of these tables (see printer_table), state in `state_dir`, on a free port."""
    config = config_dir / "appliance.toml"
    config.write_text("".join(tables))
    return load(config, env={}, overrides={"server": {"state_dir": str(state_dir), "listen": "127.0.0.1:0"}})


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Any]:
    """A real appliance started in this event loop, stopped afterwards whatever happens."""
    from appliance.app import Appliance

    app = Appliance(settings)
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPLIANCE_")}
    env.update(extra)
    return env


PYTHON = sys.executable


def start_server(state_dir: Path, *extra: str, env: dict[str, str] | None = None,
                 timeout: float = 30.0) -> tuple[subprocess.Popen[str], str]:
    """`appliance serve` as a real process on a free port; returns it and its URL once it is ready."""
    ready = state_dir / "ready"
    ready.unlink(missing_ok=True)
    process = subprocess.Popen(
        [PYTHON, "-m", "appliance.cli", "serve", "--state-dir", str(state_dir), "--listen", "127.0.0.1:0",
         "--ready-file", str(ready), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env or cli_env(APPLIANCE_SIMULATOR_SPEED="instant", APPLIANCE_LOG_FORMAT="json"),
    )
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            _, err = process.communicate()
            raise AssertionError(f"server did not start: {err[-2000:]}")
        time.sleep(0.05)
    return process, ready.read_text()


def stop_server(process: subprocess.Popen[str], sig: int = signal.SIGTERM) -> tuple[int, str]:
    process.send_signal(sig)
    _, err = process.communicate(timeout=60)
    return process.returncode, err


def start_simulator(out_dir: Path, *extra: str) -> tuple[subprocess.Popen[str], int, int]:
    """A standalone `appliance simulate` process; returns it with its raster and SNMP ports."""
    process = subprocess.Popen(
        [PYTHON, "-m", "appliance.cli", "simulate", "--listen", "127.0.0.1:0", "--snmp", "127.0.0.1:0",
         "--out", str(out_dir), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env())
    assert process.stdout is not None
    raster, snmp = announced_ports(process.stdout.readline, timeout=20)
    if raster is None or snmp is None:
        process.kill()
        raise AssertionError(f"simulator did not start: {process.stderr.read() if process.stderr else ''}")
    return process, raster, snmp


def damage_page(db: Path, name: str, *, first_leaf: bool = False) -> None:
    """Overwrite the first page of table or index `name` in the SQLite file `db` with bytes that are no
    b-tree page, as a bad SD card sector leaves it. The file must have no WAL left (a server stopped).

    `first_leaf`: its leftmost leaf page instead (the root must be an interior page: a b-tree of more
    than one page), so only what sorts first in it is lost and the rest still reads."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(db)) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        if first_leaf:
            leaves = conn.execute("SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY path",
                                  (name,)).fetchall()
            assert len(leaves) > 1, f"{name} has {len(leaves)} leaf page(s): damaging it would damage all of it"
            page = leaves[0][0]
        else:
            page = conn.execute("SELECT rootpage FROM sqlite_schema WHERE name = ?", (name,)).fetchone()[0]
    with db.open("r+b") as file:
        file.seek((page - 1) * page_size)
        file.write(bytes(range(256)) * (page_size // 256))


def grow_history(db: Path, past_bytes: int) -> None:
    """Completed jobs, each with a raster, a preview and a timeline step, added until the file is larger than
    `past_bytes`, as a box that printed for weeks has them (SQL alone: no server draws them)."""
    import sqlite3

    at = "2026-01-01T00:00:00Z"
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("INSERT OR IGNORE INTO printers (id, name, model, uri, created_at, updated_at) "
                     "VALUES ('history', 'history', 'PT-P750W', 'tcp://192.0.2.1', ?, ?)", (at, at))
        conn.executemany("INSERT INTO jobs (printer_id, state, template, template_version, media, created_at, "
                         "updated_at) VALUES ('history', 'completed', 'text', 1, 'tze-12', ?, ?)",
                         [(at, at)] * (past_bytes // 12_000 + 50))
        conn.execute("INSERT INTO job_artifacts (job_id, raster, preview, sha256) SELECT id, randomblob(11000), "
                     "randomblob(1000), 'x' FROM jobs WHERE printer_id = 'history'")
        conn.execute("INSERT INTO job_events (job_id, at, event, state) "
                     "SELECT id, created_at, 'completed', 'completed' FROM jobs WHERE printer_id = 'history'")
    assert db.stat().st_size > past_bytes
