"""yoyo migrations on a real SQLite file: up → down → up, and the CLI around it."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

from appliance.store import migrate
from tests.support import PYTHON, cli_env


def tables(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
                if not r[0].startswith(("_yoyo", "yoyo", "sqlite_"))}


def test_up_down_up(tmp_path: Path) -> None:
    db = tmp_path / "appliance.db"
    applied = migrate.up(db)
    assert applied[0] == "0001_initial"
    assert {"printers", "jobs", "job_artifacts", "job_events", "api_tokens"} <= tables(db)
    assert migrate.status(db).at_head
    every = migrate.status(db).applied
    rolled = migrate.down(db, steps=len(every))
    assert rolled == list(reversed(every))
    assert tables(db) == set()
    assert not migrate.status(db).at_head
    migrate.up(db)
    assert migrate.status(db).at_head and "jobs" in tables(db)


def test_ensure_head_is_idempotent(tmp_path: Path) -> None:
    db = tmp_path / "appliance.db"
    first = migrate.ensure_head(db)
    second = migrate.ensure_head(db)
    assert first.applied == second.applied and second.at_head


def test_migrate_command(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([PYTHON, "-m", "appliance.cli", "migrate", *args, "--state-dir", str(tmp_path)],
                              capture_output=True, text=True, timeout=60, env=cli_env())

    status = run("status")
    assert status.returncode == 0 and "pending  0001_initial" in status.stdout
    up = run("up")
    assert up.returncode == 0 and "at head" in up.stdout
    down = run("down")
    assert down.returncode == 0 and "rolled back:" in down.stdout and "pending" in down.stdout
