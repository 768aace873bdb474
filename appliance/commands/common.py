"""What client commands share: finding the local server, loading settings, printing errors."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rpc.address import BadAddress, server_url
from rpc.errors import UNAUTHORIZED, RpcError

from ..config import ConfigError, Settings, default_state_dir, load


class CommandError(Exception):
    """A command cannot go on; `appliance` prints the message (which says the fix) and exits with `status`."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def add_config_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="TOML config (default: $APPLIANCE_CONFIG or "
                        "/etc/appliance/appliance.toml when present)")
    parser.add_argument("--state-dir", metavar="DIR", help="state directory (default: $STATE_DIRECTORY or "
                        "~/.local/state/label-appliance)")


def add_client_args(parser: argparse.ArgumentParser, *, remote: bool = True) -> None:
    parser.add_argument("--socket", metavar="PATH", help="the server's unix socket (default: found locally)")
    parser.add_argument("--state-dir", metavar="DIR", help="use the server whose state directory is DIR")
    if remote:
        parser.add_argument("--url", metavar="URL", help="reach the server over TCP, e.g. http://appliance:8631 "
                            "(or $APPLIANCE_URL)")
        parser.add_argument("--token", metavar="TOKEN", help="API token for --url (or $APPLIANCE_TOKEN)")
        parser.add_argument("--fingerprint", metavar="SHA256:…", help="for an https:// --url: the certificate's "
                            "fingerprint, pinned on first use or accepted in place of a pinned one (or "
                            "$APPLIANCE_FINGERPRINT); `appliance check` on the appliance shows it")


def load_settings(args: argparse.Namespace, **server_overrides: object) -> Settings:
    overrides = {"server": {"state_dir": getattr(args, "state_dir", None), **server_overrides}}
    return load(getattr(args, "config", None), overrides=overrides)  # type: ignore[arg-type]


def fail(message: str, status: int = 2) -> int:
    print(f"appliance: {message}", file=sys.stderr)
    return status


def socket_candidates(args: argparse.Namespace) -> list[Path]:
    if getattr(args, "socket", None):
        return [Path(args.socket)]
    if getattr(args, "state_dir", None):
        # the configuration may put that server's socket elsewhere (/run/appliance/rpc.sock on a Pi),
        # but only when it is that state directory's server: never another one's
        found = [Path(args.state_dir) / "rpc.sock"]
        try:
            configured = load(getattr(args, "config", None))
        except ConfigError:
            return found
        if configured.state_dir.resolve() == Path(args.state_dir).resolve() and configured.socket_path not in found:
            found.append(configured.socket_path)
        return found
    found: list[Path] = []
    if os.environ.get("APPLIANCE_SOCKET"):
        found.append(Path(os.environ["APPLIANCE_SOCKET"]))
    try:
        settings = load(None)
        found.append(settings.socket_path)
    except ConfigError:
        pass
    found += [default_state_dir() / "rpc.sock", Path("/run/appliance/rpc.sock"), Path("/var/lib/appliance/rpc.sock"),
              Path("state/rpc.sock")]
    unique: list[Path] = []
    for path in found:
        if path not in unique:
            unique.append(path)
    return unique


def locate(args: argparse.Namespace) -> tuple[str | None, str | None, str | None]:
    """(url, socket_path, token): --url/$APPLIANCE_URL wins, else the first socket that exists."""
    url = getattr(args, "url", None) or (None if getattr(args, "socket", None) or getattr(args, "state_dir", None)
                                          else os.environ.get("APPLIANCE_URL"))
    token = getattr(args, "token", None) or os.environ.get("APPLIANCE_TOKEN")
    if url:
        try:
            return server_url(url), None, token
        except BadAddress as exc:
            raise CommandError(f"--url: {exc}") from None
    candidates = socket_candidates(args)
    for path in candidates:
        if path.exists():
            return None, str(path), None
    return None, str(candidates[0]), None


NOT_RUNNING = ("is the appliance running? Start it with `appliance serve`, or point at it with "
               "--socket PATH, --state-dir DIR or --url URL --token TOKEN")


def token_refused(exc: RpcError) -> bool:
    """A 401 for the token itself (missing, malformed, not accepted), not a read token calling an admin method."""
    return exc.code == UNAUTHORIZED and not (exc.has_data and isinstance(exc.data, dict) and exc.data.get("needs"))


def describe_refusal(exc: RpcError, token: str | None) -> str:
    """The server's error as one line, with the fix when it is a missing or refused token."""
    text = f"error {exc.code}: {exc.message}"
    if not token_refused(exc):
        return text
    if token:
        return (f"{text}\n  the appliance did not accept the token (mistyped or revoked?); "
                "`appliance token list` on the appliance shows the tokens it knows")
    return (f"{text}\n  over TCP the appliance needs a token: --token TOKEN or $APPLIANCE_TOKEN; "
            "create one on the appliance with `appliance token create NAME`")


def fingerprint_arg(args: argparse.Namespace) -> str | None:
    return getattr(args, "fingerprint", None) or os.environ.get("APPLIANCE_FINGERPRINT") or None


def ask_on_terminal(where: str, shown: str) -> bool:
    """First use of an https:// appliance without --fingerprint: ask the person at the terminal, if any."""
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        return False
    sys.stderr.write(f"The appliance at {where} presents a certificate that no authority this computer trusts has "
                     f"signed:\n  {shown}\nCompare it with the fingerprint `appliance check` shows on the appliance.\n"
                     "Pin it and connect? [y/N] ")
    sys.stderr.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")


async def trust(url: str | None, args: argparse.Namespace) -> None:
    """An https:// `url`: check its certificate against the pin, or pin it (--fingerprint, or a person's yes).
    CommandError with both fingerprints, or the one to check, when it is refused."""
    if not url or not url.startswith("https:"):
        return
    from rpc.trust import CertificateRefused, ssl_for

    try:
        await ssl_for(url, fingerprint=fingerprint_arg(args), ask=ask_on_terminal, look=True)
    except CertificateRefused as exc:
        raise CommandError(exc.message) from None
