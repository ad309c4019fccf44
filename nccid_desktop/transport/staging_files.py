"""Putting a file into the outbox's staging folder so that a crash never leaves half of one.

Why apart from the journal: the journal records facts in SQLite; these are the file-system
steps before a fact is recorded (write or move to a ``.part`` name, flush to disk, rename).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path


def write_atomically(path: Path, data: bytes) -> None:
    """``data`` at ``path``, whole or not at all (a part written before a failure, a full
    disk say, is removed)."""
    temporary = path.with_name(path.name + ".part")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        _remove(temporary)
        raise


def place_file(source: Path, target: Path, move: bool) -> None:
    """``source`` copied (or moved, when it is already ours) to ``target``, on disk first;
    whole or not at all: a copy cut short (a full disk) leaves no part behind, and a moved
    source stays where it was until its copy is whole."""
    temporary = target.with_name(target.name + ".part")
    try:
        if move and same_device(source, target):
            os.replace(source, temporary)
        else:
            shutil.copyfile(source, temporary)
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        _remove(temporary)
        raise
    if move and source.exists():
        source.unlink()


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


def same_device(a: Path, b: Path) -> bool:
    try:
        return os.stat(a).st_dev == os.stat(b.parent).st_dev
    except OSError:
        return False
