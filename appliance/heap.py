"""Keep label-sized bitmaps in the process heap instead of mapping and unmapping each one.

Why: a 62 mm QL label is a 1.6 MB bitmap, and rendering and encoding it makes several (the grey
drawing, the 1-bit label, the turned copy, the print-head image). glibc serves every allocation
over its mmap threshold (128 KiB, raised only after such a block is freed) with a fresh mapping
and unmaps it on free, so each label faulted all of its pages in again: measured on the bench VM,
about a third of render+encode. With the mmap threshold above a label's bitmaps, and the trim
threshold above a couple of them, freed bitmaps are reused by the next label.

The trim threshold must be above what one label frees at its end: the 62 mm QL ``text`` label is
2,338 dots long, so its four bitmaps are 6.5 MB. At 4 MiB they went back to the kernel after every
label and were faulted in again by the next: render+encode 9.0 ms, 7.5 ms at 8 MiB (2026-12-06).

The cost: up to ``TRIM_THRESHOLD`` of freed heap stays resident after a large label. Measured
(2026-12-06, QL-820NWB virtual printer): the server's RSS after 40 QL labels and 40 previews was
73.2 MB at 8 MiB, 72.0 MB at 4 MiB and 83.4 MB with glibc's defaults (whose own mmap threshold
grows after the first big free); 54.8 MB at idle in all three.
Allocations above ``MMAP_THRESHOLD`` (very long high-resolution labels) are mapped as before.
Other C libraries (musl) have no ``mallopt``, and 32-bit glibc (armhf Raspberry Pi OS) caps the
mmap threshold at 512 KiB, below a label's bitmap; nothing changes there.
"""

from __future__ import annotations

import ctypes
import os

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's <malloc.h>
MMAP_THRESHOLD = 8 * 1024 * 1024  # a 62 mm QL label at 600 dpi and 198 mm is 3.3 MB per bitmap
TRIM_THRESHOLD = 8 * 1024 * 1024  # above the 6.5 MB one long QL label frees (see above)


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
