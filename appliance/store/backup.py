"""Online backup of the appliance database with SQLite's backup API, safe while the server runs.

The source connection holds one read transaction for the whole copy, so in WAL mode the
copy is a single consistent snapshot, the server keeps writing meanwhile, and the backup
never restarts however busy the server is. The copy is written beside the destination,
checked (`PRAGMA integrity_check`, `foreign_key_check`), switched to a rollback journal
so it is one self-contained file, and only then renamed into place. User templates are
plain files and are copied beside it, and so is the self-signed TLS key and certificate.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

Progress = Callable[[int, int], None]  # (pages copied, total pages)


class BackupError(RuntimeError):
    """Says in words why the backup could not be made."""


@dataclass(frozen=True)
class BackupResult:
    database: Path
    templates: Path | None
    template_files: int
    pages: int
    bytes: int
    jobs: int
    tls: Path | None = None  # the self-signed certificate and key, when there are any


def destination(dest: Path, now: datetime | None = None) -> Path:
    """DEST itself, or DEST/appliance-YYYYmmdd-HHMMSS.db when DEST is a directory."""
    if dest.is_dir():
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
        return dest / f"appliance-{stamp}.db"
    return dest


def templates_beside(target: Path) -> Path:
    """Where the user templates go: `<name>.templates/` next to the database copy."""
    return target.with_name(target.stem + ".templates")


def _copy(source: Path, tmp: Path, pages_per_step: int, progress: Progress | None) -> int:
    src = sqlite3.connect(source.resolve().as_uri() + "?mode=rw", uri=True, timeout=10, isolation_level=None)
    dst = sqlite3.connect(tmp, isolation_level=None)
    try:
        src.execute("PRAGMA busy_timeout=10000")
        src.execute("BEGIN")
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()  # opens the read snapshot now
        total = int(src.execute("PRAGMA page_count").fetchone()[0])

        def step(status: int, remaining: int, pages: int) -> None:
            if progress is not None:
                progress(pages - remaining, pages)

        src.backup(dst, pages=pages_per_step, progress=step, sleep=0)
        src.execute("COMMIT")
        dst.execute("PRAGMA journal_mode=DELETE")
        problems = [row[0] for row in dst.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise BackupError(f"the copy failed its integrity check: {'; '.join(problems[:3])}")
        if dst.execute("PRAGMA foreign_key_check").fetchone() is not None:
            raise BackupError("the copy has rows whose foreign keys point nowhere")
        return total
    finally:
        src.close()
        dst.close()


def _fix_owner(source: Path) -> None:
    """Run as root against a stopped server, SQLite may leave -wal/-shm owned by root: give them back."""
    if os.geteuid() != 0:
        return
    owner = source.stat()
    for suffix in ("-wal", "-shm"):
        side = source.with_name(source.name + suffix)
        if side.exists() and side.stat().st_uid != owner.st_uid:
            os.chown(side, owner.st_uid, owner.st_gid)


def copy_templates(state_dir: Path, target: Path) -> tuple[Path | None, int]:
    source = state_dir / "templates"
    files = sorted(source.glob("*.toml")) if source.is_dir() else []
    if not files:
        return None, 0
    folder = templates_beside(target)
    folder.mkdir(parents=True, exist_ok=True)
    for file in files:
        shutil.copy2(file, folder / file.name)
    return folder, len(files)


def copy_tls(state_dir: Path, target: Path) -> Path | None:
    """The self-signed key and certificate (`<state_dir>/tls/`) into `<name>.tls/`, mode 0700/0600: restored,
    the appliance keeps the certificate its clients pinned."""
    source = state_dir / "tls"
    files = [source / name for name in ("cert.pem", "key.pem")] if source.is_dir() else []
    if not all(file.is_file() for file in files) or not files:
        return None
    folder = target.with_name(target.stem + ".tls")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    for file in files:
        copied = folder / file.name
        fd = os.open(copied, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(file.read_bytes())
        os.chmod(copied, 0o600)
    return folder


def backup(state_dir: Path, dest: Path, *, pages_per_step: int = 1024,
           progress: Progress | None = None) -> BackupResult:
    """Copy `<state_dir>/appliance.db` (and user templates) to `dest`; raises BackupError in words."""
    source = state_dir / "appliance.db"
    if not source.is_file():
        raise BackupError(f"no database at {source} (is --state-dir right?)")
    target = destination(dest)
    if not target.parent.is_dir():
        raise BackupError(f"the folder {target.parent} does not exist")
    if target.resolve() == source.resolve():
        raise BackupError("the backup cannot overwrite the live database")
    tmp = target.with_name(f".{target.name}.partial")
    try:
        tmp.unlink(missing_ok=True)
        pages = _copy(source, tmp, pages_per_step, progress)
        with sqlite3.connect(tmp) as copy:
            jobs = int(copy.execute("SELECT count(*) FROM jobs").fetchone()[0])
            # Restored, the copy starts with its printers paused: jobs pending when it was taken may
            # have printed since, and a person checks them before anything is sent (printer.resume).
            if copy.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'printers'").fetchone():
                copy.execute("UPDATE printers SET paused = 1")
        copy.close()
        os.replace(tmp, target)
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite: {exc}") from None
    except OSError as exc:
        raise BackupError(f"cannot write {target}: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        _fix_owner(source)
    folder, count = copy_templates(state_dir, target)
    try:
        tls = copy_tls(state_dir, target)
    except OSError as exc:
        raise BackupError(f"cannot copy the TLS certificate: {exc.strerror or exc}") from None
    return BackupResult(target, folder, count, pages, target.stat().st_size, jobs, tls)
