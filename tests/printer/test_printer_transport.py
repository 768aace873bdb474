"""Transports against real sockets, a pty standing in for the usblp device, and real files."""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import tty
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from appliance.printer.status import build_status_block, parse_status
from appliance.printer.transport import (
    STATUS_REQUEST,
    FileTransport,
    InvalidURIError,
    TcpTransport,
    TransportError,
    UsbTransport,
    classify,
    open_transport,
)


class Sink:
    """A tiny raw-9100 printer: records what each connection sent and whether it ended with EOF."""

    def __init__(self) -> None:
        self.jobs: list[bytes] = []
        self.clean_eof: list[bool] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = await reader.read()  # until EOF: the client shut its write side
        self.jobs.append(data)
        self.clean_eof.append(reader.at_eof())
        writer.close()


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., asyncio.Future[int]]]:
    servers: list[asyncio.Server] = []

    async def start(handler) -> int:  # type: ignore[no-untyped-def]
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        servers.append(server)
        return server.sockets[0].getsockname()[1]

    yield start  # type: ignore[misc]
    for server in servers:
        server.close()
        await server.wait_closed()


async def test_tcp_sends_everything_and_closes_cleanly(serve) -> None:  # type: ignore[no-untyped-def]
    sink = Sink()
    port = await serve(sink.handle)
    transport = TcpTransport("127.0.0.1", port, connect_timeout=2, write_timeout=5)
    payload = os.urandom(3 * 1024 * 1024)
    await transport.send(payload)
    await transport.send(b"second job")
    await transport.close()
    assert sink.jobs == [payload, b"second job"]
    assert sink.clean_eof == [True, True]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_tcp_refused_is_retryable_offline() -> None:
    transport = TcpTransport("127.0.0.1", _free_port(), connect_timeout=2)
    with pytest.raises(TransportError) as info:
        await transport.send(b"x")
    assert (info.value.retryable, info.value.reason) == (True, "printer-offline")


