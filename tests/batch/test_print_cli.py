"""`appliance print --csv` as a person runs it: a real process against a real appliance and its virtual printer."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import subprocess
from pathlib import Path

import pytest

from appliance.app import Appliance
from rpc.client import RpcClient
from tests.fast_fixtures import printed
from tests.support import PYTHON, cli_env

ROWS = 200


async def appliance_print(*args: str, timeout: float = 90) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        PYTHON, "-m", "appliance.cli", "print", *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=cli_env())
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def spreadsheet(path: Path, rows: list[tuple[str, str]]) -> Path:
    """What a German Excel saves as "CSV UTF-8": a BOM, `;` between cells, CRLF line ends."""
    lines = ["Text;CODE;Notiz"] + [f"{text};{code};egal" for text, code in rows]
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n")
    return path


def bins() -> list[tuple[str, str]]:
    return [(f"Fach {n} Müßig Öl Ä", f"BIN-{n:04d}") for n in range(1, ROWS + 1)]


def stored_jobs(app: Appliance) -> int:
    with sqlite3.connect(app.settings.db_path) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0])


async def test_two_hundred_rows_print_once_each_in_row_order(fast: Appliance, rpc: RpcClient, tmp_path: Path) -> None:
    csv = spreadsheet(tmp_path / "bins.csv", bins())
    code, out, err = await appliance_print("bin-label", "--csv", str(csv), "--ignore-extra", "--wait",
                                           "--socket", str(fast.settings.socket_path))
    assert code == 0, out + err
    assert f"all {ROWS} rows printed" in out
    assert "printed 200 of 200 labels on" in out  # plain progress lines without a terminal
    listed = []
    cursor = None
    while True:
        page = await rpc.call("job.list", {"limit": 500, **({"cursor": cursor} if cursor else {})})
        listed += page["jobs"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    jobs = sorted(listed, key=lambda j: j["row"])
    assert len(jobs) == ROWS and {j["state"] for j in jobs} == {"completed"}
    assert [(j["fields"]["text"], j["fields"]["code"]) for j in jobs] == bins()  # umlauts intact, row by row
    assert [j["id"] for j in jobs] == sorted(j["id"] for j in jobs)
    started = [j["started_at"] for j in jobs]
    assert started == sorted(started)  # printed in row order
    labels = printed(fast)
    assert len(labels) == ROWS
    assert len({hashlib.sha256(p.read_bytes()).digest() for p in labels}) == ROWS  # each its own text


async def test_bad_rows_are_named_with_their_lines_and_nothing_is_queued(fast: Appliance, tmp_path: Path) -> None:
    rows = bins()
    rows[49] = ("", "BIN-0050")  # row 50 (line 51): the required text is missing
    rows[136] = ("x" * 41, "BIN-0137")  # row 137 (line 138): over the template's max_length of 40
    csv = spreadsheet(tmp_path / "bins.csv", rows)
    for extra in ((), ("--dry-run",)):
        code, out, err = await appliance_print("bin-label", "--csv", str(csv), "--ignore-extra", "--wait", *extra,
                                               "--socket", str(fast.settings.socket_path))
        assert code == 1, out + err
        assert "2 rows cannot be printed; nothing was queued" in err
        assert "row 50 (line 51): fields.text: required" in err, err
        assert "row 137 (line 138): fields.text:" in err and "40" in err, err
    assert stored_jobs(fast) == 0
    assert printed(fast) == []


async def test_dry_run_of_a_good_file_stores_nothing(fast: Appliance, tmp_path: Path) -> None:
    csv = spreadsheet(tmp_path / "bins.csv", bins()[:20])
    code, out, err = await appliance_print("bin-label", "--csv", str(csv), "--map", "notiz=code", "--dry-run",
                                           "--socket", str(fast.settings.socket_path))
    assert code == 1 and "columns 'CODE', 'Notiz' all fill field 'code'" in err, out + err
    code, out, err = await appliance_print("bin-label", "--csv", str(csv), "--ignore-extra", "--dry-run",
                                           "--socket", str(fast.settings.socket_path))
    assert code == 0, out + err
    assert "20 rows checked and rendered" in out and "nothing was queued" in out
    assert stored_jobs(fast) == 0


async def test_unknown_columns_are_refused_by_name(fast: Appliance, tmp_path: Path) -> None:
    csv = spreadsheet(tmp_path / "bins.csv", bins()[:3])
    code, out, err = await appliance_print("bin-label", "--csv", str(csv), "--socket", str(fast.settings.socket_path))
    assert code == 1 and "unknown column 'Notiz'" in err and "--ignore-extra" in err, out + err
    assert stored_jobs(fast) == 0


async def test_the_same_key_twice_is_one_batch(fast: Appliance, rpc: RpcClient, tmp_path: Path) -> None:
    csv = spreadsheet(tmp_path / "bins.csv", bins()[:5])
    args = ("bin-label", "--csv", str(csv), "--ignore-extra", "--hold", "--key", "delivery-2026-12-07",
            "--socket", str(fast.settings.socket_path))
    first = await appliance_print(*args)
    again = await appliance_print(*args)
    assert first[0] == again[0] == 0, first + again
    assert "batch 1: 5 labels queued" in first[1] and "already queued under this --key" in again[1]
    assert stored_jobs(fast) == 5


async def test_one_label_from_field_values(fast: Appliance, tmp_path: Path) -> None:
    code, out, err = await appliance_print("asset-tag", "name=Bohrmaschine", "asset_id=MS-0042", "--wait",
                                           "--socket", str(fast.settings.socket_path))
    assert code == 0, out + err
    assert "all 1 rows printed" in out
    assert len(printed(fast)) == 1


async def test_the_progress_bar_follows_a_batch_to_its_end(fast: Appliance, rpc: RpcClient,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    from appliance.commands.batchwait import follow

    answer = await rpc.call("print.batch", {"template": "text", "rows": [{"text": f"t{n}"} for n in range(3)]})
    assert await follow(rpc, answer["batch_id"], tty=True) == 0
    assert "all 3 rows printed" in capsys.readouterr().out


async def test_waiting_on_a_batch_that_cannot_finish_exits_1_naming_the_row(fast: Appliance, rpc: RpcClient,
                                                                            capsys: pytest.CaptureFixture[str]) -> None:
    from appliance.commands.batchwait import follow

    answer = await rpc.call("print.batch", {"template": "text", "rows": [{"text": "a"}, {"text": "b"}],
                                            "hold": True})
    await rpc.call("batch.cancel", {"batch_id": answer["batch_id"]})
    assert await follow(rpc, answer["batch_id"], tty=False) == 1
    err = capsys.readouterr().err
    assert "2 of 2 rows did not print (2 canceled)" in err
    assert f"row 1 (job {answer['jobs'][0]['id']}) is canceled" in err


async def test_wait_says_what_a_stopped_row_waits_for_then_finishes(fast: Appliance, tmp_path: Path) -> None:
    fast.simulator.printer.update(cover_open=True)
    await fast.printers[0].monitor.probe_now()
    csv = spreadsheet(tmp_path / "bins.csv", bins()[:3])
    process = await asyncio.create_subprocess_exec(
        PYTHON, "-m", "appliance.cli", "print", "bin-label", "--csv", str(csv), "--ignore-extra", "--wait",
        "--socket", str(fast.settings.socket_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env())
    assert process.stdout is not None
    seen = []
    while not any("waiting: row 1" in line for line in seen):
        line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        assert line, seen
        seen.append(line)
    assert "cover" in seen[-1].lower(), seen  # the printer's words for it
    fast.simulator.printer.update(cover_open=False)
    await fast.printers[0].monitor.probe_now()
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, "".join(seen) + out.decode() + err.decode()
    assert "all 3 rows printed" in out.decode()
