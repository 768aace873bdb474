"""`appliance printers discover|add|remove|list`: find printers and set them up without editing a file.

They call printer.discover, printer.add, printer.remove and printer.list on the running server, found as
`appliance call` finds it (--socket, --state-dir, --url/--token). Output is for a person; --json prints
the result as the server gave it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from rpc.client import RpcClient, TransportFailure
from rpc.errors import RpcError

from .common import NOT_RUNNING, add_client_args, describe_refusal, fail, locate, token_refused


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("printers", help="find, add and remove printers (no file to edit)",
                            description="Find Brother PT/QL printers and set them up on the running appliance.")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)

    discover = verbs.add_parser("discover", help="look for printers (SNMP, DNS-SD, USB)",
                                description="Without --network: a broadcast on each local network, DNS-SD and the "
                                "USB ports. With --network: a sweep of that CIDR (at most /22) and the USB ports.")
    discover.add_argument("--network", metavar="CIDR", help="sweep these addresses, e.g. 192.168.1.0/24")
    discover.add_argument("--snmp-port", type=int, metavar="PORT", help="SNMP port (default 161)")
    discover.add_argument("--community", metavar="NAME", help="SNMP community (default public)")
    discover.add_argument("--timeout", type=float, metavar="S", help="seconds to look (default 3)")
    _common(discover)

    add = verbs.add_parser("add", help="add a printer by name and URI",
                           description="Probe the printer at URI (its model comes from its status) and set it up "
                           "at once. URI: tcp://HOST[:9100], usb:///dev/usb/lp0 or usb://Brother/MODEL?serial=SN "
                           "(as `appliance printers discover` shows them).")
    add.add_argument("name", metavar="NAME")
    add.add_argument("uri", metavar="URI")
    add.add_argument("--model", help="e.g. PT-P750W (default: what the printer says)")
    add.add_argument("--media", help="e.g. 12mm, 62mm, 29x90 (default: what the printer says)")
    add.add_argument("--snmp-port", type=int, metavar="PORT", help="SNMP port (default 161)")
    add.add_argument("--community", metavar="NAME", help="SNMP community (default public)")
    add.add_argument("--no-snmp", action="store_true", help="do not read its status over SNMP (give --model)")
    _common(add)

    remove = verbs.add_parser("remove", help="remove a printer added with `add`",
                              description="Its waiting jobs end aborted/printer-removed; its history stays.")
    remove.add_argument("name", metavar="NAME", help="its name (or id)")
    _common(remove)

    listing = verbs.add_parser("list", help="the printers set up, and where each comes from")
    _common(listing)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the server's answer as JSON")
    add_client_args(parser)
    parser.set_defaults(run=run)


def request(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """The method and params a command line asks for."""
    if args.verb == "discover":
        given = {"network": args.network, "snmp_port": args.snmp_port, "community": args.community,
                 "timeout_s": args.timeout}
        return "printer.discover", {k: v for k, v in given.items() if v is not None}
    if args.verb == "add":
        snmp = {k: v for k, v in {"port": args.snmp_port, "community": args.community}.items() if v is not None}
        if args.no_snmp:
            snmp["enabled"] = False
        params = {"name": args.name, "uri": args.uri, "model": args.model, "media": args.media,
                  "snmp": snmp or None}
        return "printer.add", {k: v for k, v in params.items() if v is not None}
    if args.verb == "remove":
        return "printer.remove", {"printer_id": args.name}
    return "printer.list", {}


def words(verb: str, result: Any) -> str:
    """The answer for a person."""
    if verb == "discover":
        lines = []
        for p in result["printers"]:
            where = f"configured as {p['configured_as']}" if p["configured_as"] else f"name: {p['suggested_name']}"
            lines.append(f"{p['model']}  serial {p['serial'] or '?'}  {p['media_description'] or 'media unknown'}  "
                         f"{p['uri']}  (found by {', '.join(p['found_by'])}; {where})")
            if not p["configured_as"]:
                port = f" --snmp-port {p['snmp_port']}" if p["snmp_port"] not in (None, 161) else ""
                lines.append(f"  add it: appliance printers add {p['suggested_name']} {p['uri']}{port}")
        lines += [f"not a label printer: {i['address']}:{i['snmp_port']} {i['why']}" for i in result["ignored"]]
        if not result["printers"]:
            lines.append("no Brother PT/QL printer found (" + "; ".join(result["searched"]) + ")")
        return "\n".join(lines)
    if verb == "add":
        return (f"added {result['name']}: {result['model']} at {result['uri']} ({result['media_description']})"
                + (f"\nnote: {result['note']}" if result.get("note") else ""))
    if verb == "remove":
        gone = result["removed"]
        jobs = result["jobs_aborted"]
        return f"removed {gone['name']} ({gone['model']} at {gone['uri']})" + (
            f"; {len(jobs)} waiting job(s) aborted: {', '.join(map(str, jobs))}" if jobs else "")
    return "\n".join(f"{p['name']}  {p['model']}  {p['uri']}  {p['state']}  {p['media_description']}"
                     f"{'  (virtual)' if p['virtual'] else ''}" for p in result) or "no printer"


async def _call(method: str, params: dict[str, Any], url: str | None, socket_path: str | None,
                token: str | None) -> Any:
    client = RpcClient(url, token=token, timeout=60) if url else RpcClient(socket_path=socket_path, timeout=60)
    async with client:
        return await client.call(method, params)


def run(args: argparse.Namespace) -> int:
    method, params = request(args)
    url, socket_path, token = locate(args)
    try:
        result = asyncio.run(_call(method, params, url, socket_path, token))
    except TransportFailure as exc:
        return fail(f"{exc.message}\n  {NOT_RUNNING}", 1)
    except RpcError as exc:
        print(describe_refusal(exc, token if url else None), file=sys.stderr)
        if exc.has_data and not token_refused(exc):
            print(json.dumps(exc.data, indent=2, ensure_ascii=False), file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2, ensure_ascii=False) if args.json else words(args.verb, result))
    return 0
