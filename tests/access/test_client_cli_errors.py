"""The client commands (`call`, `check`, `token`) say what is wrong and how to fix it, never with a traceback.

One real server over TCP (tokens required on loopback by default) and real `appliance` processes.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from rpc.address import BadAddress, server_url
from tests.support import PYTHON, cli_env, start_server, stop_server


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PYTHON, "-m", "appliance.cli", *args], capture_output=True, text=True, timeout=30,
                          env=cli_env())


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    state_dir = tmp_path_factory.mktemp("client-errors") / "state"
    created = cli("token", "create", "script", "--state-dir", str(state_dir))
    assert created.returncode == 0, created.stderr
    process, url = start_server(state_dir)
    try:
        yield url, created.stdout.strip(), state_dir
    finally:
        stop_server(process)


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("appliance:8631", "http://appliance:8631"),
        (" http://10.0.0.5:8631/ ", "http://10.0.0.5:8631"),
        ("HTTPS://box.lan/appliance/", "https://box.lan/appliance"),
        ("ws://[::1]:8631", "http://[::1]:8631"),
    ],
)
def test_server_url_accepts_what_people_type(text: str, url: str) -> None:
    assert server_url(text) == url


@pytest.mark.parametrize(
    ("text", "says"),
    [("", "empty"), ("ftp://box:8631", "ftp://"), ("http://box:99999", "not a URL"), ("http://:8631", "no host"),
     ("box:0", "port 0"), ("http://box:8631/?token=x", "query")],
)
def test_server_url_refuses_with_the_fix(text: str, says: str) -> None:
    with pytest.raises(BadAddress) as caught:
        server_url(text)
    assert says in str(caught.value) and "http://HOST:PORT" in str(caught.value)


def test_url_without_scheme_works(served: tuple[str, str, Path]) -> None:
    url, token, _ = served
    done = cli("call", "server.info", "--url", url.removeprefix("http://"), "--token", token)
    assert done.returncode == 0, done.stderr
    assert '"version"' in done.stdout


def test_a_value_json_cannot_carry_goes_as_the_text_typed(served: tuple[str, str, Path]) -> None:
    # 1e309 and NaN parse as Python floats that JSON cannot encode: the CLI used to end in a traceback
    url, token, _ = served
    digits = "9" * 5000  # over Python's limit for int(), whose message told the user to call sys.*
    done = cli("call", "label.preview", "template=text", "fields.text=1e309", "fields.line2=NaN", "--url", url,
               "--token", token)
    assert done.returncode == 0, done.stderr
    assert '"text": "1e309"' in done.stdout and '"line2": "NaN"' in done.stdout
    long = cli("call", "template.get", f"name={digits}", "--url", url, "--token", token)
    assert long.returncode == 1 and "-32602" in long.stderr and "Traceback" not in long.stderr  # sent as text
    for value, says in (("1e999", "too large"), (digits, "more than 4300 digits")):
        whole = cli("call", "label.preview", f'{{"template": "text", "fields": {{"text": {value}}}}}', "--url", url,
                    "--token", token)
        assert whole.returncode != 0 and says in whole.stderr and "Traceback" not in whole.stderr
        assert "sys." not in whole.stderr


@pytest.mark.parametrize("bad", ["ftp://127.0.0.1:8631", "http://127.0.0.1:99999"])
def test_bad_url_is_one_line_with_the_fix(bad: str) -> None:
    for command in (["call", "server.info"], ["check"]):
        done = cli(*command, "--url", bad, "--token", "x")
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        assert done.stderr.startswith("appliance: --url:") and "http://HOST:PORT" in done.stderr


def test_missing_token_says_how_to_get_one(served: tuple[str, str, Path]) -> None:
    url, _, _ = served
    checked = cli("check", "--url", url)
    assert checked.returncode == 2
    assert "-32001" in checked.stderr and "--token" in checked.stderr and "appliance token create" in checked.stderr
    called = cli("call", "printer.status", "--url", url)
    assert called.returncode == 1 and "appliance token create" in called.stderr
    assert "credentials" not in called.stderr  # the server's data says it too: said once, in the CLI's words


def test_refused_token_is_named_as_such(served: tuple[str, str, Path]) -> None:
    url, _, _ = served
    done = cli("call", "server.info", "--url", url, "--token", "la_" + "x" * 43)
    assert done.returncode == 1
    assert "did not accept the token" in done.stderr and "appliance token list" in done.stderr


def test_reader_leaving_the_pipe_is_not_a_traceback(served: tuple[str, str, Path]) -> None:
    url, token, _ = served
    process = subprocess.Popen([PYTHON, "-m", "appliance.cli", "call", "template.list", "--url", url, "--token", token],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env())
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # like `| head -0`: gone before the answer arrives
    err = process.stderr.read()
    assert process.wait(timeout=30) == 141
    assert err == ""


def test_token_list_on_a_directory_no_server_used(tmp_path: Path) -> None:
    typo = tmp_path / "stat"
    done = cli("token", "list", "--state-dir", str(typo))
    assert done.returncode == 1 and "no appliance database" in done.stderr and "--state-dir" in done.stderr
    assert not (typo / "appliance.db").exists()  # a typo creates nothing


def test_token_create_says_which_appliance_it_is_for(served: tuple[str, str, Path], tmp_path: Path) -> None:
    _, _, state_dir = served
    known = cli("token", "create", "second", "--state-dir", str(state_dir))
    assert known.returncode == 0 and str(state_dir) in known.stderr and "no server has used" not in known.stderr
    fresh = cli("token", "create", "first", "--state-dir", str(tmp_path / "new"))
    assert fresh.returncode == 0 and "no server has used" in fresh.stderr


def test_state_dir_finds_a_server_whose_socket_the_config_puts_elsewhere(tmp_path: Path) -> None:
    # as on the Pi: state in /var/lib/appliance, socket in /run/appliance (both from appliance.toml)
    state, run = tmp_path / "state", tmp_path / "run"
    run.mkdir()
    config = tmp_path / "appliance.toml"
    config.write_text(f'[server]\nstate_dir = "{state}"\nsocket = "{run / "rpc.sock"}"\n'
                      '[simulator]\nspeed = "instant"\n')
    env = cli_env(APPLIANCE_CONFIG=str(config), APPLIANCE_LOG_FORMAT="json")
    process, _ = start_server(state, env=env)
    try:
        done = subprocess.run([PYTHON, "-m", "appliance.cli", "call", "server.info", "--state-dir", str(state)],
                              capture_output=True, text=True, timeout=30, env=env)
        other = subprocess.run([PYTHON, "-m", "appliance.cli", "call", "server.info", "--state-dir",
                                str(tmp_path / "another")], capture_output=True, text=True, timeout=30, env=env)
    finally:
        stop_server(process)
    assert done.returncode == 0, done.stderr
    assert '"version"' in done.stdout
    assert other.returncode != 0  # another state directory never reaches this server through its config
