"""TLS on the TCP listener: the self-signed certificate (made once, kept, rotated, backed up), given files,
curl with --cacert, plain http:// refused clearly, and trust on first use in rpc.client / rpc.ws_client."""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import os
import shutil
import socket
import ssl
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from appliance import tls
from appliance.config import ConfigError, load
from appliance.store.backup import backup
from rpc.client import CertificateRefused, RpcClient, TransportFailure
from rpc.trust import KnownHosts, fingerprint_text, parse_fingerprint, ssl_for
from rpc.ws_client import ConnectionLost, WsClient
from tests.support import PYTHON, cli_env, make_settings, running

TLS = {"tls": "self-signed"}


def openssl_fingerprint(cert: Path) -> bytes | None:
    """The SHA-256 fingerprint as openssl computes it, to hold ours to another tool's."""
    if shutil.which("openssl") is None:
        return None
    out = subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-fingerprint", "-sha256"],
                         capture_output=True, text=True, check=True).stdout
    return parse_fingerprint(out.strip().split("=", 1)[1])


async def test_self_signed_is_made_once_kept_across_restarts_and_verifies_with_curl(state_dir: Path,
                                                                                     tmp_path: Path) -> None:
    settings = make_settings(state_dir, server=TLS)
    async with running(settings) as app:
        files = tls.state_files(state_dir)
        for path in (files.cert, files.key):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
        assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
        assert cert.public_key().curve.name == "secp256r1"
        years = (cert.not_valid_after_utc - cert.not_valid_before_utc).days / 365
        assert 9.9 < years < 10.1
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        host = socket.gethostname().split(".")[0].lower()
        assert {host, f"{host}.local"} <= set(san.get_values_for_type(x509.DNSName))
        assert "127.0.0.1" in {str(a) for a in san.get_values_for_type(x509.IPAddress)}

        url = app.listeners.url
        assert url.startswith("https://127.0.0.1:")
        async with RpcClient(socket_path=str(settings.socket_path)) as local:
            info = await local.call("server.info")
        fingerprint = info["tls"]["fingerprint"]
        assert fingerprint == app.tls.fingerprint
        assert parse_fingerprint(fingerprint) == hashlib.sha256(cert.public_bytes(Encoding.DER)).digest()
        expected = openssl_fingerprint(files.cert)
        if expected is not None:
            assert parse_fingerprint(fingerprint) == expected
        document = await app.readiness()
        assert document["checks"]["tls:certificate"][0]["observedValue"] == fingerprint

        if shutil.which("curl"):
            verified = await asyncio.to_thread(subprocess.run, ["curl", "-sS", "--max-time", "10", "--cacert",
                                               str(files.cert), url + "/readiness"], capture_output=True, text=True)
            assert verified.returncode == 0, verified.stderr
            assert '"status":"pass"' in verified.stdout.replace(" ", "")
            unverified = await asyncio.to_thread(subprocess.run, ["curl", "-sS", "--max-time", "10",
                                                 url + "/readiness"], capture_output=True, text=True)
            assert unverified.returncode != 0  # no --cacert: curl does not trust a self-signed certificate
            plain = await asyncio.to_thread(subprocess.run, ["curl", "-sS", "--max-time", "10",
                                            url.replace("https:", "http:") + "/readiness"],
                                            capture_output=True, text=True)
            assert plain.returncode != 0

        strict = ssl.create_default_context(cafile=str(files.cert))  # as Python 3.13 and newer verify by default
        strict.verify_flags |= ssl.VERIFY_X509_STRICT
        _, writer = await asyncio.open_connection("127.0.0.1", app.listeners.port_bound, ssl=strict,
                                                  server_hostname="127.0.0.1")
        writer.close()
        with pytest.raises(TransportFailure) as plain_call:
            async with RpcClient(url.replace("https:", "http:"), token="la_x") as client:
                await client.call("server.info")
        assert "https://" in plain_call.value.message and "TLS" in plain_call.value.message
    async with running(settings) as again:  # restarted: the same certificate, so pins still hold
        assert again.tls.fingerprint == fingerprint

    target = tmp_path / "backup.db"
    result = await asyncio.to_thread(backup, state_dir, target)
    assert result.tls is not None
    assert (result.tls / "cert.pem").read_bytes() == files.cert.read_bytes()
    assert (result.tls / "key.pem").read_bytes() == files.key.read_bytes()
    assert stat.S_IMODE((result.tls / "key.pem").stat().st_mode) == 0o600
    assert stat.S_IMODE(result.tls.stat().st_mode) == 0o700


