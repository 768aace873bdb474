"""The README's first command: the appliance on its virtual printer, two labels, and the TUI.

Runs the server in this process (state in ./state by default), prints a welcome label
and an asset tag on the virtual PT-P750W the first time a state dir is used (PNGs land in
<state_dir>/printed/), then opens the TUI as a child process on the server's unix socket. Without a terminal (or with
--no-tui) it keeps serving until Ctrl-C, and says how to reach it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path

from .config import ConfigError, Settings, load


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="./run demo", description=__doc__)
    parser.add_argument("--state-dir", default="state", help="state directory (default ./state)")
    parser.add_argument("--listen", default=None, help="TCP address (default 127.0.0.1:8631)")
    parser.add_argument("--no-tui", action="store_true", help="serve only; do not open the TUI")
    parser.add_argument("--labels", type=int, default=2, choices=(0, 1, 2), help="welcome labels to print (default 2)")
    return parser.parse_args(argv)


async def _welcome(appliance: object, count: int) -> tuple[list[int], list[int]]:
    """Submit the welcome labels this state dir has not printed yet: (new job ids, ids printed before).

    Each has a fixed idempotency key, so they print on the first start only, not on every
    `./run demo` (and a restart during the first can never print them twice).
    """
    from .app import Appliance
    from .store import jobs

    assert isinstance(appliance, Appliance)
    new: list[int] = []
    before: list[int] = []
    samples = [
        ("text", {"text": "Hello from Label Appliance", "line2": "virtual PT-P750W, 12 mm"}),
        ("asset-tag", {"name": "Demo drill", "asset_id": "MS-0001"}),
    ][:count]
    for template, fields in samples:
        key = f"demo-welcome-{template}"
        earlier = await jobs.by_idempotency_key(appliance.db, key)
        if earlier is not None:  # whatever it asked for then (another printer since?), it had its turn
            before.append(earlier["id"])
            continue
        job = await appliance.queue.submit(template, fields, 1, None, False, key)
        new.append(job["id"])
    return new, before


async def _main(args: argparse.Namespace, settings: Settings, interactive: bool) -> int:
    from .app import Appliance

    appliance = Appliance(settings)
    farewell = ""  # said after the appliance has stopped, not while it is stopping
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await appliance.start()
        jobs, before = await _welcome(appliance, args.labels)
        printed = settings.state_dir / "printed"
        where = (f"Label Appliance is running: {appliance.listeners.url} (token needed over TCP) and "
                 f"{settings.socket_path} (trusted).\nLabels print on a virtual PT-P750W with 12 mm tape; "
                 f"each appears as a PNG in {printed}/")
        if before:
            where += f"\nThe welcome labels were printed on the first start (jobs {_ids(before)}), not again."
        if interactive:
            tui = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "appliance.cli", "tui", "--socket", str(settings.socket_path))
            waiter = asyncio.ensure_future(tui.wait())
            stopper = asyncio.ensure_future(stop.wait())
            await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if not waiter.done():
                tui.terminate()
                await tui.wait()
            stopper.cancel()
            done = f"Jobs printed: {_ids(jobs)}, as PNGs" if jobs else "Printed labels are PNGs"
            farewell = (f"The demo has stopped the appliance. {done} in {printed}/\n"
                        "Run `./run demo` again to start it and reopen the TUI.")
        else:
            print(where, flush=True)
            print("Try:  .venv/bin/appliance call print.submit template=text fields.text='Bin 42' "
                  f"--state-dir {settings.state_dir}", flush=True)
            print("      .venv/bin/appliance tui --state-dir " + str(settings.state_dir), flush=True)
            print("Ctrl-C stops it.", flush=True)
            await stop.wait()
    finally:
        await appliance.stop()
    if farewell:
        print(farewell)
    return 0


def _ids(ids: list[int]) -> str:
    return ", ".join(str(i) for i in ids)


def main(argv: list[str] | None = None) -> int:
    from . import logs
    from .app import start_refusal

    args = parse_args(sys.argv[1:] if argv is None else argv)
    state_dir = Path(args.state_dir).absolute()
    try:
        settings = load(None, overrides={"server": {"state_dir": str(state_dir), "listen": args.listen}})
    except ConfigError as exc:
        print(f"appliance: {exc}", file=sys.stderr)
        return 2
    interactive = not args.no_tui and sys.stdin.isatty() and sys.stdout.isatty()
    state_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        if interactive:  # the TUI owns the terminal: the server's log goes to a file
            log_file = stack.enter_context(open(state_dir / "appliance.log", "a", encoding="utf-8"))
            logs.configure("json", settings.log.level, stream=log_file)
        else:
            logs.configure(settings.log.format, settings.log.level)
        with contextlib.suppress(KeyboardInterrupt):
            try:
                return asyncio.run(_main(args, settings, interactive))
            except Exception as exc:
                refusal = start_refusal(exc, settings.server.listen)
                if refusal is None:
                    raise
                print(f"appliance: {refusal}", file=sys.stderr)
                return 1
    return 130


if __name__ == "__main__":
    sys.exit(main())
