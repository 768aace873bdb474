"""Getting bytes to the printer: TCP 9100, the kernel's usblp device, or a file.

Every failure becomes a :class:`TransportError` that says whether trying again later can help
(``retryable``) and why, as an IPP-style ``reason`` the queue can show ("printer-offline", …).
TCP connections are opened per job and closed cleanly (write side shut, brief wait for the
printer's EOF): some PT printers stop accepting jobs after a few half-open connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import select
import socket
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from appliance.printer.usb_devices import ResolveError, UsbSelector, UsbUriError, parse_usb_uri, resolve

if TYPE_CHECKING:
    from appliance.printer.usb_session import UsbSession

__all__ = ["FileTransport", "InvalidURIError", "TcpTransport", "Transport", "TransportError", "UsbTransport",
           "open_transport"]  # fmt: skip

STATUS_REQUEST = b"\x00" * 100 + b"\x1b@\x1biS"
STATUS_SIZE = 32

_OFFLINE_ERRNOS = {errno.ENOENT, errno.ENODEV, errno.ENXIO, errno.EIO, errno.EHOSTUNREACH, errno.ENETUNREACH,
                   errno.EHOSTDOWN, errno.ENETDOWN, errno.ECONNREFUSED}  # fmt: skip
_RESET_ERRNOS = {errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED}


class TransportError(Exception):
    """Sending failed. ``retryable``: the same bytes may succeed later; ``reason``: why, for people.

    ``reached``: False when the printer could not even be opened (refused, unreachable, timed out
    connecting, no device), so no byte of the job can have got there; True when it may have.
    """

    def __init__(self, message: str, *, retryable: bool, reason: str, reached: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.reason = reason
        self.reached = reached


def unreached(exc: TransportError) -> TransportError:
    """``exc`` marked as raised before anything was sent."""
    exc.reached = False
    return exc


class InvalidURIError(ValueError):
    """The printer URI is not one the appliance can open."""


class Transport(Protocol):
    """A way to reach one printer: ``connect`` (optional: ``send`` connects when needed), ``send``, ``close``."""

    async def connect(self) -> None:
        """Open the way to the printer; a failure here sent nothing (``TransportError.reached`` is False)."""
        ...

    async def send(self, data: bytes, *, timeout: float | None = None) -> None:
        """Send one job; `timeout`: the printer may take this long to take it, if longer than the
        transport's write timeout (a printer takes a long job at its printing pace)."""
        ...

    async def request_status(self) -> bytes | None:
        """The 32-byte status block, or None when this printer/transport cannot answer."""
        ...

    async def close(self) -> None: ...


def classify(exc: BaseException, where: str) -> TransportError:
    """Turn a low-level exception into a :class:`TransportError`."""
    if isinstance(exc, TransportError):
        return exc
    if isinstance(exc, TimeoutError):
        return TransportError(f"{where}: timed out", retryable=True, reason="timed-out")
    if isinstance(exc, socket.gaierror):
        if exc.errno == socket.EAI_AGAIN:  # no answer from the resolver (a box booting after a power cut)
            return TransportError(f"{where}: cannot resolve host yet ({exc.strerror})", retryable=True,
                                  reason="printer-offline")  # fmt: skip
        return TransportError(f"{where}: cannot resolve host ({exc.strerror})", retryable=False,
                              reason="host-not-found")  # fmt: skip
    if isinstance(exc, PermissionError):
        return TransportError(f"{where}: permission denied", retryable=False, reason="permission-denied")
    if isinstance(exc, OSError):
        # os.strerror: asyncio words a refused connect as "Connect call failed (addr)", which says less
        text = os.strerror(exc.errno) if exc.errno else (exc.strerror or str(exc) or type(exc).__name__)
        if exc.errno in _RESET_ERRNOS or isinstance(exc, ConnectionResetError | BrokenPipeError):
            return TransportError(f"{where}: connection lost ({text})", retryable=True, reason="connection-reset")
        if exc.errno in _OFFLINE_ERRNOS or isinstance(exc, ConnectionRefusedError):
            return TransportError(f"{where}: printer offline ({text})", retryable=True, reason="printer-offline")
        if exc.errno == errno.EBUSY:
            return TransportError(f"{where}: device busy", retryable=True, reason="printer-busy")
        return TransportError(f"{where}: {text}", retryable=False, reason="io-error")
    return TransportError(f"{where}: {type(exc).__name__}: {exc}", retryable=False, reason="io-error")