async def test_first_use_pins_a_changed_certificate_is_refused_naming_both(state_dir: Path, tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    known = KnownHosts()
    assert known.path == tmp_path / "config" / "label-appliance" / "known_hosts"
    first = make_settings(state_dir, server=TLS)
    async with running(first) as app:
        url, mine = app.listeners.url, app.tls.fingerprint
        with pytest.raises(CertificateRefused) as unknown:  # no pin, no fingerprint, nobody to ask
            async with RpcClient(url) as client:
                await client.call("server.info")
        assert mine in unknown.value.message and "--fingerprint" in unknown.value.message
        assert not known.path.exists()
        asked: list[tuple[str, str]] = []
        assert await ssl_for(url, ask=lambda where, shown: asked.append((where, shown)) is None) is not None
        assert asked == [(url.removeprefix("https://"), mine)]  # the person saw the fingerprint, and said yes
        assert known.get(url.removeprefix("https://")) == parse_fingerprint(mine)
        async with RpcClient(url) as client:  # pinned: no question, no fingerprint needed
            with pytest.raises(Exception) as no_token:
                await client.call("server.info")
            assert type(no_token.value).__name__ == "Unauthorized"  # reached the server over TLS
        ws = WsClient(url, token=None, reconnect=False, connect_timeout=3)
        with pytest.raises(ConnectionLost) as refused_token:
            await ws.connect(timeout=1)
        assert "token" in refused_token.value.message
        await ws.close()
    port = int(url.rsplit(":", 1)[1])
    other_dir = Path(f"{state_dir}-b")
    await asyncio.to_thread(other_dir.mkdir)
    try:
        other = make_settings(other_dir, server={**TLS, "listen": f"127.0.0.1:{port}"})
        async with running(other) as impostor:  # another appliance, its own certificate, the same address
            theirs = impostor.tls.fingerprint
            assert theirs != mine
            with pytest.raises(CertificateRefused) as changed:
                async with RpcClient(url) as client:
                    await client.call("server.info")
            assert mine in changed.value.message and theirs in changed.value.message
            assert "--fingerprint" in changed.value.message
            ws = WsClient(url, reconnect=False, connect_timeout=3)
            with pytest.raises(ConnectionLost) as ws_changed:
                await ws.connect(timeout=3)
            await ws.close()
            assert mine in ws_changed.value.message and theirs in ws_changed.value.message
            with pytest.raises(CertificateRefused, match="nothing was pinned"):  # a wrong one given pins nothing
                await ssl_for(url, fingerprint=fingerprint_text(bytes(32)))
            await ssl_for(url, fingerprint=theirs)  # a person checked it: accepted, the pin replaced
            assert known.get(url.removeprefix("https://")) == parse_fingerprint(theirs)
    finally:
        shutil.rmtree(other_dir, ignore_errors=True)


async def test_a_certificate_from_a_trusted_authority_needs_no_pin(state_dir: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    async with running(make_settings(state_dir, server=TLS)) as app:
        # this computer trusts the appliance's certificate as an authority (as it would a CA's)
        monkeypatch.setenv("SSL_CERT_FILE", str(tls.state_files(state_dir).cert))
        assert await ssl_for(app.listeners.url) is True
        assert not KnownHosts().path.exists()


async def test_given_files_rotation_and_bad_settings(state_dir: Path, tmp_path: Path) -> None:
    given = tls.TlsFiles(tmp_path / "given" / "c.pem", tmp_path / "given" / "k.pem")
    tls.make_self_signed(given, ["printer.example"], ["127.0.0.1"])
    settings = make_settings(state_dir, server={"tls": "files", "tls_cert": str(given.cert), "tls_key": str(given.key)})
    async with running(settings) as app:
        assert app.tls.fingerprint == tls.fingerprint(given)
        assert not tls.state_files(state_dir).cert.exists()  # given files: nothing made
    with pytest.raises(ConfigError, match=r"server\.tls"):
        make_settings(state_dir, server={"tls": "on"})
    with pytest.raises(ConfigError, match=r"server\.tls_key"):
        make_settings(state_dir, server={"tls": "files", "tls_cert": str(given.cert)})
    missing = make_settings(state_dir, server={"tls": "files", "tls_cert": str(tmp_path / "nope.pem"),
                                               "tls_key": str(given.key)})
    serve = await asyncio.to_thread(
        subprocess.run, [PYTHON, "-m", "appliance.cli", "serve", "--state-dir", str(state_dir), "--listen",
                         "127.0.0.1:0"], capture_output=True, text=True, timeout=60,
        env=cli_env(APPLIANCE_SERVER_TLS="files", APPLIANCE_SERVER_TLS_CERT=str(tmp_path / "nope.pem"),
                    APPLIANCE_SERVER_TLS_KEY=str(given.key)))
    assert serve.returncode == 1 and "nope.pem does not exist" in serve.stderr and "Traceback" not in serve.stderr
    assert missing.server.tls == "files"

    async with running(make_settings(state_dir, server=TLS)) as app:
        old = app.tls.fingerprint
        rotate = await asyncio.to_thread(subprocess.run, [PYTHON, "-m", "appliance.cli", "tls", "rotate",
                                         "--state-dir", str(state_dir)], capture_output=True, text=True,
                                         timeout=60, env=cli_env(APPLIANCE_SERVER_TLS="self-signed"))
        assert rotate.returncode == 0, rotate.stderr
        new = rotate.stdout.strip()
        assert new != old and old in rotate.stderr
        assert app.tls.reload_if_changed()  # what the housekeeping loop does every 5 s
        from rpc.trust import peer_certificate

        der = await peer_certificate("127.0.0.1", app.listeners.port_bound)
        assert fingerprint_text(hashlib.sha256(der).digest()) == new == app.tls.fingerprint


def test_expiry_warns_a_month_ahead(tmp_path: Path) -> None:
    from appliance.readiness import tls_check

    files = tls.TlsFiles(tmp_path / "c.pem", tmp_path / "k.pem")
    tls.make_self_signed(files, ["x"], ["127.0.0.1"])
    served = tls.ServedCertificate(files)
    assert tls_check(served)["status"] == "pass"
    served.expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=10)
    check = tls_check(served)
    assert check["status"] == "warn" and "rotate" in check["output"]


def test_fingerprints_parse_in_both_spellings() -> None:
    digest = bytes(range(32))
    ours = fingerprint_text(digest)
    assert ours.startswith("SHA256:") and len(ours) == 7 + 43
    assert parse_fingerprint(ours) == digest
    assert parse_fingerprint(":".join(f"{b:02X}" for b in digest)) == digest  # openssl's spelling
    for bad in ("SHA256:short", "", "zz" * 32):
        with pytest.raises(ValueError, match="fingerprint"):
            parse_fingerprint(bad)


def test_known_hosts_keeps_other_pins_and_reads_what_it_wrote(tmp_path: Path) -> None:
    known = KnownHosts(tmp_path / "kh")
    known.put("a:1", bytes(32))
    known.put("[::1]:8631", bytes(range(32)))
    known.put("a:1", bytes(range(1, 33)))
    assert known.pins() == {"a:1": bytes(range(1, 33)), "[::1]:8631": bytes(range(32))}
    assert os.stat(tmp_path / "kh").st_size > 0
    assert load(None, env={}).server.tls == "off"  # the quick-start default stays plain


def test_listening_everywhere_names_the_hosts_own_addresses() -> None:
    """The certificate of `*:8631` names the interface addresses (read locally, as `ip addr` shows them)."""
    everywhere_dns, everywhere = tls.names_for("*:8631")
    local_dns, local = tls.names_for("127.0.0.1:8631")
    assert local == ["127.0.0.1", "::1"] and local_dns == everywhere_dns
    own = set(tls.interface_addresses())
    assert "127.0.0.1" in own  # lo always has it
    assert own <= set(everywhere)
    if shutil.which("ip"):
        shown = subprocess.run(["ip", "-o", "-4", "addr", "show"], capture_output=True, text=True).stdout
        for line in shown.splitlines():
            address = line.split()[3].split("/")[0]
            assert address in everywhere, (address, everywhere)
