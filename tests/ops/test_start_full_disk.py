"""`appliance serve` on a full or read-only disk: one line that names the real cause and the fix.

A real tmpfs of 64 KiB, mounted in a private user and mount namespace (`unshare -rm`), so the test
needs no root and leaves nothing mounted behind; it is skipped where user namespaces are disabled.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import PYTHON, cli_env

# $1 mount point, $2 KiB left free ("" for none), $3 mount options, $4 python
SCRIPT = """
mount -t tmpfs -o "size=64k,$3" tmpfs "$1" || exit 97
if [ "$3" != ro ]; then
    mkdir "$1/state"
    if [ -n "$2" ]; then count=$(( (64 - $2) / 4 )); else count=9999; fi
    dd if=/dev/zero of="$1/filler" bs=4k count="$count" 2>/dev/null
fi
exec "$4" -m appliance.cli serve --state-dir "$1/state" --listen 127.0.0.1:0
"""


def namespaces_work() -> bool:
    if shutil.which("unshare") is None:
        return False
    try:
        return subprocess.run(["unshare", "-rm", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


pytestmark = pytest.mark.skipif(not namespaces_work(), reason="needs `unshare -rm` (unprivileged user namespaces)")


def serve_on_tmpfs(mount_point: Path, free_kib: str = "", options: str = "rw") -> subprocess.CompletedProcess[str]:
    done = subprocess.run(["unshare", "-rm", "sh", "-c", SCRIPT, "sh", str(mount_point), free_kib, options, PYTHON],
                          capture_output=True, text=True, timeout=90, env=cli_env(APPLIANCE_LOG_FORMAT="json"))
    if done.returncode == 97:
        pytest.skip(f"cannot mount a tmpfs in a user namespace here: {done.stderr.strip()}")
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


def test_a_migration_failing_on_a_nearly_full_disk_names_the_disk(tmp_path: Path) -> None:
    done = serve_on_tmpfs(tmp_path, free_kib="40")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"the disk holding {tmp_path / 'state'} has only" in said(done)
    assert "free some space there" in said(done)


def test_a_read_only_disk_keeps_the_permission_advice(tmp_path: Path) -> None:
    done = serve_on_tmpfs(tmp_path, options="ro")
    state = tmp_path / "state"
    assert done.returncode == 1
    assert said(done) == (f"appliance: cannot start: Read-only file system: {state} (check --state-dir {state} "
                          "is writable by this user)\n")
