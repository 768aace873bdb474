"""`appliance serve` on a full or read-only disk: one line that names the real cause and the fix.

A real tmpfs of 64 KiB, mounted in a private user and mount namespace (`unshare -rm`), so the test
needs no root and leaves nothing mounted behind; it is skipped where user namespaces are disabled.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import PYTHON, cli_env

# $1 mount point, $2 KiB left free ("" for none), $3 mount options, $4 python, then the `appliance` arguments.
# Options "upgrade,ro": a database one migration behind (as after an upgrade) that cannot be written (the file
# bind-mounted read-only: run as root, a file without write permission is still written).
SCRIPT = """
mp=$1; free=$2; options=$3; python=$4; shift 4
case "$options" in upgrade,*) first=rw size=1m ;; *) first=$options size=64k ;; esac
mount -t tmpfs -o "size=$size,$first" tmpfs "$mp" || exit 97
if [ "$first" != ro ]; then
    mkdir "$mp/state"
    if [ -n "$free" ]; then count=$(( (64 - $free) / 4 )); else count=9999; fi
    [ "$first" = "$options" ] && dd if=/dev/zero of="$mp/filler" bs=4k count="$count" 2>/dev/null
fi
if [ "$first" != "$options" ]; then
    "$python" -m appliance.cli migrate up --state-dir "$mp/state" >/dev/null || exit 98
    "$python" -m appliance.cli migrate down --state-dir "$mp/state" >/dev/null || exit 98
    mount --bind "$mp/state/appliance.db" "$mp/state/appliance.db" || exit 97
    mount -o remount,bind,ro "$mp/state/appliance.db" || exit 97
fi
exec "$python" -m appliance.cli "$@" --state-dir "$mp/state"
"""
SERVE = ("serve", "--listen", "127.0.0.1:0")
MIGRATE = ("migrate", "up")


def namespaces_work() -> bool:
    if shutil.which("unshare") is None:
        return False
    try:
        return subprocess.run(["unshare", "-rm", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


pytestmark = pytest.mark.skipif(not namespaces_work(), reason="needs `unshare -rm` (unprivileged user namespaces)")


def serve_on_tmpfs(mount_point: Path, free_kib: str = "", options: str = "rw",
                   command: tuple[str, ...] = SERVE) -> subprocess.CompletedProcess[str]:
    """`appliance serve` (or `command`) on a 64 KiB tmpfs with `free_kib` left free."""
    done = subprocess.run(["unshare", "-rm", "sh", "-c", SCRIPT, "sh", str(mount_point), free_kib, options, PYTHON,
                           *command], capture_output=True, text=True, timeout=90,
                          env=cli_env(APPLIANCE_LOG_FORMAT="json"))
    if done.returncode == 97:
        pytest.skip(f"cannot mount a tmpfs in a user namespace here: {done.stderr.strip()}")
    assert done.returncode != 98, done.stderr
    return done


def said(done: subprocess.CompletedProcess[str]) -> str:
    """What `appliance` itself printed: stderr without the JSON log lines."""
    return "".join(line + "\n" for line in done.stderr.splitlines() if not line.startswith("{"))


def test_a_full_disk_says_so_and_to_free_space(tmp_path: Path) -> None:
    done = serve_on_tmpfs(tmp_path)
    state = tmp_path / "state"
    assert done.returncode == 1
    assert said(done) == (f"appliance: cannot start: No space left on device: the disk holding the state directory "
                          f"{state} is full; free some space there (`df -h {state}` shows how much is left)\n")


@pytest.mark.parametrize("command", [SERVE, MIGRATE], ids=["serve", "migrate"])
@pytest.mark.parametrize("free_kib", ["40", "24", "12"])
def test_a_migration_failing_on_a_nearly_full_disk_says_the_disk_is_full(tmp_path: Path, free_kib: str,
                                                                        command: tuple[str, ...]) -> None:
    # before: yoyo's words, by how much was left: "Database locked (run yoyo break-lock to remove this lock)"
    # after 10 s, "no such table: yoyo_lock", or (from `appliance migrate`) a traceback
    done = serve_on_tmpfs(tmp_path, free_kib=free_kib, command=command)
    state = tmp_path / "state"
    doing = "start" if command == SERVE else "migrate"
    assert done.returncode == 1
    assert said(done) == (f"appliance: cannot {doing}: No space left on device: {state / 'appliance.db'}: the disk "
                          f"holding the state directory {state} is full; free some space there (`df -h {state}` "
                          "shows how much is left)\n")


@pytest.mark.parametrize("command", [SERVE, MIGRATE], ids=["serve", "migrate"])
def test_an_upgrade_of_a_read_only_database_says_it_cannot_write_there(tmp_path: Path,
                                                                      command: tuple[str, ...]) -> None:
    done = serve_on_tmpfs(tmp_path, options="upgrade,ro", command=command)
    state = tmp_path / "state"
    doing = "start" if command == SERVE else "migrate"
    assert done.returncode == 1
    assert said(done) == (f"appliance: cannot {doing}: Read-only file system: {state / 'appliance.db'} (check "
                          f"--state-dir {state} is writable by this user)\n")


def test_a_read_only_disk_keeps_the_permission_advice(tmp_path: Path) -> None:
    done = serve_on_tmpfs(tmp_path, options="ro")
    state = tmp_path / "state"
    assert done.returncode == 1
    assert said(done) == (f"appliance: cannot start: Read-only file system: {state} (check --state-dir {state} "
                          "is writable by this user)\n")


def as_a_user() -> list[str]:
    """The command prefix that runs a program without root's right to write any file (none when not root)."""
    if os.geteuid() != 0:
        return []
    probe = subprocess.run(["unshare", "-U", "--map-user=65534", "--map-group=65534", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("run as root, and `unshare -U` cannot drop root's rights here")
    return ["unshare", "-U", "--map-user=65534", "--map-group=65534"]


@pytest.mark.parametrize("command", [SERVE, MIGRATE], ids=["serve", "migrate"])
def test_an_upgrade_of_a_database_this_user_may_not_write_says_so(tmp_path: Path, command: tuple[str, ...]) -> None:
    # as after a restore copied in by root and not given back to the service's user
    from appliance.store import migrate

    state = tmp_path / "state"
    db = state / "appliance.db"
    migrate.up(db)
    migrate.down(db)
    db.chmod(0o444)
    done = subprocess.run([*as_a_user(), PYTHON, "-m", "appliance.cli", *command, "--state-dir", str(state)],
                          capture_output=True, text=True, timeout=90, env=cli_env(APPLIANCE_LOG_FORMAT="json"))
    doing = "start" if command == SERVE else "migrate"
    assert done.returncode == 1
    assert said(done) == (f"appliance: cannot {doing}: Permission denied: {db} (check --state-dir {state} is "
                          "writable by this user)\n")
