"""The warehouse in a local folder: the default, for demo mode and small deployments.

Why hard links: a new object is first written and fsynced under a staging name inside the
folder (``.incoming/``), then linked to its key. ``os.link`` fails if the name exists, so
"create unless present" is one atomic step even with several processes on one file system,
and a crash leaves either no file or a complete one, never half a JSON or DICOM file where
the NCCID loader would read it. Replacing uses ``os.replace`` (atomic on POSIX and Windows).
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

from nccid_collector.objectstore.base import (
    ObjectMissing,
    ObjectStore,
    StorageConfigError,
    StorageError,
    StoredObject,
    check_key,
    check_prefix,
    remove_stale_files,
)

STAGING_DIR = ".incoming"
_COPY_CHUNK = 1024 * 1024


class FolderStore(ObjectStore):
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.staging = self.root / STAGING_DIR
        self.preferred_spool = self.staging

    @property
    def address(self) -> str:
        return str(self.root)

    def check(self) -> None:
        try:
            self.staging.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageConfigError(f"The warehouse folder {self.root} cannot be created "
                                     f"({type(exc).__name__}).") from None
        if not os.access(self.staging, os.W_OK):
            raise StorageConfigError(f"The warehouse folder {self.root} is not writable by the "
                                     "service's account.")

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _staged_copy(self, source: Path) -> Path:
        """``source`` as a fsynced file in the staging folder (linked when possible)."""
        self.staging.mkdir(parents=True, exist_ok=True)
        staged = self.staging / f"obj-{secrets.token_hex(12)}.tmp"
        try:
            os.link(source, staged)
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                raise
            with open(source, "rb") as reader, open(staged, "wb") as writer:
                shutil.copyfileobj(reader, writer, _COPY_CHUNK)
        _fsync_file(staged)
        return staged

    def _staged_bytes(self, data: bytes) -> Path:
        self.staging.mkdir(parents=True, exist_ok=True)
        staged = self.staging / f"obj-{secrets.token_hex(12)}.tmp"
        with open(staged, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        return staged

    def _link_new(self, staged: Path, key: str) -> bool:
        final = self._path(key)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(staged, final)
            except FileExistsError:
                return False
        except OSError as exc:
            raise StorageError(f"The warehouse folder cannot be written ({type(exc).__name__}).") \
                from exc
        finally:
            staged.unlink(missing_ok=True)
        _fsync_dir(final.parent)
        return True

    def put_file_new(self, key: str, source: Path) -> bool:
        check_key(key)
        return self._link_new(self._guard(self._staged_copy, source), key)

    def put_bytes_new(self, key: str, data: bytes) -> bool:
        check_key(key)
        return self._link_new(self._guard(self._staged_bytes, data), key)

    def _replace(self, staged: Path, key: str) -> None:
        final = self._path(key)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, final)
        except OSError as exc:
            staged.unlink(missing_ok=True)
            raise StorageError(f"The warehouse folder cannot be written ({type(exc).__name__}).") \
                from exc
        _fsync_dir(final.parent)

    def replace_file(self, key: str, source: Path) -> None:
        check_key(key)
        self._replace(self._guard(self._staged_copy, source), key)

    def replace_bytes(self, key: str, data: bytes) -> None:
        check_key(key)
        self._replace(self._guard(self._staged_bytes, data), key)

    @staticmethod
    def _guard(stage, value) -> Path:
        try:
            return stage(value)
        except OSError as exc:
            raise StorageError(f"The warehouse folder cannot be written ({type(exc).__name__}).") \
                from exc

    def get_bytes(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise ObjectMissing("The warehouse holds no such object.") from None
        except OSError as exc:
            raise StorageError(f"The warehouse folder cannot be read ({type(exc).__name__}).") \
                from exc

    def download(self, key: str, destination: Path) -> None:
        try:
            with open(self._path(key), "rb") as reader, open(destination, "wb") as writer:
                shutil.copyfileobj(reader, writer, _COPY_CHUNK)
        except FileNotFoundError:
            raise ObjectMissing("The warehouse holds no such object.") from None

    def stat(self, key: str) -> StoredObject | None:
        try:
            info = self._path(key).stat()
        except FileNotFoundError:
            return None
        return StoredObject(key, info.st_size) if _is_file(info) else None

    def list(self, prefix: str = "") -> Iterator[StoredObject]:
        check_prefix(prefix)
        folder, _, _ = prefix.rpartition("/")
        start = self.root / folder if folder else self.root
        found: list[StoredObject] = []
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            relative = Path(dirpath).relative_to(self.root).as_posix()
            base = "" if relative == "." else relative + "/"
            for name in filenames:
                key = base + name
                if name.startswith(".") or not key.startswith(prefix):
                    continue
                try:
                    info = os.stat(os.path.join(dirpath, name))
                except FileNotFoundError:
                    continue
                found.append(StoredObject(key, info.st_size))
        found.sort(key=lambda item: item.key)
        yield from found

    def delete(self, key: str) -> bool:
        path = self._path(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        _fsync_dir(path.parent)
        for folder in path.parents:  # leave no empty date folders behind
            if folder == self.root or self.root not in folder.parents:
                break
            try:
                folder.rmdir()
            except OSError:
                break
        return True

    def sweep(self, now: float, max_age_seconds: int) -> int:
        if not self.staging.is_dir():
            return 0
        return remove_stale_files(self.staging, "obj-*.tmp", now, max_age_seconds)


def _is_file(info: os.stat_result) -> bool:
    return stat.S_ISREG(info.st_mode)


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
