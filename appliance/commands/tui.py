"""`appliance tui`: the terminal UI, a client of the server over its socket or TCP."""

from __future__ import annotations

import argparse

from .common import add_client_args, locate


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("tui", help="open the terminal UI",
                            description="Open the terminal UI on the local server (its unix socket) or on "
                            "--url with --token.")
    add_client_args(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tui.main import run as run_tui  # the TUI imports rpc only; loaded only for this command

    url, socket_path, token = locate(args)
    return int(run_tui(url=url, socket_path=socket_path, token=token) or 0)
