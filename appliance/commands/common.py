"""What client commands share: finding the local server, loading settings, printing errors."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..config import ConfigError, Settings, default_state_dir, load


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
        return [Path(args.state_dir) / "rpc.sock"]
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
        return url, None, token
    candidates = socket_candidates(args)
    for path in candidates:
        if path.exists():
            return None, str(path), None
    return None, str(candidates[0]), None


NOT_RUNNING = ("is the appliance running? Start it with `appliance serve`, or point at it with "
               "--socket PATH, --state-dir DIR or --url URL --token TOKEN")