class TcpTransport:
    """Raw TCP (port 9100): one connection per job, closed cleanly afterwards."""

    def __init__(
        self,
        host: str,
        port: int = 9100,
        *,
        connect_timeout: float = 5.0,
        write_timeout: float = 30.0,
        close_timeout: float = 2.0,
        status_timeout: float = 2.0,
        answers_status: bool = False,
    ) -> None:
        self.host = host
        self.port = port
        self.connect_timeout = connect_timeout
        self.write_timeout = write_timeout
        self.close_timeout = close_timeout
        self.status_timeout = status_timeout
        self.answers_status = answers_status
        self._stream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    @property
    def where(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            return await asyncio.wait_for(asyncio.open_connection(self.host, self.port), self.connect_timeout)
        except (OSError, TimeoutError) as exc:
            error = classify(exc, f"connecting to {self.where}")
            if error.reason == "host-not-found" and self.host.lower().rstrip(".").endswith(".local"):
                # an mDNS name (BRWxxxx.local) is answered by the printer itself: unknown while it is off
                error = TransportError(f"{error.message}; a .local name resolves only while the printer is on",
                                       retryable=True, reason="printer-offline")
            raise unreached(error) from exc

    async def connect(self) -> None:
        if self._stream is None:
            self._stream = await self._connect()

    async def _finish(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Shut our write side, give the printer a moment to close its side, then close."""
        try:
            if writer.can_write_eof():
                writer.write_eof()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.close_timeout):
                    while await reader.read(4096):
                        pass
        except OSError:
            pass
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def send(self, data: bytes, *, timeout: float | None = None) -> None:
        await self.connect()
        assert self._stream is not None
        (reader, writer), self._stream = self._stream, None
        try:
            writer.write(data)
            await asyncio.wait_for(writer.drain(), max(self.write_timeout, timeout or 0.0))
        except (OSError, TimeoutError) as exc:
            writer.transport.abort()
            raise classify(exc, f"sending to {self.where}") from exc
        await self._finish(reader, writer)

    async def request_status(self) -> bytes | None:
        if not self.answers_status:
            return None
        reader, writer = await self._connect()
        try:
            writer.write(STATUS_REQUEST)
            await asyncio.wait_for(writer.drain(), self.write_timeout)
            return await asyncio.wait_for(reader.readexactly(STATUS_SIZE), self.status_timeout)
        except (TimeoutError, asyncio.IncompleteReadError):
            return None
        except OSError as exc:
            raise classify(exc, f"status from {self.where}") from exc
        finally:
            writer.transport.abort()

    async def close(self) -> None:
        """Nothing stays open between jobs (a connection opened but never used is dropped here)."""
        if self._stream is not None:
            self._stream[1].transport.abort()
            self._stream = None


class UsbTransport:
    """The kernel usblp device (``/dev/usb/lp0``), or the printer a ``usb://Brother/PT-P700?serial=X`` URI
    names, found again by its IEEE 1284 id on every open (see :mod:`appliance.printer.usb_devices`).

    ``send`` writes a job in a worker thread and closes the device (the queue's way today).
    ``session()`` keeps it open, writes without blocking and reads the printer's status blocks
    meanwhile (see :mod:`appliance.printer.usb_session`); while a session of this process has the
    printer open, ``request_status`` of any UsbTransport for it asks through that session (usblp
    allows one open at a time: the status monitor's probes would fail with EBUSY otherwise).
    """

    def __init__(self, path: str | UsbSelector, *, connect_timeout: float = 5.0, write_timeout: float = 30.0,
                 status_timeout: float = 2.0, answers_status: bool = True) -> None:  # fmt: skip
        """`connect_timeout` is taken so every transport takes the queue's timeouts; opening a device
        node answers at once (it fails with ENOENT, ENODEV or EBUSY rather than wait)."""
        self.selector = path if isinstance(path, UsbSelector) else None
        self.path = path if isinstance(path, str) else ""
        """The node last opened (for a selector: last resolved; "" before the first)."""
        self.connect_timeout = connect_timeout
        self.write_timeout = write_timeout
        self.status_timeout = status_timeout
        self.answers_status = answers_status
        self._fd: int | None = None
        self._session: UsbSession | None = None

    @property
    def where(self) -> str:
        if self.selector is None:
            return self.path
        return f"{self.selector} ({self.path})" if self.path else str(self.selector)

    def resolve(self) -> str:
        """The device node to open now; a selector is looked up in sysfs again each time."""
        if self.selector is None:
            return self.path
        try:
            self.path = str(resolve(self.selector).path)
        except ResolveError as exc:
            # not plugged in: like a device node that is not there; two alike without ?serial=: a person must
            # say which (or unplug one): either way jobs wait, nothing is sent
            reason = "printer-ambiguous" if exc.ambiguous else "printer-offline"
            raise unreached(TransportError(exc.message, retryable=True, reason=reason)) from None
        return self.path

    def _open(self, flags: int = 0) -> int:
        path = self.resolve()
        try:
            return os.open(path, os.O_RDWR | os.O_CLOEXEC | os.O_NOCTTY | flags)
        except OSError as exc:
            raise unreached(classify(exc, f"opening {self.where}")) from exc

    async def connect(self) -> None:
        if self._fd is None:
            self._fd = await asyncio.to_thread(self._open)

    @staticmethod
    def _write_all(fd: int, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]

    def _send(self, fd: int, data: bytes) -> None:
        try:
            self._write_all(fd, data)
        except OSError as exc:
            raise classify(exc, f"writing to {self.where}") from exc
        finally:
            os.close(fd)

    def _status(self) -> bytes | None:
        """Ask and read until the reply: blocks the printer sent unasked (before or meanwhile) are skipped."""
        fd = self._open()
        try:
            _drop_waiting(fd)
            self._write_all(fd, STATUS_REQUEST)
            buffer = b""
            while True:
                ready, _, _ = select.select([fd], [], [], self.status_timeout)
                if not ready:
                    return None
                chunk = os.read(fd, 64)
                if not chunk:
                    return None
                buffer += chunk
                while len(buffer) >= STATUS_SIZE:
                    start = buffer.find(b"\x80\x20\x42")
                    if start < 0 or len(buffer) - start < STATUS_SIZE:
                        buffer = buffer[start:] if start >= 0 else buffer[-2:]
                        break
                    block, buffer = buffer[start:start + STATUS_SIZE], buffer[start + STATUS_SIZE:]
                    if block[18] == 0x00:  # status type 00: the reply
                        return block
        except OSError as exc:
            raise classify(exc, f"status from {self.where}") from exc
        finally:
            os.close(fd)

    async def send(self, data: bytes, *, timeout: float | None = None) -> None:
        """A write that outlasts the timeout is no longer waited for, but its thread goes on writing
        (a blocked write cannot be called back): the printer may still get, and print, all of it."""
        await self.connect()
        assert self._fd is not None
        fd, self._fd = self._fd, None
        try:
            await asyncio.wait_for(asyncio.to_thread(self._send, fd, data), max(self.write_timeout, timeout or 0.0))
        except TimeoutError as exc:
            raise classify(exc, f"writing to {self.where}") from exc

    async def session(self) -> UsbSession:
        """Open the device for one job and read its status blocks until the session is closed.
        Raises TransportError (``reached`` False) when it cannot be opened."""
        from appliance.printer.usb_session import UsbSession, device_lock

        if self._session is not None and self._session.fd is not None:
            raise RuntimeError(f"{self.where}: a session is already open")
        async with device_lock(await asyncio.to_thread(self.resolve)):  # after a probe that has it open
            fd = await asyncio.to_thread(self._open, os.O_NONBLOCK)
            self._session = UsbSession(fd, self.path, status_timeout=self.status_timeout)
        return self._session

    async def request_status(self) -> bytes | None:
        if not self.answers_status:
            return None
        session = self._session
        if session is not None and session.fd is not None and session.lost is not None:
            raise session.lost
        if session is None or not session.open:
            from appliance.printer.usb_session import device_lock, open_session

            path = await asyncio.to_thread(self.resolve)
            async with device_lock(path):  # no session opens while this probe reads the device itself
                session = open_session(path)  # another transport's, same printer (perhaps opened meanwhile)
                if session is None:
                    return await asyncio.to_thread(self._status)
        status = await session.request_status()
        return None if status is None else session.last_reply

    async def close(self) -> None:
        """The device is opened per job; one opened but never written to, or a session, is closed here."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._session is not None:
            await self._session.close()
            self._session = None


def _drop_waiting(fd: int) -> None:
    """Read away what waits on a freshly opened device (blocks from before): a reply follows the request."""
    while True:
        ready, _, _ = select.select([fd], [], [], 0)
        if not ready:
            return
        try:
            if not os.read(fd, 4096):
                return
        except BlockingIOError:
            return


class FileTransport:
    """Appends each job to a file: for debugging, and for decoding what would have been printed."""

    def __init__(self, path: str) -> None:
        self.path = path

    async def connect(self) -> None:
        """The file is opened for each job by ``send``."""

    def _append(self, data: bytes) -> None:
        with open(self.path, "ab") as stream:
            stream.write(data)

    async def send(self, data: bytes, *, timeout: float | None = None) -> None:
        try:
            await asyncio.to_thread(self._append, data)
        except OSError as exc:
            raise classify(exc, f"writing {self.path}") from exc

    async def request_status(self) -> bytes | None:
        return None

    async def close(self) -> None:
        """Nothing stays open."""


def open_transport(uri: str, *, answers_status: bool | None = None, **timeouts: float) -> Transport:
    """Open ``tcp://host[:port]``, ``usb:///dev/usb/lp0``, ``usb://Brother/PT-P700?serial=X`` or ``file:///path``.

    ``timeouts`` go to the transport (connect_timeout, write_timeout, status_timeout …).
    ``answers_status`` None means the transport's default (TCP no, USB yes).
    """
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    extra = {} if answers_status is None else {"answers_status": answers_status}
    if scheme == "tcp":
        if not parts.hostname:
            raise InvalidURIError(f"{uri!r}: a tcp URI needs a host, like tcp://192.168.1.50:9100")
        try:
            port = parts.port or 9100
        except ValueError:
            raise InvalidURIError(f"{uri!r}: the port must be a number 1..65535") from None
        return TcpTransport(parts.hostname, port, **extra, **timeouts)
    if scheme == "usb":
        try:
            return UsbTransport(parse_usb_uri(uri), **extra, **timeouts)
        except UsbUriError as exc:
            raise InvalidURIError(str(exc)) from None
    if scheme == "file":
        if parts.netloc or not parts.path.startswith("/"):
            raise InvalidURIError(f"{uri!r}: write an absolute path after three slashes, like {scheme}:///dev/usb/lp0")
        return FileTransport(parts.path)
    raise InvalidURIError(f"unsupported printer URI {uri!r}; use tcp://host[:port], usb:///dev/usb/lp0, "
                          "usb://Brother/MODEL?serial=SERIAL or file:///path")
