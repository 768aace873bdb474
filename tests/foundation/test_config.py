"""Config: defaults, TOML, environment overrides, and one clear line for each mistake."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from appliance.config import DEFAULT_LISTEN, ConfigError, load, parse_listen
from tests.support import PYTHON, cli_env


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "appliance.toml"
    path.write_text(text)
    return path


def test_defaults_without_a_file(tmp_path: Path) -> None:
    settings = load(None, env={"XDG_STATE_HOME": str(tmp_path)})
    assert settings.server.listen == DEFAULT_LISTEN
    assert settings.state_dir == tmp_path / "label-appliance"
    assert settings.socket_path == settings.state_dir / "rpc.sock"
    assert settings.printers == []


def test_printers_and_snmp_from_toml(tmp_path: Path) -> None:
    path = write(tmp_path, """
[server]
listen = "[::]:9000"
[[printers]]
name = "shelf"
model = "PT-P750W"
uri = "tcp://192.0.2.10:9100"
media = "12mm"
[printers.snmp]
community = "labels"
timeout = 0.5
""")
    settings = load(path, env={})
    assert parse_listen(settings.server.listen) == ("::", 9000)
    (printer,) = settings.printers
    assert (printer.name, printer.model, printer.media) == ("shelf", "PT-P750W", "12mm")
    assert printer.snmp.community == "labels" and printer.snmp.timeout == 0.5 and printer.snmp.retries == 1


def test_environment_overrides_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[log]\nformat = "console"\n')
    settings = load(path, env={"APPLIANCE_LOG_FORMAT": "json", "APPLIANCE_QUEUE_MAX_ATTEMPTS": "3",
                               "APPLIANCE_STATE_DIR": str(tmp_path / "s")})
    assert settings.log.format == "json"
    assert settings.queue.max_attempts == 3
    assert settings.state_dir == tmp_path / "s"


def test_systemd_state_directory(tmp_path: Path) -> None:
    assert load(None, env={"STATE_DIRECTORY": str(tmp_path / "sd")}).state_dir == tmp_path / "sd"


@pytest.mark.parametrize(
    "text,key,expected_part",
    [
        ('[server]\nlisen = "1:2"\n', "server.lisen", "unknown key"),
        ('[server]\nlisten = "nowhere"\n', "server.listen", "HOST:PORT"),
        ('[server]\nmax_body_bytes = "big"\n', "server.max_body_bytes", "integer"),
        ('[log]\nformat = "xml"\n', "log.format", "one of"),
        ('[[printers]]\nname = "a"\nmodel = "PT-P750W"\n', "printers[0].uri", "required"),
        ('[[printers]]\nname = "a"\nmodel = "PT-P750W"\nuri = "lpd://x"\n', "printers[0].uri", "tcp://"),
        ('[[printers]]\nname="a"\nmodel="PT-P750W"\nuri="tcp://h"\n[printers.snmp]\nretries = -1\n',
         "printers[0].snmp.timeout", "retries >= 0"),
        ("[server\n", "--config", "not valid TOML"),
        ('[[printers]]\nname="a"\nmodel="PT-9999"\nuri="tcp://h"\n', "printers[0].model", "known models"),
        ('[[printers]]\nname="a"\nmodel="PT-P750W"\nuri="tcp://h"\nmedia="13mm"\n', "printers[0].media",
         "it takes: 3.5mm"),
        ('[simulator]\ntape="62mm"\n', "simulator.tape", "does not take"),
        ("[queue]\nretry_base_s = 0\n", "queue.retry_base_s", "positive"),
        ("[queue]\nretry_base_s = 10\nretry_max_s = 5\n", "queue.retry_max_s", "at least queue.retry_base_s (10)"),
        ("[queue]\nmax_attempts = 0\n", "queue.max_attempts", "at least 1"),
        ("[queue]\nprint_timeout_s = -1\n", "queue.print_timeout_s", "positive"),
        ("[history]\nkeep_jobs = 0\n", "history.keep_jobs", "idempotency keys"),
        ("[history]\nartifact_days = -1\n", "history.artifact_days", "0 or more"),
        ('[[printers]]\nname="a"\nmodel="QL-700"\nuri="tcp://h"\n[[printers]]\nname="b"\nmodel="QL-700"\n'
         'uri="tcp://h"\n', "printers[1].uri", "printer 'a' is already this QL-700"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, text: str, key: str, expected_part: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(write(tmp_path, text), env={})
    assert info.value.key == key
    assert expected_part in str(info.value)


def test_bad_environment_value_names_the_key() -> None:
    with pytest.raises(ConfigError) as info:
        load(None, env={"APPLIANCE_QUEUE_MAX_ATTEMPTS": "many"})
    assert info.value.key == "queue.max_attempts"
    assert "(set by environment variable APPLIANCE_QUEUE_MAX_ATTEMPTS)" in str(info.value)


def test_a_bad_value_from_the_environment_says_which_variable_set_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:  # caught by validation, after the value was read
        load(None, env={"APPLIANCE_SERVER_LISTEN": "nope", "APPLIANCE_STATE_DIR": str(tmp_path)})
    assert info.value.key == "server.listen" and "APPLIANCE_SERVER_LISTEN" in str(info.value)
    with pytest.raises(ConfigError) as info:  # a flag overrides the variable: the flag is to blame
        load(None, env={"APPLIANCE_SERVER_LISTEN": "127.0.0.1:1"}, overrides={"server": {"listen": "bad"}})
    assert "environment" not in str(info.value)
    config = tmp_path / "a.toml"
    config.write_text('[server]\nlisten = "bad"\n')
    with pytest.raises(ConfigError) as info:  # from the file: no variable is named
        load(config, env={})
    assert "environment" not in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path / "nope.toml", env={})
    assert "file not found" in str(info.value)


def test_serve_exits_2_with_one_line_naming_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, '[server]\nlisten = "nowhere"\n')
    result = subprocess.run([PYTHON, "-m", "appliance.cli", "serve", "--config", str(path),
                             "--state-dir", str(tmp_path / "s")], capture_output=True, text=True, timeout=30,
                            env=cli_env())
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "server.listen" in lines[0] and "'nowhere'" in lines[0]
    assert "Traceback" not in result.stderr
