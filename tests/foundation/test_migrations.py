"""yoyo migrations on a real SQLite file: up → down → up, and the CLI around it."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import subprocess
from pathlib import Path

import pytest

from appliance.state_lock import StateLock
from appliance.store import migrate
from tests.support import PYTHON, cli_env, damage_page, grow_history


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

    status = run("status")  # a status creates nothing: a mistyped --state-dir is not a new database
    assert status.returncode == 1 and "no database at" in status.stderr, status
    assert not (tmp_path / "appliance.db").exists()
    up = run("up")
    assert up.returncode == 0 and "at head" in up.stdout
    down = run("down")
    assert down.returncode == 0 and "rolled back:" in down.stdout and "pending" in down.stdout
    for steps in ("-1", "0"):  # -1 used to roll back all but one
        refused = run("down", "--steps", steps)
        assert refused.returncode == 2 and "1 or more" in refused.stderr, refused
    everything = run("down", "--steps", "99")  # would drop every table, tokens and jobs included
    assert everything.returncode == 1 and "would delete every table" in everything.stderr
    assert {"jobs", "api_tokens"} <= tables(tmp_path / "appliance.db")


def test_a_database_from_a_newer_version_is_refused_not_used(tmp_path: Path) -> None:
    db = tmp_path / "appliance.db"
    migrate.up(db)
    with sqlite3.connect(db) as conn:  # as a later version would leave it
        conn.execute("INSERT INTO _yoyo_migration (migration_hash, migration_id, applied_at_utc)"
                     " VALUES ('x', '0099_future', '2027-01-01 00:00:00')")
    conn.close()
    assert migrate.status(db).unknown == ("0099_future",)
    with pytest.raises(migrate.MigrationError) as refused:
        migrate.ensure_head(db)  # what every start does
    assert "newer version" in str(refused.value) and "0099_future" in str(refused.value)
    with pytest.raises(migrate.MigrationError):
        migrate.up(db)
    shown = subprocess.run([PYTHON, "-m", "appliance.cli", "migrate", "status", "--state-dir", str(tmp_path)],
                           capture_output=True, text=True, timeout=60, env=cli_env())
    assert "unknown  0099_future" in shown.stdout and "newer than this version" in shown.stdout


def test_our_migration_ids_are_yoyos() -> None:
    from yoyo import read_migrations

    assert migrate.migration_ids() == [m.id for m in read_migrations(str(migrate.migrations_dir()))]


def test_ensure_head_at_head_agrees_with_yoyo_without_loading_it(tmp_path: Path) -> None:
    db = tmp_path / "appliance.db"
    migrate.up(db)
    script = ("import json, sys; from pathlib import Path; from appliance.store import migrate; "
              f"s = migrate.ensure_head(Path({str(db)!r})); "
              "print(json.dumps([s.applied, s.pending, 'yoyo' in sys.modules]))")
    found = subprocess.run([PYTHON, "-c", script], capture_output=True, text=True, timeout=60, env=cli_env())
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout) == [migrate.status(db).applied, [], False]


def test_ensure_head_applies_what_a_rollback_removed(tmp_path: Path) -> None:
    db = tmp_path / "appliance.db"
    migrate.up(db)
    migrate.down(db, steps=len(migrate.status(db).applied))
    assert tables(db) == set()
    state = migrate.ensure_head(db)  # yoyo's tables exist but record nothing: the full path runs
    assert state.at_head and "jobs" in tables(db)
    assert migrate.status(db).at_head


def test_a_state_dir_with_url_characters_is_migrated_in_place(tmp_path: Path) -> None:
    db = tmp_path / "bins #3 ?a=b %20" / "appliance.db"
    state = migrate.ensure_head(db)
    assert state.at_head and "jobs" in tables(db)
    assert migrate.applied_ids(db) == set(state.applied)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bins #3 ?a=b %20"]  # nothing written beside it


def test_a_damaged_database_file_says_how_to_recover(tmp_path: Path) -> None:
    db = tmp_path / "appliance.db"
    db.write_bytes(b"\x00garbage" * 1000)  # what a pulled SD card can leave
    with pytest.raises(migrate.MigrationError) as damaged:
        migrate.ensure_head(db)
    assert "restore a backup" in str(damaged.value)


def _large_database(db: Path) -> None:
    """At head, with jobs and their rasters past FULL_CHECK_MAX_BYTES, as a box that printed for weeks."""
    from appliance.store.db import FULL_CHECK_MAX_BYTES

    migrate.up(db)
    grow_history(db, FULL_CHECK_MAX_BYTES)
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("INSERT INTO api_tokens (name, scope, token_hash, created_at) "
                     "VALUES ('ops', 'admin', 'h', '2026-01-01T00:00:00Z')")


@pytest.mark.parametrize("page", ["sqlite_autoindex__yoyo_migration_1", "sqlite_autoindex_api_tokens_2", "_yoyo_log"])
def test_a_damaged_page_outside_the_history_of_a_large_file_is_found_at_start(tmp_path: Path, page: str) -> None:
    # a large file is not checked whole (its job history would cost seconds on a Pi): the rest still is
    db = tmp_path / "appliance.db"
    _large_database(db)
    migrate.ensure_head(db)
    damage_page(db, page)
    with pytest.raises(migrate.MigrationError) as damaged:
        migrate.ensure_head(db)  # before: at head, so nothing read but the list of migrations
    assert "the file is damaged; restore a backup made with `appliance backup`" in str(damaged.value)


def _cut_short_with_its_lock_left(db: Path) -> None:
    migrate.up(db)
    migrate.down(db)
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:  # as a power cut during a migration leaves it
        conn.execute("INSERT INTO yoyo_lock (locked, ctime, pid) VALUES (1, '2026-01-01 00:00:00', 4242)")


def test_a_lock_left_by_a_migration_cut_short_does_not_stop_the_next_start(tmp_path: Path) -> None:
    db = tmp_path / "appliance.db"
    _cut_short_with_its_lock_left(db)
    lock = StateLock(tmp_path)  # as `appliance serve` and `appliance migrate up` hold it
    lock.acquire()
    try:
        # before: yoyo waited 10 s for pid 4242, then "Process 4242 has locked this database (run yoyo break-lock …)"
        assert migrate.ensure_head(db).at_head
    finally:
        lock.release()
    with contextlib.closing(sqlite3.connect(db)) as conn:
        assert conn.execute("SELECT count(*) FROM yoyo_lock").fetchone()[0] == 0


def test_without_the_state_directory_a_migration_lock_is_left_to_its_owner(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # `appliance token` migrates without the state directory's lock, beside a server that may be migrating
    db = tmp_path / "appliance.db"
    _cut_short_with_its_lock_left(db)
    monkeypatch.setattr(migrate, "LOCK_WAIT_UNLOCKED_S", 0.3)  # not 10 s in a test
    with pytest.raises(migrate.MigrationError) as locked:
        migrate.ensure_head(db)
    assert str(locked.value) == (f"{db} stayed locked for 0.3 s while migrating (is another program writing it?); "
                                 "try again")  # not yoyo's "run yoyo break-lock", a tool the appliance does not ship
    with contextlib.closing(sqlite3.connect(db)) as conn:
        assert conn.execute("SELECT pid FROM yoyo_lock").fetchall() == [(4242,)]
