"""The `appliance` command. Each sub-command lives in appliance/commands/<name>.py."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

COMMANDS = ("serve", "call", "print", "check", "migrate", "token", "backup", "simulate", "tui", "tls", "printers")


class Parser(argparse.ArgumentParser):
    """Options may come after the positionals too: `appliance call job.list --state-dir state limit=12`.

    Each sub-command's parser (the class is inherited by `add_subparsers`) parses intermixed; a parser
    that holds sub-commands itself cannot, and parses as argparse always does."""

    _intermixing = False

    def parse_known_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                         namespace: Any = None) -> tuple[argparse.Namespace, list[str]]:
        nested = any(a.nargs in (argparse.PARSER, argparse.REMAINDER) for a in self._get_positional_actions())
        if self._intermixing or nested:  # parse_known_intermixed_args calls back here for each of its passes
            return super().parse_known_args(args, namespace)
        self._intermixing = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._intermixing = False


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="appliance",
        description="Label Appliance: a print server for Brother PT and QL label printers.",
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"appliance {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        module = importlib.import_module(f"appliance.commands.{name}")
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # `simulate` has its own full argument parser; hand it the rest untouched.
    if argv and argv[0] == "simulate":
        from .commands import simulate

        return simulate.main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    from .commands.common import CommandError, fail

    try:
        return int(args.run(args) or 0)
    except CommandError as exc:
        return fail(exc.message, exc.status)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `appliance call job.list | head`: the reader left; that is not an error to show
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush does not complain either
        return 141  # 128 + SIGPIPE, what a shell tool killed by the broken pipe returns


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
