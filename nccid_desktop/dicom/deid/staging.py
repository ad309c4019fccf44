"""Writing de-identified files: whole or not at all, and never over a different file.

Why no-replace: outputs are named by their new SOP Instance UID, and two different images can
carry the same UID (re-exports, vendor bugs, copied test data). A plain rename would let the
second silently replace the first, losing one patient's image. So an output is written to a
temporary name and then *linked* into place, which fails if the name is taken; the file
already there is then compared: the same bytes are the same image (nothing to do), other
bytes are a conflict the caller reports, and the staged file stays as it was.

Why no fsync: an output here is not the upload yet; the outbox copies it, fsyncs its copy and
records its size, which the sender checks again. A power cut between the link and that copy
can leave the output short, so whatever stages it checks its size against
``FileOutcome.bytes`` or re-verifies it first.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Literal

_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)
_COMPARE_CHUNK = 1 << 20

Placed = Literal["written", "same", "different"]


def _write_temporary(target: Path, content: bytes) -> str:
    """``content`` in a temporary file beside ``target`` (plain ``os`` calls: a buffered file
    adds nothing to one large write); its path."""
    temporary = os.path.join(target.parent, f".{target.stem}.{os.getpid()}.tmp")
    try:
        descriptor = os.open(temporary, _WRITE_FLAGS, 0o666)
    except FileNotFoundError:  # the folder is made on first use, not checked for every file
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(temporary, _WRITE_FLAGS, 0o666)
    try:
        view = memoryview(content)
        while view:
            view = view[os.write(descriptor, view):]
    except BaseException:
        os.close(descriptor)
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    os.close(descriptor)
    return temporary


def write_atomically(target: Path, content: bytes) -> None:
    """One write to a temporary name, then a rename: the target is whole or absent (and
    replaced if it existed: for files that are ours alone, such as quarantine copies)."""
    temporary = _write_temporary(target, content)
    try:
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _place_without_replacing(temporary: str, target: Path) -> bool:
    """Move ``temporary`` to ``target`` unless ``target`` exists; whether it was placed."""
    try:
        os.link(temporary, target)
    except FileExistsError:
        return False
    except OSError:  # no hard links on this file system (FAT, some network shares)
        if sys.platform == "win32":
            try:
                os.rename(temporary, target)  # refuses an existing target on Windows
            except FileExistsError:
                return False
            return True
        if os.path.lexists(target):
            return False
        os.replace(temporary, target)
    return True


def same_content(path: Path, content: bytes) -> bool:
    """Whether the file at ``path`` holds exactly ``content`` (read in chunks)."""
    try:
        if path.stat().st_size != len(content):
            return False
        with path.open("rb") as handle:
            view = memoryview(content)
            for start in range(0, len(content), _COMPARE_CHUNK):
                if handle.read(_COMPARE_CHUNK) != view[start:start + _COMPARE_CHUNK]:
                    return False
        return True
    except OSError:
        return False


def stage(target: Path, content: bytes) -> Placed:
    """Write ``content`` as ``target`` unless a file is there: ``written``, or ``same`` /
    ``different`` from the file already there, which is left untouched."""
    temporary = _write_temporary(target, content)
    try:
        if _place_without_replacing(temporary, target):
            return "written"
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
    return "same" if same_content(target, content) else "different"


def store_quarantine(quarantine_dir: Path | None, code: str, message: str, key: str,
                     content: bytes) -> None:
    """Keep a refused file under ``quarantine_dir/<code>/<key>.dcm`` with its reason."""
    if quarantine_dir is None:
        return
    folder = Path(quarantine_dir) / code
    folder.mkdir(parents=True, exist_ok=True)
    write_atomically(folder / f"{key}.dcm", content)
    (folder / f"{key}.txt").write_text(f"{code}\n{message}\n", encoding="utf-8")
