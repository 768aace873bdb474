"""The server's heap settings: a label-sized bitmap comes from the heap, not from a fresh mapping."""

from __future__ import annotations

import os
import subprocess

import pytest

from appliance import heap
from tests.support import PYTHON, cli_env

# A child process, so that this process keeps glibc's defaults: it prints how many bytes of
# mmapped chunks one 62 mm QL label's bitmap (2338 × 696, as the text template draws it) added.
CHILD = """
import ctypes, sys
from PIL import Image

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]

mallinfo2 = ctypes.CDLL(None).mallinfo2
mallinfo2.restype = MallInfo2
if sys.argv[1] == "tuned":
    from appliance.heap import keep_bitmaps_in_heap
    assert keep_bitmaps_in_heap()
before = mallinfo2().hblkhd
image = Image.new("L", (2338, 696), 255)
print(mallinfo2().hblkhd - before)
"""


def _glibc_version() -> tuple[int, int]:
    if not heap.supported():
        return (0, 0)
    major, minor = os.confstr("CS_GNU_LIBC_VERSION").split()[1].split(".")[:2]
    return (int(major), int(minor))


@pytest.mark.skipif(_glibc_version() < (2, 33), reason="needs 64-bit glibc with mallinfo2 (2.33+)")
def test_a_label_bitmap_is_mapped_by_default_and_comes_from_the_heap_once_tuned() -> None:
    def mapped(mode: str) -> int:
        done = subprocess.run([PYTHON, "-c", CHILD, mode], capture_output=True, text=True, timeout=60, env=cli_env())
        assert done.returncode == 0, done.stderr
        return int(done.stdout)

    bitmap = 2338 * 696
    assert mapped("default") >= bitmap  # what cost a page fault per 4 KiB on every label
    assert mapped("tuned") == 0
