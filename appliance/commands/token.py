"""`appliance token create|list|revoke` on the state directory's database.

Works on the SQLite file directly (WAL + busy timeout), so it works while the
server runs; a revoked token stops working there within about a second.
Exit codes: 0 done, 1 the operation was refused (duplicate or unknown name),
2 the settings or the database could not be used.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from typing import TYPE_CHECKING

from ..config import ConfigError
from .common import add_config_args, fail, load_settings

if TYPE_CHECKING:
    from ..config import Settings
    from ..store.tokens import TokenInfo


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("token", help="create, list or revoke API tokens for TCP clients",
                            description="API tokens for clients over TCP (the unix socket needs none). "
                            "Only a hash of each token is stored: the token is shown once, at create.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="create a token and print it (once)")
    create.add_argument("name", help="a name for the token, e.g. the client that will use it")
    create.add_argument("--scope", choices=("read", "admin"), default="admin",
                        help="read: read-only methods; admin: everything (default)")
    listing = actions.add_parser("list", help="list tokens: name, scope, created, last used (never the token)")
    listing.add_argument("--json", action="store_true", help="print JSON")
    revoke = actions.add_parser("revoke", help="delete a token; it stops working within about a second")
    revoke.add_argument("name")
    for each in (create, listing, revoke):
        add_config_args(each)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(args)
    except ConfigError as exc:
        return fail(str(exc))
    from ..store import migrate
    from ..store import tokens as token_store

    new = not settings.db_path.exists()
    if new and args.action != "create":
        return fail(f"no appliance database in {settings.state_dir}: no server has used it. "
                    "Give the server's state directory with --state-dir DIR (see `appliance serve --help`)", 1)
    try:
        migrate.ensure_head(settings.db_path)
        conn = token_store.connect(settings.db_path)
    except (migrate.MigrationError, sqlite3.Error, OSError) as exc:
        return fail(f"cannot use the database {settings.db_path}: {exc}")
    try:
        if args.action == "create":
            token = token_store.create(conn, args.name, args.scope)
            print(token)
            print(f"created {args.scope} token {args.name!r} for the appliance whose state directory is "
                  f"{settings.state_dir}; it is shown only this once: store it now", file=sys.stderr)
            pin = certificate_hint(settings)
            if pin:
                print(pin, file=sys.stderr)
            if new:
                print(f"note: no server has used {settings.state_dir} yet; the token works only for a server "
                      f"started with --state-dir {settings.state_dir} (or that state_dir in its config)",
                      file=sys.stderr)
        elif args.action == "revoke":
            token_store.revoke(conn, args.name)
            print(f"revoked token {args.name!r}")
        else:
            show(token_store.listing(conn), as_json=args.json)
    except token_store.TokenError as exc:
        return fail(str(exc), 1)
    except sqlite3.Error as exc:
        return fail(f"database error: {exc}")
    finally:
        conn.close()
    return 0


def certificate_hint(settings: Settings) -> str | None:
    """With TLS on: the fingerprint a client pins, so the token and the fingerprint travel together."""
    from .. import tls

    files = tls.configured_files(settings.server, settings.state_dir)
    if files is None or not files.cert.is_file():
        return None
    try:
        shown = tls.fingerprint(files)
    except tls.TlsError:
        return None
    return (f"the appliance serves https:// with the certificate {shown}: give it to a client with "
            f"--fingerprint {shown} (or $APPLIANCE_FINGERPRINT) on its first connection")


def show(tokens: list[TokenInfo], as_json: bool) -> None:
    rows = [{"name": t.name, "scope": t.scope, "created_at": t.created_at, "last_used_at": t.last_used_at}
            for t in tokens]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    if not rows:
        print("no tokens (create one with `appliance token create NAME`)")
        return
    width = max(4, *(len(r["name"]) for r in rows))
    print(f"{'NAME':<{width}}  SCOPE  {'CREATED':<24}  LAST USED")
    for r in rows:
        print(f"{r['name']:<{width}}  {r['scope']:<5}  {r['created_at']:<24}  {r['last_used_at'] or 'never'}")
