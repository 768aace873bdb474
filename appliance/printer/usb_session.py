"""One open USB printer: the job written, and the status blocks the printer sends read, at the same time.

On USB a Brother printer talks back on its own: a 32-byte block when a page is printed ("printing
completed"), when an error occurs (tape out, cover open, wrong tape), on notifications (cover opened
or closed, cooling) and on phase changes (receiving ↔ printing); and it answers ``ESC i S``. A
:class:`UsbSession` keeps the device open (usblp allows one open at a time), writes without blocking
and hands every block to the caller as a :class:`UsbEvent`, in the order the printer sent them.

The device going away (cable pulled, printer off) ends the session with one ``offline`` event:
reads fail with EIO/ENODEV, or end while the node is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import time
import weakref
from dataclasses import dataclass, field

from appliance.printer.status import HEADER, SIZE, PrinterStatus, StatusError, parse_status
from appliance.printer.transport import TransportError, classify

__all__ = ["EVENT_KINDS", "UsbEvent", "UsbSession", "open_session"]

FULL_STATUS_REQUEST = b"\x00" * 100 + b"\x1b@\x1biS"
BARE_STATUS_REQUEST = b"\x1biS"  # mid-job: no invalidate or initialize, which would clear what is buffered
EMPTY_READ_BACKOFF_S = 0.05

# status type → event kind
EVENT_KINDS = {"printing-completed": "printed", "error": "error", "phase-change": "phase",
               "notification": "notification", "turned-off": "turned-off", "reply": "reply"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class UsbEvent:
    """One thing the printer said. ``kind``: printed, error, phase, notification, turned-off, reply,
    unknown, or offline (the device went away: ``error`` says how; no ``status``)."""

    kind: str
    status: PrinterStatus | None = None
    error: TransportError | None = None
    at: float = field(default_factory=time.monotonic)
    raw: bytes = b""


_OPEN: dict[str, UsbSession] = {}


def _key(path: str) -> str:
    return os.path.realpath(path)


_DEVICE_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = \
    weakref.WeakKeyDictionary()


def device_lock(path: str) -> asyncio.Lock:
    """Held by a status probe that opens the device itself and by a session while it opens: a probe's
    reads must not take the blocks a job's session is there to read ("printing completed"). usblp lets
    one process open the device once; this makes the processes' own transports take turns as well."""
    locks = _DEVICE_LOCKS.setdefault(asyncio.get_running_loop(), {})
    return locks.setdefault(_key(path), asyncio.Lock())


