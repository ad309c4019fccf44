"""Putting a file into the outbox's staging folder so that a crash never leaves half of one.

Why apart from the journal: the journal records facts in SQLite; these are the file-system
steps before a fact is recorded (write or move to a ``.part`` name, flush to disk, rename).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def write_atomically(path: Path, data: bytes) -> None:
    """``data`` at ``path``, whole or not at all."""
    temporary = path.with_name(path.name + ".part")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def place_file(source: Path, target: Path, move: bool) -> None:
    """``source`` copied (or moved, when it is already ours) to ``target``, on disk first."""
    temporary = target.with_name(target.name + ".part")
    if move and same_device(source, target):
        os.replace(source, temporary)
    elif move:
        shutil.move(source, temporary)
    else:
        shutil.copyfile(source, temporary)
    with open(temporary, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temporary, target)


def same_device(a: Path, b: Path) -> bool:
    try:
        return os.stat(a).st_dev == os.stat(b.parent).st_dev
    except OSError:
        return False
