"""`appliance print TEMPLATE [field=value …] [--csv FILE]`: one label, or a label per row of a spreadsheet.

Everything goes through print.batch, so a file is checked whole before anything prints: a bad row
anywhere is reported with its row and file line, and nothing is queued. --dry-run checks and renders
every row and stores nothing; --wait follows the batch until every label is out (batchwait.py).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from rpc.client import RpcClient, TransportFailure
from rpc.errors import INVALID_PARAMS, RpcError

from .common import NOT_RUNNING, CommandError, add_client_args, describe_refusal, locate

CALL_TIMEOUT_S = 600.0  # a few thousand rows are drawn before print.batch answers (minutes on a Pi)


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "print", help="print a label, or one per row of a CSV file",
        description="Print TEMPLATE with the fields given as field=value, or a label per row of a CSV/TSV file "
        "(UTF-8, with or without a BOM; the delimiter , ; or tab is found from the header row, whose names are "
        "the template's fields in any case). Every row is checked before anything prints: a bad row is named "
        "with its file line and nothing is queued. field=value pairs with --csv go on every row.")
    parser.add_argument("template", metavar="TEMPLATE", help="template name, e.g. bin-label (template.list)")
    parser.add_argument("fields", nargs="*", metavar="FIELD=VALUE", help="a field's value (on every row with --csv)")
    parser.add_argument("--csv", metavar="FILE", type=Path, help="a label per row of this CSV or TSV file")
    parser.add_argument("--map", metavar="COLUMN=FIELD", action="append", default=[],
                        help="fill FIELD from the file's COLUMN (repeatable)")
    parser.add_argument("--ignore-extra", action="store_true", help="leave out columns that name no field")
    parser.add_argument("--copies", type=int, default=1, metavar="N", help="copies of each label (1-100)")
    parser.add_argument("--printer", metavar="NAME", help="printer name or id (needed with several printers)")
    parser.add_argument("--hold", action="store_true", help="queue the labels held (release them with "
                        "job.release)")
    parser.add_argument("--key", metavar="KEY", help="idempotency key: the same KEY again never prints twice")
    parser.add_argument("--dry-run", action="store_true", help="check and render every row; print nothing")
    parser.add_argument("--wait", action="store_true", help="follow the printing; exit 0 only when every "
                        "label came out")
    add_client_args(parser)
    parser.set_defaults(run=run)


def pairs(items: list[str], what: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise CommandError(f"expected {what}, got {item!r}")
        found[key.strip()] = value
    return found


def run(args: argparse.Namespace) -> int:
    if args.hold and args.wait:
        raise CommandError("--wait with --hold would wait for ever: held labels print only once released")
    if not 1 <= args.copies <= 100:
        raise CommandError(f"--copies {args.copies}: expected 1 to 100")
    given = pairs(args.fields, "FIELD=VALUE")
    renames = pairs(args.map, "--map COLUMN=FIELD")
    if renames and args.csv is None:
        raise CommandError("--map names the columns of a --csv file; give the file")
    url, socket_path, token = locate(args)
    try:
        return asyncio.run(_print(args, given, renames, url, socket_path, token))
    except TransportFailure as exc:
        raise CommandError(f"{exc.message}\n  {NOT_RUNNING}", 1) from None
    except KeyboardInterrupt:
        if args.wait:  # the labels are the appliance's now: stopping the watch stops nothing
            print("\nappliance: stopped waiting; what was queued keeps printing (`appliance call batch.get "
                  "batch_id=N` shows how far it is, `appliance call batch.cancel batch_id=N` stops it)",
                  file=sys.stderr)
        return 130


async def _print(args: argparse.Namespace, given: dict[str, str], renames: dict[str, str], url: str | None,
                 socket_path: str | None, token: str | None) -> int:
    client = (RpcClient(url, token=token, timeout=CALL_TIMEOUT_S) if url
              else RpcClient(socket_path=socket_path, timeout=CALL_TIMEOUT_S))
    async with client:
        lines: list[int] | None = None
        try:
            rows, lines = await _rows(client, args, given, renames)
            params: dict[str, Any] = {"template": args.template, "rows": rows, "copies": args.copies,
                                      "hold": args.hold, "dry_run": args.dry_run}
            if args.printer:
                params["printer_id"] = args.printer
            if args.key:
                params["idempotency_key"] = args.key
            answer = await client.call("print.batch", params)
        except RpcError as exc:
            if isinstance(exc, TransportFailure):
                raise
            return _refused(exc, lines, token if url else None)
        for warning in answer["warnings"]:
            print(f"{_where(warning['row'], lines)}: note: {warning.get('message')}", file=sys.stderr)
        labels = len(rows) * args.copies
        if args.dry_run:
            print(f"{len(rows)} row{'s' if len(rows) != 1 else ''} checked and rendered: all can print "
                  f"({labels} label{'s' if labels != 1 else ''}); nothing was queued (--dry-run)")
            return 0
        noun = "label" if labels == 1 else "labels"
        again = " (already queued under this --key)" if answer.get("duplicate") else ""
        print(f"batch {answer['batch_id']}: {labels} {noun} queued on {answer['printer_name']}"
              f"{' held' if args.hold else ''}{again}", flush=True)
        if not args.wait:
            return 0
        from .batchwait import follow

        return await follow(client, answer["batch_id"], tty=sys.stdout.isatty())


async def _rows(client: RpcClient, args: argparse.Namespace, given: dict[str, str],
                renames: dict[str, str]) -> tuple[list[dict[str, str]], list[int] | None]:
    """The rows to send and, for a file, the line each starts on."""
    if args.csv is None:
        return [given], None
    from rpc import sheet

    try:
        table = sheet.read(args.csv)
        template = await client.call("template.get", {"name": args.template})
        names = [f["name"] for f in template["fields"]]
        mapping = sheet.map_columns(table.columns, names, renames, ignore_extra=args.ignore_extra, given=given)
    except sheet.SheetError as exc:
        raise CommandError(str(exc), 1) from None
    return sheet.label_rows(table, mapping, given), table.lines


def _where(row: int, lines: list[int] | None) -> str:
    if lines is None or not 1 <= row <= len(lines):
        return f"row {row}"
    return f"row {row} (line {lines[row - 1]})"


def _refused(exc: RpcError, lines: list[int] | None, token: str | None) -> int:
    data = exc.data if exc.has_data and isinstance(exc.data, dict) else {}
    bad = data.get("rows") if exc.code == INVALID_PARAMS else None
    if isinstance(bad, list):
        print(f"appliance: {len(bad)} row{'s' if len(bad) != 1 else ''} cannot be printed; nothing was queued:",
              file=sys.stderr)
        for problem in bad:
            print(f"  {_where(problem['row'], lines)}: {problem['field']}: {problem['reason']}", file=sys.stderr)
        return 1
    text = describe_refusal(exc, token)
    if data.get("field") and data.get("reason") and data["reason"] not in text:
        text += f"\n  {data['field']}: {data['reason']}"
    print(f"appliance: {text}", file=sys.stderr)
    return 1
