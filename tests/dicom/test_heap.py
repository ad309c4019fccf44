"""Freed file-sized buffers are reused, not faulted in again for every file (glibc)."""

from __future__ import annotations

import subprocess
import sys

from nccid_desktop.dicom import heap

#: Hold three CT-slice-sized buffers at once (source, output being encoded, output) and free
#: them, 200 times, as de-identifying 200 slices does; print the page faults that cost (in a
#: fresh process: the thresholds are per process).
_FAULTS = """
import resource, sys
from nccid_desktop.dicom.heap import keep_freed_memory
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
