"""`appliance check`: the readiness document as a table (or --json); exit 0 pass, 1 warn, 2 fail."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from rpc.client import CertificateRefused, RpcClient, TransportFailure
from rpc.errors import RpcError

from .common import NOT_RUNNING, add_client_args, describe_refusal, fail, fingerprint_arg, locate, trust

EXIT = {"pass": 0, "warn": 1, "fail": 2}
MARK = {"pass": "PASS", "warn": "WARN", "fail": "FAIL"}


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("check", help="run the readiness checks (exit 0 pass, 1 warn, 2 fail)")
    parser.add_argument("--json", action="store_true", help="print the application/health+json document")
    add_client_args(parser)
    parser.set_defaults(run=run)


def render_table(document: dict[str, Any]) -> str:
    rows = []
    for name, entries in document.get("checks", {}).items():
        for entry in entries:
            value = entry.get("observedValue")
            unit = entry.get("observedUnit", "")
            observed = "" if value is None else f"{value}{' ' + unit if unit else ''}"
            label = name + (f" [{entry['componentId']}]" if entry.get("componentId") else "")
            rows.append((MARK.get(entry.get("status", ""), "?"), label, observed, entry.get("output", "")))
    width = max((len(r[1]) for r in rows), default=10)
    vwidth = max((len(r[2]) for r in rows), default=5)
    lines = [f"{document.get('status', '?').upper()}  (appliance {document.get('version', '?')})"]
    lines += [f"  {mark:4}  {name:<{width}}  {observed:<{vwidth}}  {output}".rstrip() for mark, name, observed, output
              in rows]
    return "\n".join(lines)


async def _fetch(url: str | None, socket_path: str | None, token: str | None,
                 args: argparse.Namespace) -> dict[str, Any]:
    await trust(url, args)
    client = RpcClient(url, token=token, timeout=5, fingerprint=fingerprint_arg(args)) if url else \
        RpcClient(socket_path=socket_path, timeout=5)
    async with client:
        return await client.call("readiness.check")  # type: ignore[no-any-return]


def run(args: argparse.Namespace) -> int:
    url, socket_path, token = locate(args)
    try:
        document = asyncio.run(_fetch(url, socket_path, token, args))
    except CertificateRefused as exc:
        fail(exc.message)
        return 2
    except TransportFailure as exc:
        fail(f"{exc.message}\n  {NOT_RUNNING}")
        return 2
    except RpcError as exc:
        fail(describe_refusal(exc, token if url else None))
        return 2
    print(json.dumps(document, indent=2) if args.json else render_table(document))
    return EXIT.get(document.get("status", "fail"), 2)
