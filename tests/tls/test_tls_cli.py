"""`appliance call`, `check`, `tui` and `token` against real `appliance serve` processes with TLS: pinning on
first use, a second appliance on the same address refused by both clients, and no token in any log."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from rpc.trust import KnownHosts, parse_fingerprint
from tests.support import PYTHON, cli_env, start_server, stop_server

pytestmark = pytest.mark.timeout(180)


def cli(*args: str, config_home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PYTHON, "-m", "appliance.cli", *args], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL, env=cli_env(XDG_CONFIG_HOME=str(config_home), **env))


def tls_server(state_dir: Path, listen: str = "127.0.0.1:0") -> tuple[subprocess.Popen[str], str]:
    env = cli_env(APPLIANCE_SIMULATOR_SPEED="instant", APPLIANCE_LOG_FORMAT="json", APPLIANCE_SERVER_TLS="self-signed")
    return start_server(state_dir, "--listen", listen, env=env)  # the last --listen wins


def test_call_check_tui_and_token_pin_then_refuse_another_appliance(state_dir: Path, tmp_path: Path) -> None:
    home = tmp_path / "laptop"
    env = {"APPLIANCE_SERVER_TLS": "self-signed"}
    process, url = tls_server(state_dir)
    logs = ""
    try:
        assert url.startswith("https://127.0.0.1:")
        created = cli("token", "create", "laptop", "--scope", "read", "--state-dir", str(state_dir),
                      config_home=home, **env)
        assert created.returncode == 0, created.stderr
        token = created.stdout.strip()
        shown = cli("tls", "show", "--state-dir", str(state_dir), config_home=home, **env)
        mine = shown.stdout.strip()
        assert mine.startswith("SHA256:") and mine in created.stderr  # the token comes with the fingerprint
        local = cli("check", "--state-dir", str(state_dir), config_home=home)
        assert mine in local.stdout and "tls:certificate" in local.stdout

        first = cli("call", "server.info", "--url", url, "--token", token, config_home=home)
        assert first.returncode == 2 and mine in first.stderr and "--fingerprint" in first.stderr
        assert "Traceback" not in first.stderr and not (home / "label-appliance" / "known_hosts").exists()
        pinned = cli("call", "server.info", "--url", url, "--token", token, config_home=home,
                     APPLIANCE_FINGERPRINT=mine)
        assert pinned.returncode == 0, pinned.stderr
        assert mine in pinned.stdout
        again = cli("call", "queue.status", "--url", url, "--token", token, config_home=home)  # pinned now
        assert again.returncode == 0, again.stderr
        remote_check = cli("check", "--url", url, "--token", token, config_home=home)
        assert remote_check.returncode == 0 and mine in remote_check.stdout
        plain = cli("call", "server.info", "--url", url.replace("https:", "http:"), "--token", token,
                    config_home=home)
        assert plain.returncode == 1 and "https://" in plain.stderr and "Traceback" not in plain.stderr
    finally:
        status, logs = stop_server(process)
    assert status == 0
    port = url.rsplit(":", 1)[1]
    other_dir = Path(f"{state_dir}-other")
    other_dir.mkdir()
    try:
        impostor, same_url = tls_server(other_dir, f"127.0.0.1:{port}")
        try:
            assert same_url == url
            theirs = cli("tls", "show", "--state-dir", str(other_dir), config_home=home, **env).stdout.strip()
            assert theirs.startswith("SHA256:") and theirs != mine
            for command in (["call", "server.info"], ["tui"], ["check"]):
                refused = cli(*command, "--url", url, "--token", token, config_home=home)
                assert refused.returncode == 2, (command, refused.stderr)
                assert mine in refused.stderr and theirs in refused.stderr, (command, refused.stderr)
                assert "--fingerprint" in refused.stderr and "Traceback" not in refused.stderr
            assert KnownHosts(home / "label-appliance" / "known_hosts").get(f"127.0.0.1:{port}") == \
                parse_fingerprint(mine)  # a refusal changes no pin
            accepted = cli("call", "server.info", "--url", url, "--token", token, "--fingerprint", theirs,
                           config_home=home)
            assert accepted.returncode == 1 and "did not accept the token" in accepted.stderr  # TLS passed
        finally:
            _, other_logs = stop_server(impostor)
    finally:
        shutil.rmtree(other_dir, ignore_errors=True)
    assert KnownHosts(home / "label-appliance" / "known_hosts").get(f"127.0.0.1:{port}") == parse_fingerprint(theirs)
    for text in (logs, other_logs):
        assert token not in text and token[3:] not in text  # tokens never in the logs, TLS or not


def test_on_a_terminal_the_first_connection_asks_and_pins_on_yes(state_dir: Path, tmp_path: Path) -> None:
    import os
    import pty
    import select
    import time

    home = tmp_path / "laptop"
    process, url = tls_server(state_dir)
    try:
        mine = cli("tls", "show", "--state-dir", str(state_dir), config_home=home,
                   APPLIANCE_SERVER_TLS="self-signed").stdout.strip()
        for answer, pinned in ((b"n\n", False), (b"y\n", True)):
            leader, follower = pty.openpty()
            child = subprocess.Popen([PYTHON, "-m", "appliance.cli", "call", "server.info", "--url", url],
                                     stdin=follower, stdout=subprocess.PIPE, stderr=follower, text=True,
                                     env=cli_env(XDG_CONFIG_HOME=str(home)))
            os.close(follower)
            seen = b""
            deadline = time.monotonic() + 30
            while b"[y/N]" not in seen and time.monotonic() < deadline:
                ready, _, _ = select.select([leader], [], [], 0.5)
                if ready:
                    seen += os.read(leader, 4096)
            assert mine.encode() in seen and b"appliance check" in seen, seen
            os.write(leader, answer)
            child.wait(30)
            rest = b""
            while select.select([leader], [], [], 0.2)[0]:
                try:
                    chunk = os.read(leader, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                rest += chunk
            os.close(leader)
            known = KnownHosts(home / "label-appliance" / "known_hosts").get(url.removeprefix("https://"))
            if pinned:
                assert known == parse_fingerprint(mine)
                assert child.returncode == 1 and b"needs a token" in rest  # reached the server: TLS is through
            else:
                assert known is None and child.returncode == 2 and b"--fingerprint" in rest
    finally:
        stop_server(process)


def test_tls_command_says_what_to_do(state_dir: Path, tmp_path: Path) -> None:
    home = tmp_path / "laptop"
    nothing = cli("tls", "show", "--state-dir", str(state_dir), config_home=home)
    assert nothing.returncode == 1 and 'tls = "self-signed"' in nothing.stderr and "Traceback" not in nothing.stderr
    made = cli("tls", "rotate", "--state-dir", str(state_dir), config_home=home)  # TLS still off: made, and said
    assert made.returncode == 0 and made.stdout.startswith("SHA256:") and '[server] tls is "off"' in made.stderr
    pem = cli("tls", "show", "--pem", "--state-dir", str(state_dir), config_home=home,
              APPLIANCE_SERVER_TLS="self-signed")
    assert pem.returncode == 0 and pem.stdout.startswith("-----BEGIN CERTIFICATE-----")
    given = cli("tls", "rotate", "--state-dir", str(state_dir), config_home=home, APPLIANCE_SERVER_TLS="files",
                APPLIANCE_SERVER_TLS_CERT="/etc/x.pem", APPLIANCE_SERVER_TLS_KEY="/etc/x.key")
    assert given.returncode == 1 and "replace them" in given.stderr
    bad = cli("call", "server.info", "--url", "https://127.0.0.1:9", "--fingerprint", "SHA256:nope",
              config_home=home)
    assert bad.returncode == 2 and "not a SHA-256 fingerprint" in bad.stderr and "Traceback" not in bad.stderr
