"""Malformed HTTP from the network: a 400, one JSON warning per peer (no traceback), and the server goes on."""

from __future__ import annotations

import io
import json
import logging
import socket
import urllib.request
from pathlib import Path

import structlog

from appliance import logs
from tests.support import start_server, stop_server

TLS_CLIENT_HELLO = bytes.fromhex(
    "160301002a0100002603035a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a000002c02f0100")
MALFORMED = {
    "bad Content-Length": b"POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}",
    "bad chunk size": b"POST /rpc HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
    "request line over 8 KiB": b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "500 headers": b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(500))
    + b"\r\n",
    "TLS hello": TLS_CLIENT_HELLO,
}


def _send(host: str, port: int, data: bytes, source: str = "127.0.0.1") -> bytes:
    with socket.create_connection((host, port), timeout=5, source_address=(source, 0)) as raw:
        raw.sendall(data)
        return raw.recv(4096)


def test_malformed_requests_are_one_json_warning_per_peer_and_the_server_serves(tmp_path: Path) -> None:
    server, url = start_server(tmp_path)
    host, port = url.removeprefix("http://").rsplit(":", 1)
    try:
        for name, data in MALFORMED.items():
            assert _send(host, int(port), data).startswith(b"HTTP/1.") and b" 400 " in _send(
                host, int(port), data, source="127.0.0.2"), name
        with urllib.request.urlopen(url + "/healthz", timeout=5) as response:
            assert response.status == 200
    finally:
        _, err = stop_server(server)
    lines = err.splitlines()
    events = [json.loads(line) for line in lines]  # every line the server wrote is one JSON object
    assert all(isinstance(event, dict) for event in events)
    assert [e for e in events if e["level"] in ("error", "critical")] == []
    assert "Traceback" not in err
    bad = [e for e in events if e["event"] == "http.bad_request"]
    # ten malformed requests from two peers in well under ten seconds: one line for each peer
    assert sorted(e["peer"] for e in bad) == ["127.0.0.1", "127.0.0.2"]
    assert all(e["level"] == "warning" and e["reason"] and "\n" not in e["reason"] for e in bad)
    assert events[-1]["event"] == "appliance.stopped"


def _bridged(record: logging.LogRecord) -> list[dict[str, object]]:
    saved = structlog.get_config()
    stream = io.StringIO()
    try:
        logs.configure("json", stream=stream)
        handler = next(h for h in logging.getLogger().handlers if isinstance(h, logs.StdlibBridge))
        handler.handle(record)
    finally:
        structlog.configure(**saved)
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_library_error_with_a_traceback_is_one_line_with_secrets_redacted() -> None:
    try:
        raise RuntimeError("boom with Bearer abc.def")
    except RuntimeError:
        import sys

        exc_info = sys.exc_info()
    record = logging.LogRecord("aiohttp.web", logging.ERROR, __file__, 1, "bad header %r / Bearer abc.def",
                               ("la_" + "x" * 20,), exc_info)
    (event,) = _bridged(record)
    assert event["event"] == "bad header 'la_***' / Bearer ***"
    assert event["level"] == "error" and event["logger"] == "aiohttp.web"
    assert "RuntimeError" in event["exception"] and "abc.def" not in event["exception"]


def test_the_parser_reason_leaves_out_the_bytes_it_echoes() -> None:
    from aiohttp.http_exceptions import BadHttpMessage, LineTooLong

    echo = BadHttpMessage("Invalid character in Content-Length:\n\n    b'Content-Length: la_" + "s" * 20 + "'\n ^")
    assert logs.bad_request_reason(echo) == "Invalid character in Content-Length"
    assert logs.bad_request_reason(LineTooLong("a" * 9000, "8190")).startswith("Got more than 8190 bytes")
    assert "aaaa" not in logs.bad_request_reason(LineTooLong("a" * 9000, "8190"))
