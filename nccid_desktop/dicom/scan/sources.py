"""Finding candidate DICOM files in what PACS staff drop: files, folders and ``.zip`` archives.

Why a ``SourceFile`` value rather than a path: a file may live inside a zip, and source paths
often contain patient names (PACS exports name folders after the patient). A ``SourceFile``
knows how to read its bytes wherever it lives; its ``display_name`` is for the user's own
screen only and must never be logged, journalled or uploaded. Reading is bounded
(:mod:`nccid_desktop.bounded`): a file over the image cap, or a zip member whose declared or
actual inflated size breaks the caps, raises :class:`TooLarge` before it is read whole.
"""

from __future__ import annotations

import io
import os
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from nccid_desktop.bounded import TooLarge, open_member, read_file, too_big
from nccid_desktop.limits import DEFAULT_LIMITS, Limits
from nccid_desktop.tasks import NEVER_CANCELLED, CancelToken

__all__ = ["READ_ERRORS", "SKIPPED_NAMES", "SourceFile", "TooLarge", "iter_sources"]

#: What reading a file or zip member raises when it cannot be read at all: damaged, cut
#: short, encrypted (RuntimeError) or packed with a method zipfile does not know
#: (NotImplementedError, which a flipped bit in a zip header is enough to cause).
READ_ERRORS: tuple[type[Exception], ...] = (OSError, zipfile.BadZipFile, zlib.error, EOFError,
                                            RuntimeError, NotImplementedError)

#: How a refusal names the file: the message goes with the file's name on screen.
SUBJECT = "This file"
IMAGE_SETTING = "max_image_size"

#: File names that are indexes or clutter, never image content.
SKIPPED_NAMES = frozenset({"dicomdir", "thumbs.db", ".ds_store", "desktop.ini"})


@dataclass(frozen=True)
class SourceFile:
    """One candidate file: a path on disk, or a member of a zip archive on disk."""

    path: Path
    member: str | None = None
    size: int = 0

    @property
    def display_name(self) -> str:
        """Where the file is, for the user's own screen only (may contain a patient name)."""
        return f"{self.path}!{self.member}" if self.member else str(self.path)

    def open(self, limits: Limits = DEFAULT_LIMITS) -> BinaryIO:
        return io.BytesIO(self.read_bytes(limits))

    def read_bytes(self, limits: Limits = DEFAULT_LIMITS) -> bytes:
        """The whole file; :class:`TooLarge` when it breaks ``limits`` (nothing big is read)."""
        if self.member is None:
            return read_file(self.path, limits.image_bytes, subject=SUBJECT,
                             setting=IMAGE_SETTING)
        with zipfile.ZipFile(self.path) as archive, self.open_member(archive, limits) as stream:
            return stream.read()

    def open_member(self, archive: zipfile.ZipFile, limits: Limits) -> BinaryIO:
        """This zip member of ``archive`` as a bounded stream (checked before inflating)."""
        assert self.member is not None
        return open_member(archive, archive.getinfo(self.member), limits.image_bytes, limits,
                           subject=SUBJECT, setting=IMAGE_SETTING)

    def check_size(self, limits: Limits) -> None:
        """Refuse a file on disk known to be over the cap (a zip member is checked when
        opened, from its declared sizes)."""
        if self.member is None and self.size > limits.image_bytes:
            raise too_big(SUBJECT, self.size, limits.image_bytes, IMAGE_SETTING)


def _is_skipped(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return base.lower() in SKIPPED_NAMES or base.startswith("._") or not base


def _zip_members(path: Path) -> Iterator[SourceFile]:
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if info.is_dir() or _is_skipped(info.filename) or info.filename.startswith("__MACOSX/"):
                continue
            yield SourceFile(path, info.filename, info.file_size)


def _from_file(path: Path) -> Iterator[SourceFile]:
    if _is_skipped(path.name):
        return
    if path.suffix.lower() == ".zip" and zipfile.is_zipfile(path):
        try:
            yield from _zip_members(path)
            return
        except READ_ERRORS:
            pass  # a damaged archive is reported as an unreadable file by the caller
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    yield SourceFile(path, None, size)


def iter_sources(
    paths: Iterable[str | os.PathLike[str]], cancel: CancelToken = NEVER_CANCELLED
) -> Iterator[SourceFile]:
    """Every candidate file under ``paths``, recursively, zips opened, DICOMDIR skipped.

    Order is deterministic (sorted per folder) so runs and tests repeat exactly.
    """
    for raw in paths:
        root = Path(raw)
        if root.is_dir():
            for folder, dirs, files in os.walk(root):
                cancel.raise_if_cancelled()
                dirs.sort()
                for name in sorted(files):
                    yield from _from_file(Path(folder) / name)
        elif root.exists():
            yield from _from_file(root)