def open_session(path: str) -> UsbSession | None:
    """The session of this process that holds the device at `path` open, if one does: usblp opens once,
    so a status probe of the same printer asks through it rather than fail with EBUSY."""
    session = _OPEN.get(_key(path))
    return session if session is not None and session.open else None


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class UsbSession:
    """An open device: ask :meth:`request_status` first (it tells what the printer is doing and sets
    older blocks apart), then :meth:`send` a job and read :meth:`next_event` until it is done."""

    def __init__(self, fd: int, path: str, *, status_timeout: float = 2.0) -> None:
        self.fd: int | None = fd
        self.path = path
        self.status_timeout = status_timeout
        self.events: asyncio.Queue[UsbEvent] = asyncio.Queue()
        self.printed = 0
        """"printing completed" blocks read so far: labels confirmed in this session."""
        self.heard = False
        """Any block read at all: a printer that never says anything keeps today's timing rules."""
        self.lost: TransportError | None = None
        self.before: list[UsbEvent] = []
        """Blocks read before the session settled (its first status reply, or its first job): the printer
        sends in order, so they are older, e.g. labels of a job whose process died. Kept apart for the
        caller to judge; not counted in :attr:`printed`, never in :attr:`events`."""
        self._loop = asyncio.get_running_loop()
        self._buffer = bytearray()
        self._reply: asyncio.Future[PrinterStatus] | None = None
        self.last_reply: bytes | None = None
        """The last reply block as it came (for callers that keep raw blocks)."""
        self._sent_job = False
        self._cut_short = False  # the last job's write broke off: the printer is mid-command
        self._settled = False
        self._writing = asyncio.Lock()  # one writer at a time: a status request never lands inside a job
        self._asking = asyncio.Lock()
        self._retry: asyncio.TimerHandle | None = None
        os.set_blocking(fd, False)
        self._loop.add_reader(fd, self._readable)
        self._key = _key(path)
        _OPEN[self._key] = self

    # --- reading ------------------------------------------------------------------------------------

    def _readable(self) -> None:
        if self.fd is None:
            return
        try:
            chunk = os.read(self.fd, 4096)
        except BlockingIOError:
            return
        except OSError as exc:
            self._lose(classify(exc, f"reading from {self.path}"))
            return
        if not chunk:
            if not os.path.exists(self.path):  # a pty whose other end went: a node that is gone
                self._lose(classify(OSError(errno.ENODEV, os.strerror(errno.ENODEV)), f"reading from {self.path}"))
            else:  # usblp may read empty while the printer has nothing to say: look again shortly
                self._loop.remove_reader(self.fd)
                self._retry = self._loop.call_later(EMPTY_READ_BACKOFF_S, self._resume_reading)
            return
        self._buffer += chunk
        self._take_blocks()

    def _resume_reading(self) -> None:
        self._retry = None
        if self.fd is not None:
            self._loop.add_reader(self.fd, self._readable)

    def _take_blocks(self) -> None:
        while True:
            start = self._buffer.find(HEADER)
            if start < 0:  # keep a possible partial header
                del self._buffer[: max(0, len(self._buffer) - (len(HEADER) - 1))]
                return
            del self._buffer[:start]
            if len(self._buffer) < SIZE:
                return
            block = bytes(self._buffer[:SIZE])
            del self._buffer[:SIZE]
            self._block(block)

    def _block(self, block: bytes) -> None:
        try:
            status = parse_status(block)
        except StatusError:  # cannot happen with the header checked; kept for safety
            return
        self.heard = True
        kind = EVENT_KINDS.get(status.status_type, "unknown")
        if kind == "reply" and self._reply is not None and not self._reply.done():
            self._settled = True
            self.last_reply = block
            self._reply.set_result(status)
            return
        if not self._settled:
            self.before.append(UsbEvent(kind, status, raw=block))
            return
        if kind == "printed":
            self.printed += 1
        self.events.put_nowait(UsbEvent(kind, status, raw=block))

    def _lose(self, error: TransportError) -> None:
        if self.lost is not None:
            return
        self.lost = error
        self._stop_reading()
        self._unregister()
        if self._reply is not None and not self._reply.done():
            self._reply.set_exception(error)
        self.events.put_nowait(UsbEvent("offline", error=error))

    def _stop_reading(self) -> None:
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        if self.fd is not None:
            self._loop.remove_reader(self.fd)

    async def next_event(self, timeout: float | None = None) -> UsbEvent | None:
        """The next block the printer sent (or the ``offline`` event); None when none came in `timeout`."""
        try:
            return await asyncio.wait_for(self.events.get(), timeout)
        except TimeoutError:
            return None

    # --- writing ------------------------------------------------------------------------------------

    async def _write(self, data: bytes, deadline: float) -> None:
        view = memoryview(data)
        while view:
            if self.lost is not None:
                raise self.lost
            if self.fd is None:
                raise TransportError(f"writing to {self.path}: the session is closed", retryable=True,
                                     reason="connection-reset")  # fmt: skip
            try:
                view = view[os.write(self.fd, view):]
                continue
            except BlockingIOError:
                pass
            except OSError as exc:
                error = classify(exc, f"writing to {self.path}")
                self._lose(error)
                raise error from exc
            writable = self._loop.create_future()
            self._loop.add_writer(self.fd, _settle, writable)
            try:
                async with asyncio.timeout_at(deadline):
                    await writable
            except TimeoutError as exc:
                raise classify(exc, f"writing to {self.path}") from exc
            finally:
                if self.fd is not None:
                    self._loop.remove_writer(self.fd)

    async def send(self, data: bytes, *, timeout: float = 30.0) -> None:
        """Write one job; reading goes on meanwhile. TransportError when the device fails or
        `timeout` passes (a printer takes a long job at its printing pace)."""
        self._sent_job = self._settled = True
        async with self._writing:
            self._cut_short = True
            await self._write(data, self._loop.time() + timeout)
            self._cut_short = False

    async def request_status(self, timeout: float | None = None) -> PrinterStatus | None:
        """Ask ``ESC i S`` and wait for the reply; None when none comes (a printer that answers no status).
        Ask it before the session's first job: blocks read before its reply are older (:attr:`before`);
        blocks after it are events. Asked while a job is being written, it goes after the job's last
        byte. After a whole job only ``ESC i S`` is sent: invalidate and initialize could clear labels
        the printer holds; after a job cut short they come first, to end its half-sent command."""
        wait = self.status_timeout if timeout is None else timeout
        async with self._asking:
            self._reply = self._loop.create_future()
            try:
                async with self._writing:
                    whole = self._sent_job and not self._cut_short
                    await self._write(BARE_STATUS_REQUEST if whole else FULL_STATUS_REQUEST, self._loop.time() + wait)
                return await asyncio.wait_for(asyncio.shield(self._reply), wait)
            except TimeoutError:
                return None
            finally:
                self._reply = None

    # --- the end ------------------------------------------------------------------------------------

    @property
    def open(self) -> bool:
        return self.fd is not None and self.lost is None

    async def close(self) -> None:
        """Close the device; events already read stay in :attr:`events`."""
        if self.fd is None:
            return
        self._stop_reading()
        self._unregister()
        fd, self.fd = self.fd, None
        with contextlib.suppress(OSError):
            os.close(fd)
        if self._reply is not None and not self._reply.done():
            self._reply.cancel()

    def _unregister(self) -> None:
        if _OPEN.get(self._key) is self:
            del _OPEN[self._key]

    async def __aenter__(self) -> UsbSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