async def test_tcp_write_timeout_is_retryable(serve) -> None:  # type: ignore[no-untyped-def]
    stalled = asyncio.Event()

    async def never_reads(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await stalled.wait()
        writer.close()

    port = await serve(never_reads)
    transport = TcpTransport("127.0.0.1", port, write_timeout=0.3)
    with pytest.raises(TransportError) as info:
        await transport.send(b"\x00" * (64 * 1024 * 1024))
    stalled.set()
    assert (info.value.retryable, info.value.reason) == (True, "timed-out")


async def test_tcp_reset_is_retryable(serve) -> None:  # type: ignore[no-untyped-def]
    async def resets(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        await reader.read(10)
        writer.transport.abort()

    port = await serve(resets)
    transport = TcpTransport("127.0.0.1", port, write_timeout=5)
    with pytest.raises(TransportError) as info:
        await transport.send(b"\x00" * (32 * 1024 * 1024))
    assert info.value.retryable
    assert info.value.reason in ("connection-reset", "printer-offline")


async def test_tcp_bad_host_is_not_retryable() -> None:
    transport = TcpTransport("no-such-host.invalid", 9100, connect_timeout=5)
    with pytest.raises(TransportError) as info:
        await transport.send(b"x")
    assert (info.value.retryable, info.value.reason) == (False, "host-not-found")


async def test_tcp_mdns_name_of_a_printer_that_is_off_is_waited_for() -> None:
    # BRWxxxx.local is answered by the printer itself: unknown while it is off, not a wrong setting
    transport = TcpTransport("BRW000000000000.local", 9100, connect_timeout=3)
    with pytest.raises(TransportError) as info:
        await transport.connect()
    assert (info.value.retryable, info.value.reached, info.value.reason) == (True, False, "printer-offline")


def test_a_resolver_not_answering_yet_is_retryable() -> None:
    # EAI_AGAIN: the DNS server is not reachable yet, as on a box booting after a power cut
    error = classify(socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"), "connecting")
    assert (error.retryable, error.reason) == (True, "printer-offline") and "yet" in error.message


async def test_tcp_status_only_when_the_model_answers(serve) -> None:  # type: ignore[no-untyped-def]
    block = build_status_block(model_code=0x68, media_width_mm=12, media_type="laminated")

    async def answers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received = b""
        while not received.endswith(b"\x1biS"):
            received += await reader.read(100)
        writer.write(block)
        await writer.drain()
        await reader.read()
        writer.close()

    port = await serve(answers)
    assert await TcpTransport("127.0.0.1", port).request_status() is None
    assert await TcpTransport("127.0.0.1", port, answers_status=True).request_status() == block

    silent = await serve(Sink().handle)
    assert await TcpTransport("127.0.0.1", silent, answers_status=True, status_timeout=0.2).request_status() is None


@pytest.fixture
def pty_device() -> Iterator[tuple[int, str]]:
    """A pty in raw mode standing in for /dev/usb/lp0: we hold the printer's end (the master)."""
    master, slave = os.openpty()
    tty.setraw(slave)
    try:
        yield master, os.ttyname(slave)
    finally:
        os.close(master)
        os.close(slave)


def _read_exactly(fd: int, count: int) -> bytes:
    data = b""
    while len(data) < count:
        data += os.read(fd, count - len(data))
    return data


async def test_usb_sends_and_reads_status(pty_device: tuple[int, str]) -> None:
    master, path = pty_device
    transport = UsbTransport(path, status_timeout=2)
    job = os.urandom(2000)
    reader = asyncio.create_task(asyncio.to_thread(_read_exactly, master, len(job)))
    await transport.send(job)
    assert await reader == job

    block = build_status_block(model_code=0x68, media_width_mm=12, media_type="laminated")

    def printer() -> bytes:
        request = _read_exactly(master, len(STATUS_REQUEST))
        os.write(master, block)
        return request

    answered = asyncio.create_task(asyncio.to_thread(printer))
    assert await transport.request_status() == block
    assert (await answered).endswith(b"\x1b@\x1biS")
    assert parse_status(block).media_width_mm == 12


async def test_usb_status_none_when_the_printer_stays_silent(pty_device: tuple[int, str]) -> None:
    master, path = pty_device
    drain = asyncio.create_task(asyncio.to_thread(_read_exactly, master, 104))
    assert await UsbTransport(path, status_timeout=0.2).request_status() is None
    await drain
    assert await UsbTransport(path, answers_status=False).request_status() is None


async def test_usb_missing_device_is_retryable_offline(tmp_path: Path) -> None:
    with pytest.raises(TransportError) as info:
        await UsbTransport(str(tmp_path / "lp0")).send(b"x")
    assert (info.value.retryable, info.value.reason) == (True, "printer-offline")


async def test_usb_writes_a_plain_file_too(tmp_path: Path) -> None:
    target = tmp_path / "lp0"
    target.touch()
    await UsbTransport(str(target)).send(b"\x1b@hello")
    assert target.read_bytes() == b"\x1b@hello"


@pytest.mark.parametrize("scheme", ["tcp://127.0.0.1:9100", "usb:///dev/usb/lp0", "file:///tmp/out.prn"])
def test_every_transport_takes_the_timeouts_the_queue_gives(scheme: str) -> None:
    # the queue opens each printer with its connect and write timeouts, whatever its kind
    transport = open_transport(scheme, connect_timeout=1.5, write_timeout=7.0)
    assert getattr(transport, "write_timeout", 7.0) == 7.0


async def test_file_transport_appends_jobs(tmp_path: Path) -> None:
    target = tmp_path / "out.prn"
    transport = open_transport(f"file://{target}")
    assert isinstance(transport, FileTransport)
    await transport.send(b"one")
    await transport.send(b"two")
    assert target.read_bytes() == b"onetwo"
    assert await transport.request_status() is None
    with pytest.raises(TransportError) as info:
        await FileTransport(str(tmp_path / "missing" / "x.prn")).send(b"x")
    assert info.value.reason == "printer-offline"


def test_open_transport_parses_uris() -> None:
    tcp = open_transport("tcp://192.168.1.50", connect_timeout=1.5)
    assert isinstance(tcp, TcpTransport)
    assert (tcp.host, tcp.port, tcp.connect_timeout, tcp.answers_status) == ("192.168.1.50", 9100, 1.5, False)
    tcp6 = open_transport("tcp://[::1]:9101")
    assert isinstance(tcp6, TcpTransport)
    assert (tcp6.host, tcp6.port) == ("::1", 9101)
    usb = open_transport("usb:///dev/usb/lp0", write_timeout=3)
    assert isinstance(usb, UsbTransport)
    assert (usb.path, usb.write_timeout, usb.answers_status) == ("/dev/usb/lp0", 3, True)


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("http://printer", "unsupported printer URI"),
        ("/dev/usb/lp0", "unsupported printer URI"),
        ("tcp://", "needs a host"),
        ("tcp://host:99999", "port must be a number"),
        ("usb://dev/usb/lp0", "three slashes"),
        ("file://relative", "three slashes"),
    ],
)
def test_open_transport_rejects(uri: str, message: str) -> None:
    with pytest.raises(InvalidURIError, match=message):
        open_transport(uri)
