"""`appliance backup DEST`: a consistent copy of the database (and user templates), server running or not."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..config import ConfigError
from .common import add_config_args, fail, load_settings

BIG_PAGES = 2560  # ~10 MiB at 4 KiB pages: print progress above this


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "backup", help="copy the database and user templates to DEST (safe while the server runs)",
        description="Copy <state_dir>/appliance.db with SQLite's online backup API, while the server runs. "
        "DEST is a file, or a folder (then appliance-YYYYmmdd-HHMMSS.db is written in it). User templates go "
        "to <DEST name>.templates/ beside it. To restore, see docs/install-pi.md.")
    parser.add_argument("dest", metavar="DEST", help="backup file or folder")
    add_config_args(parser)
    parser.add_argument("--pages", type=int, default=1024, metavar="N",
                        help="pages copied per step (progress is printed between steps; default 1024)")
    parser.set_defaults(run=run)


def _progress(done: int, total: int) -> None:
    if total >= BIG_PAGES:
        end = "\n" if done >= total or not sys.stderr.isatty() else "\r"
        print(f"backup: {done * 100 // max(total, 1):3d}% ({done}/{total} pages)", end=end, file=sys.stderr,
              flush=True)


def run(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(args)
    except ConfigError as exc:
        return fail(str(exc))
    if args.pages < 1:
        return fail("--pages must be at least 1")
    from ..store.backup import BackupError, backup

    try:
        result = backup(settings.state_dir, Path(args.dest), pages_per_step=args.pages, progress=_progress)
    except BackupError as exc:
        return fail(f"backup failed: {exc}", 1)
    size = result.bytes / 1024 / 1024
    print(f"backup written to {result.database} ({size:.1f} MiB, {result.jobs} jobs)")
    if result.templates is not None:
        print(f"user templates ({result.template_files}) copied to {result.templates}")
    if result.tls is not None:
        print(f"TLS key and certificate copied to {result.tls} (keep it private: it holds the key)")
    return 0
