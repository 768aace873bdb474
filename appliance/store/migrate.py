"""yoyo-migrations runner: status, up, down — on the SQLite file, before the app opens it."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import sqlite3
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from .db import damaged_message, integrity_problems, is_damaged, primary_code

LOW_SPACE_BYTES = 1 << 20  # less than this free and SQLite cannot be trusted to migrate or write
# How long yoyo waits for its lock row: with the state directory's lock (StateLock) held here, no other
# appliance migrates, and a wait only delays saying why a write failed; without it (`appliance token`), a
# server may be migrating beside us.
LOCK_WAIT_S = 0.2
LOCK_WAIT_UNLOCKED_S = 10.0


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
    with _writing(db_path, prove=False):  # a status on a read-only disk works; yoyo may still try to write
        backend, migrations = _backend_and_migrations(db_path)
        try:
            applied_ids = {m.id for m in migrations if backend.is_applied(m)}
        finally:
            backend.connection.close()
    return MigrationState(
        applied=[m.id for m in migrations if m.id in applied_ids],
        pending=[m.id for m in migrations if m.id not in applied_ids],
        unknown=newer_than_this_version(db_path),
    )


def newer_than_this_version(db_path: Path) -> tuple[str, ...]:
    """Migrations the database records as applied that this version does not have (a newer one ran it)."""
    recorded = applied_ids(db_path) or set()
    return tuple(sorted(recorded - set(migration_ids())))


def _refuse_newer(db_path: Path, recorded: set[str] | None) -> None:
    unknown = sorted((recorded or set()) - set(migration_ids()))
    if unknown:
        raise MigrationError(
            f"{db_path} was last used by a newer version of the appliance (its migrations {', '.join(unknown)} "
            "are not known here): run that version again, or restore a backup made with this one")


def up(db_path: Path) -> list[str]:
    """Apply every pending migration; returns the ids applied.

    Under the state directory's lock (StateLock), a yoyo lock row left by a migration cut short is
    cleared first; without it, yoyo's lock is waited for (LOCK_WAIT_UNLOCKED_S).
    """
    _refuse_newer(db_path, inspect(db_path))
    return _up(db_path)


def _up(db_path: Path) -> list[str]:
    with _writing(db_path):
        backend, migrations = _backend_and_migrations(db_path)
        try:
            with backend.lock(_lock_wait(db_path)):
                todo = backend.to_apply(migrations)
                backend.apply_migrations(todo)
        finally:
            backend.connection.close()
    return [m.id for m in todo]


def down(db_path: Path, steps: int = 1) -> list[str]:
    """Roll back the newest `steps` applied migrations; returns the ids rolled back."""
    if steps < 1:
        raise MigrationError(f"steps must be 1 or more, not {steps}")
    _refuse_newer(db_path, inspect(db_path))
    with _writing(db_path):
        backend, migrations = _backend_and_migrations(db_path)
        try:
            with backend.lock(_lock_wait(db_path)):
                todo = backend.to_rollback(migrations)[:steps]
                backend.rollback_migrations(todo)
        finally:
            backend.connection.close()
    return [m.id for m in todo]


@contextlib.contextmanager
def _writing(db_path: Path, *, prove: bool = True) -> Iterator[None]:
    """Around yoyo: its file proved writable first, and a write that fails told as the OSError behind it.

    yoyo retries a failed write of its lock row and then blames a lock ("run yoyo break-lock"), and
    swallows a failed CREATE of its lock table ("no such table: yoyo_lock"), whatever the cause: a full
    disk, a read-only file or folder. The write here fails at once with the real one.
    """
    try:
        if prove:
            _prove_writable(db_path)
        yield
    except (MigrationError, OSError):
        raise
    except Exception as exc:
        if is_damaged(exc):
            raise MigrationError(damaged_message(db_path, exc)) from exc
        cause = unwritable(db_path, exc)
        if cause is not None:
            raise cause from exc
        if type(exc).__name__ == "LockTimeout":  # yoyo's words would send the user to a tool they do not have
            raise MigrationError(f"{db_path} stayed locked for {_lock_wait(db_path):g} s while migrating (is "
                                 "another program writing it?); try again") from exc
        if isinstance(exc, sqlite3.Error):  # said in a line by `appliance migrate` as by the server's start
            raise MigrationError(f"migrating {db_path} failed: {exc}") from exc
        raise


def _prove_writable(db_path: Path) -> None:
    """A real write (page 1 rewritten, as it is), and yoyo's lock row cleared when this process holds the
    state directory's lock: then the row is one left by a migration cut short (a power cut, a full disk),
    which made every later start wait for it and fail ("Process N has locked this database")."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(db_path, timeout=5.0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        conn.execute(f"PRAGMA user_version = {version}")
        if conn.execute("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'yoyo_lock'").fetchone() \
                and _state_dir_held_here(db_path.parent):
            conn.execute("DELETE FROM yoyo_lock")
        conn.execute("COMMIT")
    finally:
        conn.close()


