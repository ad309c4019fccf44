"""Freed file-sized buffers are reused, not faulted in again for every file (glibc)."""

from __future__ import annotations

import gc
import subprocess
import sys

from nccid_desktop.dicom.deid import heap

#: Hold three CT-slice-sized buffers at once (source, output being encoded, output) and free
#: them, 200 times, as de-identifying 200 slices does; print the page faults that cost (in a
#: fresh process: the thresholds are per process).
_FAULTS = """
import resource, sys
from nccid_desktop.dicom.deid.heap import keep_freed_memory
if sys.argv[1] == "keep":
    assert keep_freed_memory()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(200):
    buffers = [bytearray(600_000) for _ in range(3)]
    for buffer in buffers:
        buffer[::4096] = bytes(len(range(0, 600_000, 4096)))
    del buffers, buffer
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", _FAULTS, mode], capture_output=True,
                          text=True, check=True)
    return int(done.stdout)


def test_freed_buffers_are_reused_instead_of_faulted_in_again() -> None:
    assert sys.platform.startswith("linux")  # the development and benchmark machine
    default, kept = _faults("default"), _faults("keep")
    assert default > 200 * 100  # the buffers' pages faulted in again for every file
    assert kept < default // 20


def test_setting_the_thresholds_twice_is_harmless() -> None:
    assert heap.keep_freed_memory()
    assert heap.keep_freed_memory()


#: Build many objects, fork a child that collects garbage (as a worker does while it works)
#: and print the page faults the child took: every page the collector writes is copied.
_FORK_FAULTS = """
import gc, os, resource, sys
from nccid_desktop.dicom.deid.heap import frozen_for_fork
objects = [{"value": [index]} for index in range(300_000)]
with frozen_for_fork(sys.argv[1]):
    read, write = os.pipe()
    child = os.fork()
    if child == 0:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        gc.collect()
        os.write(write, str(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before).encode())
        os._exit(0)
os.waitpid(child, 0)
print(os.read(read, 100).decode(), gc.get_freeze_count())
"""


def _fork_faults(start_method: str) -> tuple[int, int]:
    done = subprocess.run([sys.executable, "-c", _FORK_FAULTS, start_method],
                          capture_output=True, text=True, check=True)
    faults, frozen_after = done.stdout.split()
    return int(faults), int(frozen_after)


def test_forked_workers_do_not_copy_the_parents_objects_by_collecting_them() -> None:
    copied, _ = _fork_faults("spawn")  # not a fork: nothing is frozen
    shared, frozen_after = _fork_faults("fork")
    assert copied > 1000  # the collector wrote to the pages of 300,000 objects
    assert shared < copied // 4
    assert frozen_after == 0  # the parent collects its own objects again afterwards


def test_nothing_is_frozen_for_other_start_methods() -> None:
    with heap.frozen_for_fork("forkserver"):
        assert gc.get_freeze_count() == 0


def test_objects_frozen_by_someone_else_stay_frozen() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with heap.frozen_for_fork("fork"):
            pass
        assert gc.get_freeze_count() == frozen > 0
    finally:
        gc.unfreeze()
