"""Keep label-sized bitmaps in the process heap instead of mapping and unmapping each one.

Why: a 62 mm QL label is a 1.6 MB bitmap, and rendering and encoding it makes several (the grey
drawing, the 1-bit label, the turned copy, the print-head image). glibc serves every allocation
over its mmap threshold (128 KiB, raised only after such a block is freed) with a fresh mapping
and unmaps it on free, so each label faulted all of its pages in again: measured on the bench VM,
about a third of render+encode. With the mmap threshold above a label's bitmaps, and the trim
threshold above a couple of them, freed bitmaps are reused by the next label.

The cost: up to ``TRIM_THRESHOLD`` of freed heap stays resident after a large label. Measured: the
server's RSS after 40 QL labels and 40 previews was 67.9 MB, against 63.2 MB with glibc's
defaults, and the same at idle; a 32 MiB trim threshold made it 84.6 MB, for no more speed.
Allocations above ``MMAP_THRESHOLD`` (very long high-resolution labels) are mapped as before.
Other C libraries (musl) have no ``mallopt``, and 32-bit glibc (armhf Raspberry Pi OS) caps the
mmap threshold at 512 KiB, below a label's bitmap; nothing changes there.
"""

from __future__ import annotations

import ctypes
import os

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's <malloc.h>
MMAP_THRESHOLD = 8 * 1024 * 1024  # a 62 mm QL label at 600 dpi and 198 mm is 3.3 MB per bitmap
TRIM_THRESHOLD = 4 * 1024 * 1024  # as fast as 32 MiB on the bench, for an eighth of the RSS


def supported() -> bool:
    """64-bit glibc: where the thresholds above can be set."""
    try:
        glibc = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError, AttributeError):  # not glibc, or no confstr at all
        return False
    return glibc.startswith("glibc") and ctypes.sizeof(ctypes.c_void_p) == 8


def keep_bitmaps_in_heap() -> bool:
    """Apply the thresholds above; True when the C library took them, False where it cannot."""
    if not supported():
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the running process's own C library (no ldconfig lookup)
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
