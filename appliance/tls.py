"""TLS for the TCP listener: a self-signed certificate kept in the state directory, or given files.

`self-signed`: at the first start the appliance makes an ECDSA P-256 key and a certificate valid
for ten years, naming the host (`HOST`, `HOST.local`, `localhost`) and the addresses it listens
on, in `<state_dir>/tls/` (key and certificate mode 0600). It is kept across restarts (clients
pin its fingerprint, so a new one at each start would make them refuse the appliance) and goes
into backups; `appliance tls rotate` makes a new one. `cryptography` is imported only to make one.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import os
import socket
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from rpc.trust import fingerprint_of_pem

from .config import ServerSettings, parse_listen

TLS_DIR = "tls"
CERT_FILE = "cert.pem"
KEY_FILE = "key.pem"
VALID_DAYS = 3650


class TlsError(RuntimeError):
    """A certificate or key that cannot be used; the message says which file and the fix."""


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path


def state_files(state_dir: Path) -> TlsFiles:
    folder = state_dir / TLS_DIR
    return TlsFiles(folder / CERT_FILE, folder / KEY_FILE)


def configured_files(server: ServerSettings, state_dir: Path) -> TlsFiles | None:
    """Where the listener's certificate is (None when TLS is off)."""
    if server.tls == "off":
        return None
    if server.tls == "files":
        return TlsFiles(Path(server.tls_cert), Path(server.tls_key))
    return state_files(state_dir)


def names_for(listen: str) -> tuple[list[str], list[str]]:
    """(DNS names, IP addresses) for the certificate: the host, HOST.local, localhost, loopback and
    the listen address (the host's own addresses when it listens on every one)."""
    host = socket.gethostname().split(".")[0] or "appliance"
    dns = list(dict.fromkeys([host.lower(), f"{host.lower()}.local", "localhost"]))
    addresses = ["127.0.0.1", "::1"]
    bind, _ = parse_listen(listen)
    if bind in ("*", "", "0.0.0.0", "::"):
        with contextlib.suppress(OSError):
            addresses += [info[4][0] for info in socket.getaddrinfo(host, None)]
        addresses += interface_addresses()
    else:
        try:
            ipaddress.ip_address(bind)
            addresses.append(bind)
        except ValueError:
            dns.append(bind.lower())
    return dns, list(dict.fromkeys(a.split("%", 1)[0] for a in addresses))


def interface_addresses() -> list[str]:
    """This host's own addresses, so `curl --cacert` by IP works too (Linux: IPv4 by ioctl on each interface,
    IPv6 from /proc/net/if_inet6; nothing is sent). A later DHCP lease is not in it: use HOST.local then."""
    found: list[str] = []
    try:
        import fcntl
        import struct

        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            for _, name in socket.if_nameindex():
                with contextlib.suppress(OSError):  # an interface without an IPv4 address
                    packed = fcntl.ioctl(probe.fileno(), 0x8915, struct.pack("256s", name.encode()[:15]))  # SIOCGIFADDR
                    found.append(socket.inet_ntoa(packed[20:24]))
    except (ImportError, OSError):
        pass
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/net/if_inet6").read_text().splitlines():
            address = ipaddress.IPv6Address(bytes.fromhex(line.split()[0]))
            if not address.is_link_local:  # a link-local address needs its interface named: no use in a certificate
                found.append(str(address))
    return found


def make_self_signed(files: TlsFiles, dns: list[str], addresses: list[str]) -> None:
    """A new ECDSA P-256 key and ten-year certificate at `files` (replacing any), each file mode 0600."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns[0]),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Label Appliance")])
    now = datetime.datetime.now(datetime.UTC)
    alt = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            # what strict verifiers (OpenSSL's X509_STRICT, the default from Python 3.13) ask of a certificate
            # that is its own authority: key usages and both key identifiers
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    files.cert.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # the key first: a certificate on disk always has its key beside it
    _write_private(files.key, key_pem)
    _write_private(files.cert, cert.public_bytes(serialization.Encoding.PEM))


def _write_private(path: Path, data: bytes) -> None:
    fd, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mkstemp: mode 0600
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(partial)
        raise


def ensure(server: ServerSettings, state_dir: Path) -> TlsFiles | None:
    """The listener's certificate files, making the self-signed pair when there is none yet."""
    files = configured_files(server, state_dir)
    if files is None:
        return None
    if server.tls == "self-signed" and not (files.cert.is_file() and files.key.is_file()):
        make_self_signed(files, *names_for(server.listen))
    for what, path in (("certificate", files.cert), ("key", files.key)):
        if not path.is_file():
            raise TlsError(f"TLS {what} {path} does not exist: fix server.tls_{'cert' if what != 'key' else 'key'} "
                           "or set server.tls = \"self-signed\"")
    return files


def server_context(files: TlsFiles) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    load(context, files)
    return context


def load(context: ssl.SSLContext, files: TlsFiles) -> None:
    """Load (or reload: new connections get it) the certificate into `context`; TlsError in words."""
    try:
        context.load_cert_chain(files.cert, files.key)
    except (ssl.SSLError, OSError) as exc:
        raise TlsError(f"cannot use the TLS certificate {files.cert} with key {files.key}: "
                       f"{getattr(exc, 'reason', None) or exc}") from None


def fingerprint(files: TlsFiles) -> str:
    """The certificate's SHA-256 fingerprint (the first one in a chain), as clients pin it."""
    try:
        return fingerprint_of_pem(files.cert.read_text())
    except (OSError, ValueError) as exc:
        raise TlsError(f"cannot read the TLS certificate {files.cert}: {exc}") from None


def expiry(files: TlsFiles) -> datetime.datetime | None:
    """When the certificate stops being valid (None if it cannot be read: the listener says why)."""
    from cryptography import x509

    try:
        return x509.load_pem_x509_certificate(files.cert.read_bytes()).not_valid_after_utc
    except (OSError, ValueError):
        return None


class ServedCertificate:
    """The listener's TLS context and the fingerprint it serves; picks up a rotated certificate."""

    def __init__(self, files: TlsFiles) -> None:
        self.files = files
        self.context = server_context(files)
        self.fingerprint = fingerprint(files)
        self.expires = expiry(files)
        self._stamp = self._mtimes()

    def _mtimes(self) -> tuple[float, float]:
        try:
            return self.files.cert.stat().st_mtime, self.files.key.stat().st_mtime
        except OSError:
            return 0.0, 0.0

    def describe(self) -> dict[str, str | None]:
        """For server.info and the readiness check."""
        return {"fingerprint": self.fingerprint,
                "expires_at": self.expires.strftime("%Y-%m-%dT%H:%M:%SZ") if self.expires else None}

    def reload_if_changed(self) -> bool:
        """Load the files again when they changed on disk; a pair that does not load keeps the old one."""
        stamp = self._mtimes()
        if stamp == self._stamp or 0.0 in stamp:
            return False
        self._stamp = stamp
        try:
            load(self.context, self.files)
            self.fingerprint = fingerprint(self.files)
            self.expires = expiry(self.files)
        except TlsError as exc:
            from . import logs

            logs.get("appliance.tls").error("tls.reload_failed", error=str(exc))
            return False
        from . import logs

        logs.get("appliance.tls").info("tls.reloaded", fingerprint=self.fingerprint)
        return True
