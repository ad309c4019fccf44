"""Memory habits of the de-identifying processes: freed buffers kept for the next file
(glibc), and the parent's objects left untouched by its forked workers' garbage collector.

Why: de-identifying allocates a few buffers the size of the file for every file (the source
bytes, the output being encoded, the output), then frees them. glibc hands blocks this large
to the system and back (``mmap`` and trimming the heap's top), so every page of every buffer
could be faulted in and zeroed again for the next file: in some runs about 250 page faults
per CT slice, a third of the system CPU time of a batch (0.45 -> 0.30 s per 500 slices;
10.5 MB X-rays alike). Whether glibc does so depends on what the process freed before (its
thresholds move), so other runs showed no faults to save; raising the two thresholds makes
reuse the rule. Peak memory stays the same (the largest file's buffers are resident anyway).
Other C libraries and systems (Windows) are left as they are.

Why :func:`frozen_for_fork`: a forked worker shares the parent's pages until it writes to
them, and the cyclic garbage collector writes to every object it examines; an object moved to
the permanent generation (``gc.freeze``) before the fork is never examined. Measured on 500
CT slices with 2 workers: half the page faults (9,500 -> 4,900) and 6% less worker CPU.
The parent unfreezes once its workers exist, so its own collection is unchanged.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import logging
import sys
from collections.abc import Iterator

log = logging.getLogger(__name__)

#: mallopt parameters (glibc malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
#: Blocks below this come from the heap (glibc's dynamic threshold tops out at 32 MiB).
MMAP_THRESHOLD = 16 * 1024 * 1024
#: Free memory at the heap's top is given back to the system only above this.
TRIM_THRESHOLD = 64 * 1024 * 1024

_done = False


def keep_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds once per process; whether they were set."""
    global _done
    if _done:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or None).mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    _done = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
                 and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    if not _done:
        log.debug("glibc refused the malloc thresholds; left as they were.")
    return _done


@contextlib.contextmanager
def frozen_for_fork(start_method: str | None) -> Iterator[None]:
    """Freeze this process's objects while workers are forked (``start_method`` "fork");
    a process that froze objects itself is left as it is."""
    if start_method != "fork" or gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
