"""`appliance call METHOD [JSON | key=value …]`: call a method and print its JSON result."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from rpc.client import CertificateRefused, RpcClient, TransportFailure
from rpc.errors import RpcError
from rpc.wirejson import loads

from .common import NOT_RUNNING, add_client_args, describe_refusal, fail, fingerprint_arg, locate, token_refused, trust

FIELDS = "fields"  # what a template fills in: text, whatever it looks like (2.5, 007, true, 1e3)


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("call", help="call a JSON-RPC method and print the result",
                            description="Call METHOD with params given as one JSON object/array or as key=value "
                            "pairs. A key=value value is read as JSON when it parses (copies=3 is a number), else "
                            "as a string; a value under fields. is always the string as typed (fields.text=2.5 "
                            "sends \"2.5\"). A dotted key builds nested params: fields.name=Bob. Options may come "
                            "before or after the params. Prints the result as JSON; on an error prints the code and "
                            "message to stderr and exits 1.")
    parser.add_argument("method", metavar="METHOD", help="e.g. server.info, print.submit")
    parser.add_argument("params", nargs="*", metavar="PARAM", help='{"json": "object"} or key=value …')
    add_client_args(parser)
    parser.set_defaults(run=run)


def parse_params(items: list[str]) -> dict[str, Any] | list[Any] | None:
    if not items:
        return None
    if len(items) == 1 and items[0].lstrip()[:1] in ("{", "["):
        try:
            value = loads(items[0])  # refuses what the server would (NaN, 1e309, 5000 digits)
        except ValueError as exc:
            raise ValueError(f"params are not valid JSON: {exc}") from None
        return value  # type: ignore[no-any-return]
    params: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ValueError(f"expected key=value, got {item!r}")
        target = params
        *parents, leaf = key.split(".")
        for depth, parent in enumerate(parents):  # fields.name=Bob → {"fields": {"name": "Bob"}}
            target = target.setdefault(parent, {})
            if not isinstance(target, dict):
                raise ValueError(f"{key}: {'.'.join(parents[:depth + 1])} is already set to {target!r}, "
                                 "not an object; give one or the other")
        target[leaf] = raw if parents[:1] == [FIELDS] else _value(raw)
    return params


def _value(raw: str) -> Any:
    """JSON when it parses (3, true, [1, 2]), else the text as typed."""
    try:
        return loads(raw)
    except ValueError:  # not JSON (or a number the wire refuses, like 1e309): the text as typed
        return raw


async def _call(method: str, params: Any, url: str | None, socket_path: str | None, token: str | None,
                args: argparse.Namespace) -> Any:
    await trust(url, args)
    client = RpcClient(url, token=token, fingerprint=fingerprint_arg(args)) if url else \
        RpcClient(socket_path=socket_path)
    async with client:
        return await client.call(method, params)


def run(args: argparse.Namespace) -> int:
    try:
        params = parse_params(args.params)
    except ValueError as exc:
        return fail(str(exc))
    url, socket_path, token = locate(args)
    try:
        result = asyncio.run(_call(args.method, params, url, socket_path, token, args))
    except CertificateRefused as exc:
        return fail(exc.message)
    except TransportFailure as exc:
        return fail(f"{exc.message}\n  {NOT_RUNNING}", 1)
    except RpcError as exc:
        print(describe_refusal(exc, token if url else None), file=sys.stderr)
        if exc.has_data and not token_refused(exc):  # describe_refusal said it, in the CLI's words
            print(json.dumps(exc.data, indent=2, ensure_ascii=False), file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0
