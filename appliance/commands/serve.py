"""`appliance serve`: run the server (with a virtual printer when none is configured)."""

from __future__ import annotations

import argparse
import asyncio

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
    from pathlib import Path

    from ..app import serve, start_refusal
    from ..store.migrate import MigrationError

    try:
        return asyncio.run(serve(settings, ready_file=Path(args.ready_file) if args.ready_file else None))
    except MigrationError as exc:
        return fail(str(exc), 1)
    except Exception as exc:
        refusal = start_refusal(exc, settings.server.listen)
        if refusal is not None:
            return fail(refusal, 1)
        if not isinstance(exc, OSError):
            raise
        where = f" {exc.filename}" if exc.filename else ""
        return fail(f"cannot start: {exc.strerror or exc}:{where} (check --state-dir {settings.state_dir} "
                    "is writable by this user)", 1)
