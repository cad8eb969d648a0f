"""Make glibc give freed memory back to the system, so a long-running worker's size stays flat.

glibc raises its mmap and trim thresholds on its own each time a large block is freed, after which
big buffers come from the heap and freed heap is kept rather than returned: under steady load a
worker's RSS grew about 2 MB a minute while Python's own memory stayed flat (bench/README.md, Soak).
Fixed thresholds stop that, as MALLOC_TRIM_THRESHOLD_ does for Dask's workers; mallopt also resets
the mmap threshold already raised while the worker started, which the variable could not.
"""
from __future__ import annotations

import ctypes
import ctypes.util

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h
TRIM_THRESHOLD = 64 * 1024
MMAP_THRESHOLD = 128 * 1024  # glibc's starting value, which its dynamic rule raises


def return_freed_memory() -> bool:
    """True if set; False where the C library is not glibc (musl, macOS), which have no such knob."""
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c")).mallopt
    except (OSError, AttributeError, TypeError):
        return False
    return mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
