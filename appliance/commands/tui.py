"""`appliance tui`: the terminal UI, a client of the server over its socket or TCP."""

from __future__ import annotations

import argparse

from .common import add_client_args, locate, trust


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("tui", help="open the terminal UI",
                            description="Open the terminal UI on the local server (its unix socket) or on "
                            "--url with --token (an https:// appliance's certificate is pinned on first use: "
                            "--fingerprint).")
    add_client_args(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tui.main import run as run_tui  # the TUI imports rpc only; loaded only for this command

    url, socket_path, token = locate(args)
    if url and url.startswith("https:"):
        import asyncio

        asyncio.run(trust(url, args))  # pin before the screen opens: the question needs the terminal
    return int(run_tui(url=url, socket_path=socket_path, token=token) or 0)
