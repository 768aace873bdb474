"""sd_notify without a dependency: datagrams to $NOTIFY_SOCKET.

`WATCHDOG=1` is sent from a task on the event loop itself, so a blocked loop stops
the pings and systemd restarts the service (WatchdogSec=).
"""

from __future__ import annotations

import asyncio
import os
import socket
from contextlib import suppress


class Notifier:
    def __init__(self, address: str | None = None) -> None:
        address = address if address is not None else os.environ.get("NOTIFY_SOCKET", "")
        if address.startswith("@"):
            address = "\0" + address[1:]
        self.address = address or None
        self._sock: socket.socket | None = None
        self._watchdog_task: asyncio.Task[None] | None = None

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

    def start_watchdog(self, interval: float | None = None) -> None:
        interval = interval or self.watchdog_interval()
        if interval is None or not self.enabled or self._watchdog_task is not None:
            return
        self._watchdog_task = asyncio.get_running_loop().create_task(self._ping(interval), name="sd-watchdog")

    async def _ping(self, interval: float) -> None:
        while True:
            self.send("WATCHDOG=1")
            await asyncio.sleep(interval)

    async def close(self) -> None:
        if self._watchdog_task is not None:
            self._watchdog_task.cancel()
            with suppress(asyncio.CancelledError):
                await self._watchdog_task
            self._watchdog_task = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None