def _lock_wait(db_path: Path) -> float:
    return LOCK_WAIT_S if _state_dir_held_here(db_path.parent) else LOCK_WAIT_UNLOCKED_S


def _state_dir_held_here(state_dir: Path) -> bool:
    """This process holds `state_dir`'s lock (StateLock: `serve`, `migrate up|down`), so no other
    appliance migrates it; `appliance token` migrates without it, beside a running server."""
    import fcntl

    from ..state_lock import StateLock

    path = StateLock(state_dir).path
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)  # a descriptor of its own: our own lock blocks it too
    except BlockingIOError:
        return os.pread(fd, 32, 0).decode("ascii", "replace").strip() == str(os.getpid())
    finally:
        os.close(fd)  # a lock it took here goes with it
    return False


def unwritable(db_path: Path, exc: BaseException) -> OSError | None:
    """A failed write of `db_path` as the OSError behind it (a full disk, a read-only file or folder), or
    None when it was something else. SQLite says only "database or disk is full", "attempt to write a
    readonly database", "unable to open database file" or "disk I/O error", and yoyo hides even that.
    Run as root, a file or folder without write permission is still written: only a read-only mount bites."""
    code = primary_code(exc)
    folder = db_path.parent
    if code == sqlite3.SQLITE_FULL:
        number = errno.ENOSPC
    elif _read_only_mount(db_path if db_path.exists() else folder):
        number = errno.EROFS
    elif code in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM) or not os.access(folder, os.W_OK) \
            or (db_path.exists() and not os.access(db_path, os.W_OK)):
        number = errno.EACCES
    elif free_bytes(folder) < LOW_SPACE_BYTES:  # yoyo's own words hide the cause ("no such table: yoyo_lock")
        number = errno.ENOSPC
    else:
        return None
    return OSError(number, os.strerror(number), str(db_path))


def free_bytes(folder: Path) -> int:
    """Free space where `folder` is (a very large number when it cannot be told)."""
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return sys.maxsize


def _read_only_mount(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def migration_ids() -> list[str]:
    """The ids yoyo gives the migrations in `migrations_dir()`: file names without `.sql`, in order."""
    return sorted(p.stem for p in migrations_dir().glob("*.sql") if not p.name.endswith(".rollback.sql"))


def applied_ids(db_path: Path) -> set[str] | None:
    """The migration ids yoyo recorded as applied, read with sqlite3 alone; None if there is no record.
    Raises MigrationError for a file SQLite cannot read as a database."""
    return _recorded(db_path, check=False)


def inspect(db_path: Path) -> set[str] | None:
    """`applied_ids`, after `PRAGMA quick_check` (bounded: see `integrity_problems`) found the file sound.

    Without it a file with a damaged page in yoyo's tables or in an index started, passed readiness
    and failed later, in the middle of a job (found by a power-cut trial)."""
    return _recorded(db_path, check=True)


def _recorded(db_path: Path, *, check: bool) -> set[str] | None:
    if not db_path.exists():
        return None
    try:
        conn = sqlite3.connect(db_path.resolve().as_uri() + "?mode=ro", uri=True, timeout=5.0)
    except sqlite3.Error:
        return None
    try:
        if check:
            problems = integrity_problems(conn)
            if problems:
                raise MigrationError(damaged_message(db_path, "quick_check: " + "; ".join(problems[:2])))
        return {row[0] for row in conn.execute("SELECT migration_id FROM _yoyo_migration")}
    except sqlite3.Error as exc:  # no yoyo table yet (None), or a damaged file (said at once)
        if is_damaged(exc):
            # yoyo would retry its lock on such a file first; a locked or unreadable one is not damaged
            raise MigrationError(damaged_message(db_path, exc)) from exc
        return None
    finally:
        conn.close()


def ensure_head(db_path: Path) -> MigrationState:
    """Check the file, apply pending migrations and check the schema is at head; raise MigrationError if not
    (OSError when the file cannot be written: a full disk, a read-only state directory).

    When every migration is already recorded as applied (every start but the first after an
    install or an upgrade), yoyo is not even imported: its import and two backend round trips were
    ≈25 ms of each start here, several times that on a Pi.
    """
    ids = migration_ids()
    recorded = inspect(db_path)
    _refuse_newer(db_path, recorded)
    if recorded is not None and recorded.issuperset(ids):
        return MigrationState(applied=ids, pending=[])
    try:
        _up(db_path)
        state = status(db_path)
    except (MigrationError, OSError):
        raise
    except Exception as exc:
        raise MigrationError(f"migrating {db_path} failed: {exc}") from exc
    if not state.at_head:
        raise MigrationError(f"schema of {db_path} is not at head after migrating; pending: {state.pending}")
    return state
