"""`appliance call` as a newcomer types it: field values as typed, options after params, a template typo.

One real server process on a temp unix socket, real `appliance` processes.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.commands.call import parse_params
from tests.support import PYTHON, cli_env, start_server, stop_server


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    state_dir = Path(f"/tmp/la-cli-{tmp_path_factory.getbasetemp().name[-12:]}")  # short: a unix socket path
    state_dir.mkdir(parents=True, exist_ok=True)
    process, _ = start_server(state_dir)
    try:
        yield state_dir
    finally:
        stop_server(process)
        import shutil

        shutil.rmtree(state_dir, ignore_errors=True)


def call(state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PYTHON, "-m", "appliance.cli", "call", *args, "--state-dir", str(state_dir)],
                          capture_output=True, text=True, timeout=30, env=cli_env())


def test_field_values_go_as_the_strings_typed(served: Path) -> None:
    done = call(served, "print.submit", "template=bin-label", "fields.text=2.5", "fields.code=1.50", "copies=2",
                "hold=true")
    assert done.returncode == 0, done.stderr
    job = json.loads(done.stdout)
    assert job["fields"] == {"text": "2.5", "code": "1.50"}  # not 2.5 (refused) nor 1.5 (a zero lost)
    assert (job["copies"], job["state"]) == (2, "held")  # other params are still JSON
    for typed in ("1e3", "true", "007", "null", "[1]", ""):
        assert parse_params(["template=text", f"fields.text={typed}"]) == {"template": "text",
                                                                          "fields": {"text": typed}}
    integer = call(served, "label.preview", "template=cable-flag", "fields.text=x", "fields.cable_diameter_mm=5")
    assert integer.returncode == 0, integer.stderr  # an integer field takes the string
    assert json.loads(integer.stdout)["fields"]["cable_diameter_mm"] == 5


def test_a_field_of_another_type_goes_as_json_in_one_object(served: Path) -> None:
    done = call(served, "label.preview", "template=cable-flag", 'fields={"cable_diameter_mm": 6}', "fields.text=x")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["fields"]["cable_diameter_mm"] == 6
    clash = call(served, "label.preview", "template=text", "fields=3", "fields.text=x")
    assert clash.returncode == 2 and "Traceback" not in clash.stderr
    assert clash.stderr == "appliance: fields.text: fields is already set to 3, not an object; give one or the other\n"


def test_params_may_come_after_options(served: Path) -> None:
    submitted = call(served, "print.submit", "template=text", "fields.text=one")
    assert submitted.returncode == 0, submitted.stderr
    done = subprocess.run([PYTHON, "-m", "appliance.cli", "call", "job.list", "--state-dir", str(served), "limit=1",
                           "state=completed"], capture_output=True, text=True, timeout=30, env=cli_env())
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["jobs"]) <= 1
    bad = subprocess.run([PYTHON, "-m", "appliance.cli", "call", "job.list", "--state-dir", str(served), "limit=0"],
                         capture_output=True, text=True, timeout=30, env=cli_env())
    assert bad.returncode == 1 and "limit" in bad.stderr  # the param reached the server: it was not dropped


def test_a_template_typo_gets_a_suggestion(served: Path) -> None:
    done = call(served, "print.submit", "template=bin-lable", "fields.text=x")
    assert done.returncode == 1
    assert "error -32002: template: no template named 'bin-lable'; did you mean 'bin-label'?" in done.stderr
