"""Trust on first use for ``https://`` appliances: SHA-256 fingerprints pinned in ``known_hosts``.

An appliance on a LAN has no certificate authority: it makes its own certificate. As SSH does,
the first connection shows that certificate's fingerprint and pins it (when a person says yes on a
terminal, or the caller gives it with ``--fingerprint`` / ``APPLIANCE_FINGERPRINT``); later
connections must present the very same certificate. A certificate a system-trusted authority
signed is accepted as usual, with no pin.

The pins live in ``$XDG_CONFIG_HOME/label-appliance/known_hosts`` (``~/.config/…``), one
``host:port SHA256:…`` line each. Connections to a pinned address use aiohttp's own
fingerprint check, so no certificate is taken on trust between the check and the call.

Imports only the standard library, aiohttp and the rest of ``rpc``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import os
import ssl
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from .errors import INTERNAL_ERROR, RpcError

PREFIX = "SHA256:"
ENV = "APPLIANCE_FINGERPRINT"

# a person asked on a terminal: (host:port, fingerprint) → pin it?
Ask = Callable[[str, str], bool]


class CertificateRefused(RpcError):
    """The appliance's certificate is not trusted: unknown and not confirmed, or not the pinned one."""

    code = INTERNAL_ERROR


def fingerprint_text(digest: bytes) -> str:
    """``SHA256:`` and the digest in unpadded base64, as OpenSSH shows a host key."""
    return PREFIX + base64.b64encode(digest).decode("ascii").rstrip("=")


def fingerprint_of_der(der: bytes) -> str:
    return fingerprint_text(hashlib.sha256(der).digest())


def fingerprint_of_pem(pem: str) -> str:
    """Of the first certificate in `pem` (a chain starts with the server's own)."""
    end = "-----END CERTIFICATE-----"
    first = pem.strip().split(end, 1)[0] + end
    return fingerprint_of_der(ssl.PEM_cert_to_DER_cert(first))


def parse_fingerprint(text: str) -> bytes:
    """The 32-byte digest in ``SHA256:<base64>`` (ours) or hex with or without colons (openssl's);
    ValueError saying what is expected."""
    raw = text.strip()
    if raw[:7].upper() == PREFIX:
        raw = raw[7:]
    hex_digits = raw.replace(":", "")
    if len(hex_digits) == 64:
        with contextlib.suppress(ValueError):
            return bytes.fromhex(hex_digits)
    try:
        digest = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != 32:
        raise ValueError(f"{text!r} is not a SHA-256 fingerprint: give it as `appliance check` shows it "
                         "(SHA256: and 43 characters) or as 64 hex digits")
    return digest


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(base) / "label-appliance"


