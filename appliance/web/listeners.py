"""Start the app on TCP (IPv4 and IPv6) and on the trusted unix socket (mode 0660)."""

from __future__ import annotations

import contextlib
import grp
import os
import socket
import ssl
from pathlib import Path

from aiohttp import web


class SocketInUse(RuntimeError):
    pass


def _socket_alive(path: Path) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(0.5)
    try:
        probe.connect(str(path))
    except OSError:
        return False
    finally:
        probe.close()
    return True


def prepare_socket_path(path: Path) -> None:
    """Remove a stale socket file; refuse when another server still answers on it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() or path.is_socket():
        if _socket_alive(path):
            raise SocketInUse(f"another appliance is already listening on {path}")
        path.unlink()


class Listeners:
    def __init__(self, app: web.Application, *, host: str, port: int, socket_path: Path, socket_mode: int,
                 socket_group: str = "", shutdown_timeout: float = 10.0,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        """`ssl_context`: TLS on the TCP listener (the unix socket stays plain: its file mode guards it)."""
        self.app = app
        self.host = host
        self.port = port
        self.socket_path = socket_path
        self.socket_mode = socket_mode
        self.socket_group = socket_group
        self.ssl_context = ssl_context
        self.runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=shutdown_timeout)
        self.tcp_addresses: list[tuple[str, int]] = []

    async def start(self) -> None:
        await self.runner.setup()
        prepare_socket_path(self.socket_path)
        unix = web.UnixSite(self.runner, str(self.socket_path))
        await unix.start()
        os.chmod(self.socket_path, self.socket_mode)
        if self.socket_group:
            os.chown(self.socket_path, -1, grp.getgrnam(self.socket_group).gr_gid)
        host = None if self.host in ("*", "") else self.host
        tcp = web.TCPSite(self.runner, host, self.port, reuse_address=True, ssl_context=self.ssl_context)
        await tcp.start()
        server = tcp._server
        if server is not None and getattr(server, "sockets", None):
            self.tcp_addresses = [s.getsockname()[:2] for s in server.sockets]

    @property
    def port_bound(self) -> int:
        return self.tcp_addresses[0][1] if self.tcp_addresses else self.port

    @property
    def url(self) -> str:
        host, port = self.tcp_addresses[0] if self.tcp_addresses else (self.host, self.port)
        if ":" in host:
            host = f"[{host}]"
        if host in ("0.0.0.0", "[::]"):
            host = "127.0.0.1" if host == "0.0.0.0" else "[::1]"
        return f"{'https' if self.ssl_context else 'http'}://{host}:{port}"

    async def stop(self) -> None:
        await self.runner.cleanup()
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()
