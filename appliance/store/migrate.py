"""yoyo-migrations runner: status, up, down — on the SQLite file, before the app opens it."""

from __future__ import annotations

import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from .db import damaged_message, is_damaged


class MigrationError(RuntimeError):
    pass


def migrations_dir() -> Path:
    """The repository's `migrations/` in a checkout, else the copy installed as data files."""
    here = Path(__file__).resolve().parents[2] / "migrations"
    if here.is_dir():
        return here
    installed = Path(sys.prefix) / "share" / "label-appliance" / "migrations"
    if installed.is_dir():
        return installed
    raise MigrationError(f"migrations not found (looked in {here} and {installed})")


@dataclass(frozen=True)
class MigrationState:
    applied: list[str]
    pending: list[str]
    unknown: tuple[str, ...] = ()  # recorded as applied but not among this version's files: a newer version's

    @property
    def at_head(self) -> bool:
        return not self.pending

    @property
    def head(self) -> str | None:
        return self.applied[-1] if self.applied else None


def _backend_and_migrations(db_path: Path):  # type: ignore[no-untyped-def]
    from yoyo import get_backend, read_migrations

    db_path.parent.mkdir(parents=True, exist_ok=True)
    # yoyo parses a URL: a raw path with "#" or "?" in it would migrate another file
    backend = get_backend("sqlite:///" + quote(str(db_path)))
    return backend, read_migrations(str(migrations_dir()))


def status(db_path: Path) -> MigrationState:
    backend, migrations = _backend_and_migrations(db_path)
    try:
        applied_ids = {m.id for m in migrations if backend.is_applied(m)}
        return MigrationState(
            applied=[m.id for m in migrations if m.id in applied_ids],
            pending=[m.id for m in migrations if m.id not in applied_ids],
            unknown=newer_than_this_version(db_path),
        )
    finally:
        backend.connection.close()


def newer_than_this_version(db_path: Path) -> tuple[str, ...]:
    """Migrations the database records as applied that this version does not have (a newer one ran it)."""
    recorded = applied_ids(db_path) or set()
    return tuple(sorted(recorded - set(migration_ids())))


def _refuse_newer(db_path: Path) -> None:
    unknown = newer_than_this_version(db_path)
    if unknown:
        raise MigrationError(
            f"{db_path} was last used by a newer version of the appliance (its migrations {', '.join(unknown)} "
            "are not known here): run that version again, or restore a backup made with this one")


def up(db_path: Path) -> list[str]:
    """Apply every pending migration; returns the ids applied."""
    _refuse_newer(db_path)
    backend, migrations = _backend_and_migrations(db_path)
    try:
        with backend.lock():
            todo = backend.to_apply(migrations)
            backend.apply_migrations(todo)
        return [m.id for m in todo]
    finally:
        backend.connection.close()


def down(db_path: Path, steps: int = 1) -> list[str]:
    """Roll back the newest `steps` applied migrations; returns the ids rolled back."""
    if steps < 1:
        raise MigrationError(f"steps must be 1 or more, not {steps}")
    _refuse_newer(db_path)
    backend, migrations = _backend_and_migrations(db_path)
    try:
        with backend.lock():
            todo = backend.to_rollback(migrations)[:steps]
            backend.rollback_migrations(todo)
        return [m.id for m in todo]
    finally:
        backend.connection.close()


def migration_ids() -> list[str]:
    """The ids yoyo gives the migrations in `migrations_dir()`: file names without `.sql`, in order."""
    return sorted(p.stem for p in migrations_dir().glob("*.sql") if not p.name.endswith(".rollback.sql"))


def applied_ids(db_path: Path) -> set[str] | None:
    """The migration ids yoyo recorded as applied, read with sqlite3 alone; None if there is no record.
    Raises MigrationError for a file SQLite cannot read as a database."""
    if not db_path.exists():
        return None
    try:
        conn = sqlite3.connect(db_path.resolve().as_uri() + "?mode=ro", uri=True, timeout=5.0)
    except sqlite3.Error:
        return None
    try:
        return {row[0] for row in conn.execute("SELECT migration_id FROM _yoyo_migration")}
    except sqlite3.Error as exc:  # no yoyo table yet (None), or a damaged file (said at once)
        if is_damaged(exc):
            # yoyo would retry its lock for 10 s on such a file first; a locked or unreadable one is not damaged
            raise MigrationError(damaged_message(db_path, exc)) from exc
        return None
    finally:
        conn.close()


def ensure_head(db_path: Path) -> MigrationState:
    """Apply pending migrations and check the schema is at head; raise MigrationError if not.

    When every migration is already recorded as applied (every start but the first after an
    install or an upgrade), yoyo is not even imported: its import and two backend round trips were
    ≈25 ms of each start here, several times that on a Pi.
    """
    ids = migration_ids()
    recorded = applied_ids(db_path)
    if recorded is not None and not recorded.issubset(ids):
        _refuse_newer(db_path)
    if recorded is not None and recorded.issuperset(ids):
        return MigrationState(applied=ids, pending=[])
    try:
        up(db_path)
        state = status(db_path)
    except MigrationError:
        raise
    except Exception as exc:
        hint = "; the file is damaged: restore a backup (docs/install-pi.md §7)" if "malformed" in str(exc) else ""
        raise MigrationError(f"migrating {db_path} failed: {exc}{hint}") from exc
    if not state.at_head:
        raise MigrationError(f"schema of {db_path} is not at head after migrating; pending: {state.pending}")
    return state
