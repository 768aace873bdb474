"""sd_notify without a dependency: datagrams to $NOTIFY_SOCKET.

`WATCHDOG=1` is sent from a task on the event loop itself, so a blocked loop stops
the pings and systemd restarts the service (WatchdogSec=). Two ways make the journal
show where it hung: from READY on, each ping re-arms `faulthandler.dump_traceback_later` (all threads
are dumped to stderr when the loop has not pinged for 80 % of WatchdogSec, before systemd
acts), and `faulthandler.enable()` dumps them again on the SIGABRT that systemd's
watchdog sends (WatchdogSignal=SIGABRT).

Test hook: `LABEL_APPLIANCE_TEST_BLOCK_LOOP=DELAY:SECONDS` makes `serve` block its own event
loop for SECONDS, DELAY seconds after READY (see `block_loop_hook`). It exists so the
watchdog can be tested against a real process; nothing else reads it (not APPLIANCE_*:
that prefix is reserved for settings).
"""

from __future__ import annotations

import asyncio
import faulthandler
import os
import socket
import sys
import time
from contextlib import suppress


class Notifier:
    def __init__(self, address: str | None = None) -> None:
        address = address if address is not None else os.environ.get("NOTIFY_SOCKET", "")
        if address.startswith("@"):
            address = "\0" + address[1:]
        self.address = address or None
        self._sock: socket.socket | None = None
        self._watchdog_task: asyncio.Task[None] | None = None
        self._dump_armed = False
        self._interval: float | None = None
        self._dump_after: float | None = None
        self.pings = 0

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, *lines: str) -> bool:
        if self.address is None:
            return False
        if self._sock is None:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        try:
            self._sock.sendto("\n".join(lines).encode(), self.address)
        except OSError:
            return False
        return True

    def ready(self, status: str | None = None) -> bool:
        return self.send("READY=1", *([f"STATUS={status}"] if status else []))

    def status(self, text: str) -> bool:
        return self.send(f"STATUS={text}")

    def stopping(self, status: str | None = None) -> bool:
        return self.send("STOPPING=1", *([f"STATUS={status}"] if status else []))

    @staticmethod
    def watchdog_interval(environ: dict[str, str] | None = None) -> float | None:
        """Half of WATCHDOG_USEC, when the watchdog is meant for this process."""
        env = os.environ if environ is None else environ
        usec = env.get("WATCHDOG_USEC")
        pid = env.get("WATCHDOG_PID")
        if not usec or (pid and pid != str(os.getpid())):
            return None
        try:
            return max(int(usec) / 1_000_000 / 2, 0.05)
        except ValueError:
            return None

    def start_watchdog(self, interval: float | None = None) -> bool:
        """Ping WATCHDOG=1 every `interval` s (half of WATCHDOG_USEC) from the running loop."""
        interval = interval or self.watchdog_interval()
        if interval is None or not self.enabled or self._watchdog_task is not None:
            return False
        self._interval = interval
        self._watchdog_task = asyncio.get_running_loop().create_task(self._ping(interval), name="sd-watchdog")
        return True

    def dump_hangs(self) -> None:
        """From the next ping on, dump every thread's stack if a ping is late by 80 % of the timeout.

        The server turns this on at READY, not before: systemd's watchdog only counts once
        start-up is complete, and start-up legitimately holds the loop (templates, fonts) for
        longer than a short test timeout; faulthandler reading the frames of a thread that is
        busy rather than hung is best-effort, so it is armed only where a hang would matter.
        """
        if self._interval is not None:
            self._dump_after = self._interval * 2 * 0.8

    async def _ping(self, interval: float) -> None:
        while True:
            self.send("WATCHDOG=1")
            self.pings += 1
            if self._dump_after is not None:
                faulthandler.dump_traceback_later(self._dump_after, exit=False)
                self._dump_armed = True
            await asyncio.sleep(interval)

    async def close(self) -> None:
        if self._watchdog_task is not None:
            self._watchdog_task.cancel()
            with suppress(asyncio.CancelledError):
                await self._watchdog_task
            self._watchdog_task = None
        if self._dump_armed:
            faulthandler.cancel_dump_traceback_later()
            self._dump_armed = False
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def enable_faulthandler() -> None:
    """Dump every thread's stack to stderr (the journal) on SIGABRT, SIGSEGV, SIGFPE, SIGBUS, SIGILL."""
    if not faulthandler.is_enabled():
        faulthandler.enable(file=sys.stderr, all_threads=True)


def _block_loop_for_test(seconds: float) -> None:
    """Blocks the event loop on purpose (the watchdog test's stand-in for a hung call)."""
    time.sleep(seconds)


def block_loop_hook(environ: dict[str, str] | None = None) -> tuple[float, float] | None:
    """(delay, seconds) from LABEL_APPLIANCE_TEST_BLOCK_LOOP=DELAY:SECONDS, else None."""
    raw = (os.environ if environ is None else environ).get("LABEL_APPLIANCE_TEST_BLOCK_LOOP", "")
    try:
        delay, seconds = (float(part) for part in raw.split(":"))
    except ValueError:
        return None
    return delay, seconds


def schedule_block_loop(environ: dict[str, str] | None = None) -> bool:
    """Arm the test hook on the running loop; False when the variable is absent or malformed."""
    hook = block_loop_hook(environ)
    if hook is None:
        return False
    asyncio.get_running_loop().call_later(hook[0], _block_loop_for_test, hook[1])
    return True
