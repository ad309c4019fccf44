"""A small real file system for full-disk tests (tmpfs, mounted as root), and a filler.

Importable as ``tests.workflows.small_disk``. A test skips, saying why, only where mounting
is impossible (not root, no mount(8), a container that forbids it).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

MB = 1024 * 1024


@contextlib.contextmanager
def small_disk(folder: Path, megabytes: int) -> Iterator[Path]:
    """A real file system of ``megabytes`` at ``folder`` (tmpfs), unmounted afterwards."""
    folder.mkdir(parents=True)
    mount = shutil.which("mount")
    if mount is None or os.geteuid() != 0:
        pytest.skip("a small file system cannot be mounted here: needs root and mount(8) "
                    f"(euid {os.geteuid()}, mount {'found' if mount else 'missing'})")
    done = subprocess.run([mount, "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs",
                           str(folder)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"a small file system cannot be mounted here: {done.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(disk: Path, leave: int = 0) -> Path:
    """A file taking all but ``leave`` bytes of the disk's free space."""
    filler = disk / "filler.bin"
    with open(filler, "ab") as handle:
        block = b"\0" * MB
        try:
            while shutil.disk_usage(disk).free > leave + len(block):
                handle.write(block)
                handle.flush()
            rest = shutil.disk_usage(disk).free - leave
            if rest > 0:
                handle.write(b"\0" * rest)
                handle.flush()
        except OSError as error:
            assert error.errno == errno.ENOSPC
    return filler
