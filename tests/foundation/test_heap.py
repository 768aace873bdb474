"""The server's heap settings: a label-sized bitmap comes from the heap, not from a fresh mapping."""

from __future__ import annotations

import os
import subprocess

import pytest

from appliance import heap
from tests.support import PYTHON, cli_env

# A child process, so that this process keeps glibc's defaults: it prints how many bytes of
# mmapped chunks one 62 mm QL label's bitmap (2338 × 696, as the text template draws it) added,
# or how many bytes are free in the heap after four such bitmaps are freed.
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
if sys.argv[2] == "mapped":
    before = mallinfo2().hblkhd
    image = Image.new("L", (2338, 696), 255)
    print(mallinfo2().hblkhd - before)
else:  # what stays in the heap, free for the next label, once one label's four bitmaps are freed
    images = [Image.new("L", (2338, 696), 255) for _ in range(4)]
    del images
    print(mallinfo2().fordblks)
"""


def _glibc_version() -> tuple[int, int]:
    if not heap.supported():
        return (0, 0)
    major, minor = os.confstr("CS_GNU_LIBC_VERSION").split()[1].split(".")[:2]
    return (int(major), int(minor))


@pytest.mark.skipif(_glibc_version() < (2, 33), reason="needs 64-bit glibc with mallinfo2 (2.33+)")
def test_a_label_bitmap_is_mapped_by_default_and_comes_from_the_heap_once_tuned() -> None:
    bitmap = 2338 * 696
    assert _child("default", "mapped") >= bitmap  # what cost a page fault per 4 KiB on every label
    assert _child("tuned", "mapped") == 0


@pytest.mark.skipif(_glibc_version() < (2, 33), reason="needs 64-bit glibc with mallinfo2 (2.33+)")
def test_the_bitmaps_one_long_label_frees_stay_in_the_heap_for_the_next() -> None:
    # render+encode of a 62 mm QL text label makes four 2338 × 696 bitmaps; with a 4 MiB trim
    # threshold they went back to the kernel at its end (render+encode 9.0 ms against 7.5)
    assert _child("tuned", "kept") >= 4 * 2338 * 696


def _child(heap_mode: str, measure: str) -> int:
    done = subprocess.run([PYTHON, "-c", CHILD, heap_mode, measure], capture_output=True, text=True, timeout=60,
                          env=cli_env())
    assert done.returncode == 0, done.stderr
    return int(done.stdout)
