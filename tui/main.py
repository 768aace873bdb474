"""Entry point: `run(url=..., socket_path=..., token=...) -> int` (used by `appliance tui`),
and `python -m tui` with --url/--token/--socket.

Kept small and light: Textual is imported here, the connection (aiohttp) only after the
first paint, the screens other than the dashboard only when first shown.
"""

from __future__ import annotations

import argparse
import sys


def run(url: str | None = None, socket_path: str | None = None, token: str | None = None) -> int:
    from .config import resolve

    target = resolve(url, socket_path, token)
    from .app import ApplianceApp

    app = ApplianceApp(target)
    try:
        result = app.run()
    except KeyboardInterrupt:
        return 130
    if app.hung_up:
        return 129
    return int(result or app.return_code or 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="label-appliance-tui", description="The Label Appliance terminal UI.")
    parser.add_argument("--url", help="server URL, e.g. http://appliance:8631 (or $APPLIANCE_URL)")
    parser.add_argument("--token", help="API token for --url (or $APPLIANCE_TOKEN)")
    parser.add_argument("--socket", help="the server's unix socket (default: the local one)")
    args = parser.parse_args(argv)
    return run(url=args.url, socket_path=args.socket, token=args.token)


if __name__ == "__main__":
    sys.exit(main())
