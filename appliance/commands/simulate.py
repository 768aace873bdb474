"""`appliance simulate`: a standalone virtual printer (raster over TCP, SNMP, control endpoint)."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("simulate", help="run a standalone virtual printer", add_help=False,
                            description="See `appliance simulate --help`.")
    parser.set_defaults(run=lambda args: main([]))


def main(argv: list[str]) -> int:
    from ..simulator import cli

    return int(cli.run(argv) or 0)
