"""`appliance serve`: run the server (with a virtual printer when none is configured)."""

from __future__ import annotations

import argparse
import asyncio
import errno
from pathlib import Path

from ..config import ConfigError, parse_listen
from .common import add_config_args, fail, load_settings


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("serve", help="run the appliance server",
                            description="Run the appliance server on TCP and on its unix socket. With no printer "
                            "configured it runs a virtual PT-P750W with 12 mm tape and saves each label as a PNG "
                            "under <state_dir>/printed/.")
    add_config_args(parser)
    parser.add_argument("--listen", metavar="HOST:PORT", help="TCP address (default 127.0.0.1:8631; "
                        "[::]:8631 or *:8631 for every address)")
    parser.add_argument("--ready-file", metavar="FILE", help=argparse.SUPPRESS)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        if args.listen:
            parse_listen(args.listen, "--listen")
        settings = load_settings(args, listen=args.listen)
    except ConfigError as exc:
        return fail(str(exc))
    from .. import logs

    logs.configure(settings.log.format, settings.log.level)
    from ..app import serve, start_refusal
    from ..store.migrate import MigrationError

    try:
        return asyncio.run(serve(settings, ready_file=Path(args.ready_file) if args.ready_file else None))
    except MigrationError as exc:
        return fail(f"{exc}{low_space_hint(settings.state_dir)}", 1)
    except Exception as exc:
        refusal = start_refusal(exc, settings.server.listen)
        if refusal is not None:
            return fail(refusal, 1)
        if not isinstance(exc, OSError):
            raise
        return fail(cannot_start(exc, settings.state_dir), 1)


FULL = (errno.ENOSPC, errno.EDQUOT)


def cannot_start(exc: OSError, state_dir: Path, doing: str = "start") -> str:
    """One line for an OSError at start (or `appliance migrate`, doing="migrate"): a full disk says so;
    anything else is most likely permissions."""
    what = exc.strerror or str(exc)
    if exc.filename:
        what += f": {exc.filename}"
    if exc.errno in FULL:
        return (f"cannot {doing}: {what}: the disk holding the state directory {state_dir} is full; "
                f"free some space there (`df -h {state_dir}` shows how much is left)")
    return f"cannot {doing}: {what} (check --state-dir {state_dir} is writable by this user)"


def low_space_hint(state_dir: Path) -> str:
    """After a failed migration: the likely reason, when the disk is (nearly) full, else nothing."""
    from ..store.migrate import LOW_SPACE_BYTES, free_bytes

    free = free_bytes(state_dir)
    if free >= LOW_SPACE_BYTES:
        return ""
    return (f"\n  the disk holding {state_dir} has only {free // 1024} KiB free, which is likely why: free some "
            "space there and start again")