def host_port(url: str) -> str:
    """``host:port`` of an https URL (``[::1]:8631`` for IPv6), the key of its pin."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"[{host}]:{port}" if ":" in host else f"{host.lower()}:{port}"


class KnownHosts:
    """The pinned fingerprints: read on each look (another client may have pinned one), written atomically."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or config_dir() / "known_hosts"

    def pins(self) -> dict[str, bytes]:
        try:
            text = self.path.read_text()
        except (FileNotFoundError, NotADirectoryError):
            return {}
        found: dict[str, bytes] = {}
        for line in text.splitlines():
            key, _, value = line.strip().partition(" ")
            if not key or key.startswith("#"):
                continue
            with contextlib.suppress(ValueError):
                found[key] = parse_fingerprint(value)
        return found

    def get(self, key: str) -> bytes | None:
        return self.pins().get(key)

    def put(self, key: str, digest: bytes) -> None:
        pins = self.pins()
        pins[key] = digest
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        lines = ["# label-appliance: pinned certificate fingerprints (host:port SHA256:...)"]
        lines += [f"{k} {fingerprint_text(v)}" for k, v in sorted(pins.items())]
        fd, partial = tempfile.mkstemp(dir=self.path.parent, prefix=".known_hosts.")
        try:
            with os.fdopen(fd, "w") as out:
                out.write("\n".join(lines) + "\n")
            os.replace(partial, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(partial)
            raise


def changed_message(key: str, pinned: bytes | str, seen: bytes | str, known: KnownHosts) -> str:
    """What a person is told when the appliance presents another certificate than the pinned one."""
    old = pinned if isinstance(pinned, str) else fingerprint_text(pinned)
    new = seen if isinstance(seen, str) else fingerprint_text(seen)
    return (f"the certificate of {key} is not the one pinned: pinned {old}, presented {new}. Someone may be "
            "intercepting the connection, or the appliance has a new certificate (`appliance tls rotate`, a "
            "reinstall). Check the fingerprint `appliance check` shows on the appliance; if it is "
            f"{new}, accept it with --fingerprint {new} (or {ENV}), which replaces the pin in {known.path}")


def unknown_message(key: str, seen: bytes) -> str:
    shown = fingerprint_text(seen)
    return (f"{key} presents a certificate that no authority this computer trusts has signed, and none is pinned "
            f"for it yet: {shown}. Compare it with the fingerprint `appliance check` shows on the appliance, then "
            f"connect with --fingerprint {shown} (or {ENV}) to pin it")


async def peer_certificate(host: str, port: int, timeout: float = 5.0) -> bytes:
    """The DER certificate the server at host:port presents (not verified: it is only looked at)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    async with asyncio.timeout(timeout):
        _, writer = await asyncio.open_connection(host, port, ssl=context, server_hostname=host)
    try:
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
    return bytes(der or b"")


async def authority_vouches(host: str, port: int, timeout: float = 5.0) -> bool:
    """Whether the system's certificate authorities accept the server's certificate for `host`."""
    try:
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(host, port, ssl=ssl.create_default_context(),
                                                      server_hostname=host)
    except ssl.SSLCertVerificationError:
        return False
    writer.close()
    with contextlib.suppress(Exception):
        await writer.wait_closed()
    return True


async def ssl_for(url: str, *, fingerprint: str | None = None, ask: Ask | None = None,
                  known: KnownHosts | None = None, timeout: float = 5.0, look: bool = False) -> Any:
    """aiohttp's ``ssl=`` for connections to `url`: None for http://, True (the system's authorities)
    or an ``aiohttp.Fingerprint`` of the pinned certificate; CertificateRefused otherwise.

    `fingerprint` (``--fingerprint``): pin the certificate when it is this one, replacing an older pin
    (how a legitimate change is accepted). `ask`: a person's answer, on first use only. `look`: connect
    now to compare a pinned certificate (a command's check before it starts, which can say so at once);
    otherwise the pin is checked by aiohttp on each connection (see `refusal_for`).
    """
    if urlsplit(url).scheme != "https":
        return None
    known = known or KnownHosts()
    key = host_port(url)
    try:
        given = parse_fingerprint(fingerprint) if fingerprint else None
    except ValueError as exc:
        raise CertificateRefused(f"--fingerprint / {ENV}: {exc}") from None
    pinned = known.get(key)
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 443
    if pinned is not None and (given is None or given == pinned):
        if look:
            seen = await _presented(url, host, port, timeout)
            if seen != pinned:
                raise CertificateRefused(changed_message(key, pinned, seen, known))
        return aiohttp.Fingerprint(pinned)
    try:
        if given is None and pinned is None and await authority_vouches(host, port, timeout):
            return True
    except (OSError, TimeoutError, ssl.SSLError) as exc:
        raise _unreachable(url, exc) from None
    seen = await _presented(url, host, port, timeout)
    if given is not None:
        if seen != given:
            raise CertificateRefused(f"{key} presents {fingerprint_text(seen)}, not the {fingerprint_text(given)} "
                                     "given: nothing was pinned. Check the fingerprint `appliance check` shows on "
                                     "the appliance")
    elif ask is None or not ask(key, fingerprint_text(seen)):
        raise CertificateRefused(unknown_message(key, seen))
    try:
        known.put(key, seen)
    except OSError as exc:
        raise CertificateRefused(f"cannot pin {key}'s certificate in {known.path}: {exc}") from None
    return aiohttp.Fingerprint(seen)


async def _presented(url: str, host: str, port: int, timeout: float) -> bytes:
    try:
        return hashlib.sha256(await peer_certificate(host, port, timeout)).digest()
    except (OSError, TimeoutError, ssl.SSLError) as exc:
        raise _unreachable(url, exc) from None


def _unreachable(url: str, exc: BaseException) -> CertificateRefused:
    return CertificateRefused(f"cannot reach the appliance at {url} over TLS: {exc or type(exc).__name__}. Is it "
                              "running, and serving https:// on that port ([server] tls)?")


def refusal_for(exc: BaseException, url: str, known: KnownHosts | None = None) -> CertificateRefused | None:
    """The CertificateRefused for an aiohttp connection error due to the certificate, else None."""
    known = known or KnownHosts()
    if isinstance(exc, aiohttp.ServerFingerprintMismatch):
        return CertificateRefused(changed_message(host_port(url), exc.expected, exc.got, known))
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return CertificateRefused(f"the certificate of {host_port(url)} is not trusted: {exc.certificate_error}")
    return None
