"""`appliance backup` while the server takes submits; the copy restores to a consistent, working database."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import subprocess
from pathlib import Path

from appliance.app import Appliance
from appliance.store import migrate
from appliance.store.backup import backup
from rpc.client import RpcClient
from tests.support import PYTHON, cli_env, make_settings

SUBMITS = 50


async def run_backup(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        PYTHON, "-m", "appliance.cli", "backup", *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=cli_env())
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def consistent(path: Path) -> int:
    """Checks a restored database the way docs/install-pi.md promises; returns its job count."""
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        orphans = db.execute("SELECT count(*) FROM jobs LEFT JOIN job_artifacts a ON a.job_id = jobs.id"
                             " WHERE a.job_id IS NULL").fetchone()[0]
        assert orphans == 0, "a job without its artifact"
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
        count = int(db.execute("SELECT count(*) FROM jobs").fetchone()[0])
    db.close()
    assert migrate.status(path).at_head
    return count


def restore(backup: Path, state_dir: Path) -> Path:
    """As docs/install-pi.md says: (service stopped) copy over appliance.db, remove -wal/-shm, start."""
    state_dir.mkdir()
    shutil.copy2(backup, state_dir / "appliance.db")
    for side in ("appliance.db-wal", "appliance.db-shm"):
        (state_dir / side).unlink(missing_ok=True)
    return state_dir


def made_in(folder: Path) -> tuple[list[Path], list[Path]]:
    return list(folder.glob("appliance-*.db")), list(folder.glob(".*partial"))


async def test_backup_during_submits_restores_and_serves(appliance: Appliance, client: RpcClient,
                                                         tmp_path: Path) -> None:
    state = appliance.settings.state_dir
    (state / "templates").mkdir(exist_ok=True)
    (state / "templates" / "shelf.toml").write_text("# a user template\n")
    started = asyncio.Event()
    done: list[int] = []

    async def submit_all() -> None:
        for i in range(SUBMITS):
            job = await client.call("print.submit", {"template": "text", "fields": {"text": f"label {i}"}})
            done.append(job["id"])
            if i == 9:
                started.set()
            await asyncio.sleep(0.05)  # a steady trickle, so the backup surely runs in the middle of it

    submitting = asyncio.create_task(submit_all())
    await started.wait()
    target = tmp_path / "nightly.db"
    before = len(done)
    code, out, err = await run_backup(str(target), "--state-dir", str(state), "--pages", "1")
    after = len(done)
    await submitting
    assert code == 0, err
    assert "Traceback" not in err and f"backup written to {target}" in out
    assert (tmp_path / "nightly.templates" / "shelf.toml").read_text() == "# a user template\n"

    jobs_in_copy = consistent(target)
    assert before <= jobs_in_copy <= after + 1  # a snapshot from within the backup's run
    assert after < SUBMITS, "the backup did not overlap the submits"

    restored = restore(target, Path(str(state) + "-restored"))
    try:
        app = Appliance(make_settings(restored))
        await app.start()
        try:
            async with RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
                listing = await rpc.call("job.list", {"limit": 100})
                assert len(listing["jobs"]) == jobs_in_copy
                assert (await rpc.call("readiness.check"))["status"] != "fail"
                # restored paused: jobs pending in the copy may have printed since it was taken
                assert [p["paused"] for p in await rpc.call("printer.list")] == [True]
                again = await rpc.call("print.submit", {"template": "text", "fields": {"text": "after restore"}})
                assert again["id"] > max(j["id"] for j in listing["jobs"])
                await asyncio.sleep(0.3)
                assert (await rpc.call("job.get", {"job_id": again["id"]}))["state"] == "pending"
                await rpc.call("printer.resume")  # a person checked the queue
                for _ in range(200):
                    if (await rpc.call("job.get", {"job_id": again["id"]}))["state"] == "completed":
                        break
                    await asyncio.sleep(0.05)
                assert (await rpc.call("job.get", {"job_id": again["id"]}))["state"] == "completed"
        finally:
            await app.stop()
    finally:
        shutil.rmtree(restored, ignore_errors=True)


async def test_backup_into_a_folder_gets_a_timestamped_name(appliance: Appliance, tmp_path: Path) -> None:
    code, _, err = await run_backup(str(tmp_path), "--state-dir", str(appliance.settings.state_dir))
    assert code == 0, err
    made, partial = made_in(tmp_path)
    assert len(made) == 1 and made[0].name[len("appliance-"):-3].replace("-", "").isdigit()
    assert consistent(made[0]) == 0
    assert not partial


async def test_backup_errors_are_words_not_tracebacks(tmp_path: Path) -> None:
    code, _, err = await run_backup(str(tmp_path / "x.db"), "--state-dir", str(tmp_path / "nowhere"))
    assert code == 1 and "no database at" in err and "Traceback" not in err
    (tmp_path / "state").mkdir()
    sqlite3.connect(tmp_path / "state" / "appliance.db").close()
    code, _, err = await run_backup(str(tmp_path / "missing" / "x.db"), "--state-dir", str(tmp_path / "state"))
    assert code == 1 and "does not exist" in err and "Traceback" not in err


def _state_with_jobs(state: Path, jobs: int, blob_bytes: int) -> Path:
    """A state dir whose database holds only a `jobs` table of `jobs` rows with random blobs."""
    state.mkdir()
    with sqlite3.connect(state / "appliance.db") as db:
        db.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, blob BLOB)")
        db.executemany("INSERT INTO jobs (blob) VALUES (randomblob(?))", [(blob_bytes,)] * jobs)
    db.close()
    return state


def test_a_state_dir_with_url_characters_backs_up(tmp_path: Path) -> None:
    state = _state_with_jobs(tmp_path / "shelf #2 ?x %41", 3, 10)
    result = backup(state, tmp_path / "copy.db")
    assert result.jobs == 3 and result.database == tmp_path / "copy.db"


def test_large_backup_prints_progress(tmp_path: Path) -> None:
    state = _state_with_jobs(tmp_path / "state", 1500, 8000)
    result = subprocess.run([PYTHON, "-m", "appliance.cli", "backup", str(tmp_path / "big.db"), "--state-dir",
                             str(state), "--pages", "500"], capture_output=True, text=True, timeout=30,
                            env=cli_env())
    assert result.returncode == 0, result.stderr
    progress = [line for line in result.stderr.splitlines() if line.startswith("backup:")]
    assert len(progress) >= 3 and progress[-1].startswith("backup: 100%")
    assert "1500 jobs" in result.stdout
