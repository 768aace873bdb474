"""`appliance tls show|rotate`: the TCP listener's certificate and its fingerprint.

Works on the state directory's files, so it works while the server runs: the server loads a
rotated certificate within a few seconds (new connections get it). Every client that pinned the
old one then refuses the appliance until it accepts the new fingerprint (`--fingerprint`).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..config import ConfigError
from .common import add_config_args, fail, load_settings


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("tls", help="show or rotate the TLS certificate of the network API",
                            description="The certificate of the network API ([server] tls). Clients pin its "
                            "SHA-256 fingerprint on first use.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    show = actions.add_parser("show", help="print the certificate's fingerprint, file and expiry")
    show.add_argument("--pem", action="store_true", help="print the certificate itself (for curl --cacert)")
    rotate = actions.add_parser("rotate", help="make a new self-signed key and certificate")
    for each in (show, rotate):
        add_config_args(each)
    parser.set_defaults(run=run)


def _give_back(files: object, state_dir: Path) -> None:
    """Run as root (`sudo appliance tls rotate`): the files belong to the state directory's owner, whom the
    service runs as, or it could not read its own key."""
    if os.geteuid() != 0 or not state_dir.is_dir():
        return
    owner = state_dir.stat()
    for path in (files.cert.parent, files.cert, files.key):  # type: ignore[attr-defined]
        os.chown(path, owner.st_uid, owner.st_gid)


def run(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(args)
    except ConfigError as exc:
        return fail(str(exc))
    from .. import tls

    files = tls.configured_files(settings.server, settings.state_dir) or tls.state_files(settings.state_dir)
    if args.action == "rotate":
        if settings.server.tls == "files":
            return fail(f"the certificate comes from files ({files.cert}, {files.key}): replace them, then restart "
                        "the appliance; `rotate` makes self-signed ones only", 1)
        old = tls.fingerprint(files) if files.cert.is_file() else None
        try:
            tls.make_self_signed(files, *tls.names_for(settings.server.listen))
        except OSError as exc:
            return fail(f"cannot write {files.cert.parent}: {exc.strerror or exc} (run it as the appliance's user)")
        _give_back(files, settings.state_dir)
        new = tls.fingerprint(files)
        print(new)
        print(f"new certificate {files.cert}" + (f" (was {old})" if old else "") + ". A running appliance serves "
              "it within 5 s. Clients that pinned the old one refuse it until they accept it: "
              f"`appliance call --url https://… --fingerprint {new} server.info` once on each", file=sys.stderr)
        if settings.server.tls == "off":
            print('note: [server] tls is "off": set tls = "self-signed" to serve it', file=sys.stderr)
        return 0
    if not files.cert.is_file():
        return fail(f"no certificate at {files.cert}: "
                    + ('[server] tls is "off"; set tls = "self-signed" and restart, or run `appliance tls rotate`'
                       if settings.server.tls == "off" else "the appliance makes it at its first start"), 1)
    try:
        if args.pem:
            print(files.cert.read_text(), end="")
            return 0
        expires = tls.expiry(files)
        print(tls.fingerprint(files))
        print(f"certificate {files.cert}; expires {expires:%Y-%m-%d}" if expires else f"certificate {files.cert}",
              file=sys.stderr)
    except (OSError, tls.TlsError) as exc:
        return fail(str(exc))
    return 0
