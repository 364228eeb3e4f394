"""Keep freed memory in the process while training on a CPU, so that a step does not page-fault its activations in.

glibc's malloc serves every block above its mmap threshold (128 KiB at start,
raised as such blocks are freed) with a fresh ``mmap`` and returns it with
``munmap`` when freed, and gives the top of its heap back to the system once
128 KiB of it is free.  A training step frees and allocates the same
activation and gradient buffers (0.5-3 MB each on the built-in model), so the
kernel maps, zeroes and faults them in again on every step.  On the
quickstart's job that was 2,000-4,000 page faults per step; the same 60 steps
took 10.3-14.6 s of CPU time with glibc's defaults and 7.5-7.6 s with a fixed
32 MiB mmap threshold and a 1 GiB trim threshold (one thread; page faults
125,000 -> 1,400; ``benchmarks/train_speed.py`` has the whole-run figures).

PyTorch's guide to CPU performance recommends a caching allocator (jemalloc or
tcmalloc through ``LD_PRELOAD``) for the same reason; a preload must be in
place before the process starts, which a running Jupyter kernel is not, and
glibc's own ``mallopt`` gets the same effect from inside it.  The cost is that
memory freed after the peak stays with the process (up to the trim threshold)
instead of going back to the system, which a training process would ask for
again at its next step anyway.  Where the C library is not glibc (macOS,
musl) nothing changes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameters (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 2**20  # the ceiling of glibc's own dynamic threshold (DEFAULT_MMAP_THRESHOLD_MAX)
TRIM_THRESHOLD = 2**30

_applied: list[bool] = []  # once per process: [True] when glibc took the settings, [False] when it could not


def keep_freed_memory() -> bool:
    """Set glibc malloc's mmap and trim thresholds for this process (once); True when they are in force."""
    if not _applied:
        _applied.append(_mallopt())
    return _applied[0]


def _mallopt() -> bool:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
