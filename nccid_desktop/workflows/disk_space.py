"""Free space for a send job: checked before de-identifying, and a full disk said plainly.

Why before: a job of 2,000 CT slices needs about as much room in the staging folder as the
slices take at the source. Finding out half-way (the disk full, the journal unable to record
what was done) leaves the user with a stopped job and a technical message; finding out first
costs one ``statvfs`` per disk and tells them which folder and how much to free.

Why the full-disk error is worked out here too: another program can fill the disk while the
job runs. Whatever fails then (a write of a de-identified copy, the copy into staging, the
journal's SQLite database) is turned into one message naming the folder and how much to free,
and the job stays open, so Resume finishes it once space is freed.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from nccid_desktop.errors import DiskFullError
from nccid_desktop.errors import is_disk_full as _os_disk_full
from nccid_desktop.paths import user_data_dir
from nccid_desktop.transport.outbox import OUTBOX_FOLDER, Outbox

MB = 1024 * 1024
#: Room the journal's database needs whatever the job's size (pages, its write-ahead log).
JOURNAL_BASE_BYTES = 8 * MB
#: And per file of the job (its rows in the item and job journals).
JOURNAL_BYTES_PER_FILE = 4096
#: A de-identified copy can be a little larger than its source (new UIDs, dummy values,
#: a deflated source written plain): the staging estimate allows this much more.
STAGING_HEADROOM = 1.05
#: Kept free beyond the estimate, so the job does not leave the disk with nothing at all.
SPARE_BYTES = 16 * MB


@dataclass(frozen=True)
class SpaceNeed:
    """Bytes a job still needs in one folder."""

    folder: Path
    needed: int


def job_needs(*, staging: Path, work: Path, journal: Path, to_do_bytes: int, to_do_files: int,
              chunk_bytes: int) -> list[SpaceNeed]:
    """What the files left to de-identify need in each folder: their copies in staging, one
    chunk's copies in the run's work folder, and their journal rows."""
    staged = math.ceil(to_do_bytes * STAGING_HEADROOM)
    return [
        SpaceNeed(staging, staged),
        SpaceNeed(work, min(staged, math.ceil(chunk_bytes * STAGING_HEADROOM))),
        SpaceNeed(journal, JOURNAL_BASE_BYTES + to_do_files * JOURNAL_BYTES_PER_FILE),
    ]


def _existing(folder: Path) -> Path:
    """The folder, or its nearest ancestor that exists (a folder is made on first use)."""
    folder = Path(folder).absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def free_bytes(folder: Path) -> int:
    """Free bytes on the disk holding ``folder`` (for this user)."""
    return shutil.disk_usage(_existing(folder)).free


def check_space(needs: Iterable[SpaceNeed]) -> None:
    """Raise :class:`DiskFullError` naming the first folder whose disk has too little room.

    Folders on one disk share its free space, so their needs are added up per disk.
    """
    by_disk: dict[int, list[SpaceNeed]] = {}
    for need in needs:
        if need.needed > 0:
            by_disk.setdefault(os.stat(_existing(need.folder)).st_dev, []).append(need)
    for group in by_disk.values():
        needed = sum(n.needed for n in group) + SPARE_BYTES
        free = free_bytes(group[0].folder)
        if free < needed:
            folder = max(group, key=lambda n: n.needed).folder
            short = _mb(needed - free)
            raise DiskFullError(
                f"There is not enough free space on the disk holding {folder}: this job needs "
                f"{_mb(needed)} MB there and {_mb(free)} MB is free. Free {short} MB and press "
                "Resume (or run 'nccid resume'); nothing has been de-identified yet.",
                folder, needed - free)


def is_disk_full(error: BaseException) -> bool:
    """Whether ``error`` says a disk (or the user's quota) is full."""
    if _os_disk_full(error):
        return True
    if isinstance(error, sqlite3.Error):
        text = str(error).lower()
        return "disk is full" in text or "database or disk is full" in text
    return False


def disk_full_error(folder: Path, still_needed: int) -> DiskFullError:
    """The message for a disk that filled up while the job ran (the job stays open)."""
    short = max(_mb(still_needed + SPARE_BYTES - free_bytes(folder)), 1)
    return DiskFullError(f"The disk holding {folder} is full: free {short} MB and press "
                         "Resume (or run 'nccid resume'). Nothing half-written was kept.",
                         folder, short * MB)


def folder_of(error: BaseException, candidates: Iterable[Path], default: Path) -> Path:
    """Which of our folders ``error`` happened in (by the file it names), else ``default``."""
    names = [getattr(error, "filename", None), getattr(error, "filename2", None)]
    for name in names:
        if not name:
            continue
        path = Path(os.fsdecode(name)).absolute()
        for folder in candidates:
            if path.is_relative_to(Path(folder).absolute()):
                return Path(folder)
    return default


@contextlib.contextmanager
def stop_cleanly_when_full(folders: Sequence[Path], still_needed: Callable[[], int]
                           ) -> Iterator[None]:
    """Turn a full disk met inside the block (a write, a copy, the journal's database) into
    :class:`DiskFullError` naming the folder concerned (the journal's, ``folders[0]``, when
    the error names no file of ours)."""
    try:
        yield
    except (OSError, sqlite3.Error) as error:
        if not is_disk_full(error):
            raise
        folder = folder_of(error, folders, folders[0])
        raise disk_full_error(folder, still_needed()) from None


def open_outbox(folder: Path | None = None) -> Outbox:
    """The upload journal, opened; a disk too full to open it (its database writes as it
    opens) is said as a full disk, not as a database failure."""
    where = Path(folder) if folder else user_data_dir() / OUTBOX_FOLDER
    with stop_cleanly_when_full((where,), lambda: 0):
        return Outbox(where)


def _mb(size: int) -> int:
    return max(math.ceil(size / MB), 0)
