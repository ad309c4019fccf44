"""What the warehouse needs from a place that keeps files: one small interface, two back ends.

Why this shape: the warehouse is a set of named, immutable objects (``raw-<site>/<date>/...``)
written once and read by the NCCID loader. A local folder and an S3 bucket can both give that
with the same guarantees, so the service and every command that reads or writes the warehouse
(upload, withdrawal, purge, linkage) talk to :class:`ObjectStore` only:

- ``put_file_new`` / ``put_bytes_new`` create an object only if its key is free, in one atomic
  step: two replicas storing the same key at once store it once, and nobody ever sees half an
  object (a crash leaves either nothing or the whole object under its key).
- ``replace_file`` / ``replace_bytes`` swap an object for another atomically (corrections).
- ``get_bytes`` / ``download``, ``stat`` / ``exists``, ``list`` (complete objects only, by key
  prefix, in key order) and ``delete``.
- ``sweep`` removes what interrupted writes left behind (never a complete object).

Keys are relative, ``/``-separated names with no empty, ``.`` or ``..`` parts; a key or part
starting with ``.`` is the store's own (staging, probes) and is never listed.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from nccid_desktop.errors import ConfigError, NccidError

_KEY_PART = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._+=@-]*$")
MAX_KEY_LENGTH = 900


class StorageError(NccidError):
    """The warehouse could not be read or written just now (the request may be retried)."""


class StorageConfigError(ConfigError):
    """The warehouse address is wrong, unreachable at start, or the store lacks a guarantee."""


class ObjectMissing(StorageError):
    """No object has this key."""


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int


def check_key(key: str) -> str:
    """``key`` if it is a safe relative object name, else ValueError (names no value)."""
    parts = key.split("/")
    if len(key) > MAX_KEY_LENGTH or not all(_KEY_PART.fullmatch(part) for part in parts):
        raise ValueError("not a warehouse object name")
    return key


def check_prefix(prefix: str) -> str:
    """A listing prefix: empty, or a key, or a key followed by ``/``."""
    if prefix:
        check_key(prefix[:-1] if prefix.endswith("/") else prefix)
    return prefix


def remove_stale_files(folder: Path, pattern: str, now: float, max_age_seconds: int) -> int:
    """Delete the files in ``folder`` matching ``pattern`` older than ``max_age_seconds``.

    Why a crash leaves them: a write goes to a temporary file first and is renamed into place
    only when whole, so a killed process leaves its temporary file behind and nothing else.
    Another process may remove one at the same time: that is not an error.
    """
    removed = 0
    for leftover in folder.glob(pattern):
        try:
            if now - leftover.stat().st_mtime > max_age_seconds:
                leftover.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed


class ObjectStore(ABC):
    """A flat namespace of immutable objects with create-only and atomic-replace writes."""

    #: where spool files should be made so that ``put_file_new`` is cheapest (None: anywhere)
    preferred_spool: Path | None = None

    @property
    @abstractmethod
    def address(self) -> str:
        """Where the objects live, safe to log (a path or ``s3://bucket/prefix``)."""

    @abstractmethod
    def put_file_new(self, key: str, source: Path) -> bool:
        """Store the file's bytes under ``key`` unless taken; False (nothing written) if taken.

        ``source`` is left in place (the caller owns it).
        """

    @abstractmethod
    def put_bytes_new(self, key: str, data: bytes) -> bool:
        """As :meth:`put_file_new`, for bytes already in memory (small objects)."""

    @abstractmethod
    def replace_file(self, key: str, source: Path) -> None:
        """Make ``key`` hold the file's bytes, atomically, whether or not it existed."""

    @abstractmethod
    def replace_bytes(self, key: str, data: bytes) -> None:
        """As :meth:`replace_file`, for bytes already in memory."""

    @abstractmethod
    def get_bytes(self, key: str) -> bytes:
        """The object's bytes (:class:`ObjectMissing` when absent). Small objects only."""

    @abstractmethod
    def download(self, key: str, destination: Path) -> None:
        """Stream the object into ``destination`` (for objects too large for memory)."""

    @abstractmethod
    def stat(self, key: str) -> StoredObject | None:
        """The object's key and size, or None when absent."""

    def exists(self, key: str) -> bool:
        return self.stat(key) is not None

    @abstractmethod
    def list(self, prefix: str = "") -> Iterator[StoredObject]:
        """Every complete object whose key starts with ``prefix``, in key order."""

    @abstractmethod
    def delete(self, key: str) -> bool:
        """Remove the object; whether it was there."""

    @abstractmethod
    def sweep(self, now: float, max_age_seconds: int) -> int:
        """Remove leftovers of writes interrupted more than ``max_age_seconds`` ago; how many."""

    def check(self) -> None:  # noqa: B027 - optional: most stores need no start-up check
        """Fail with :class:`StorageConfigError` if the store cannot be used (called at start)."""

    def close(self) -> None:  # noqa: B027 - optional: most stores hold no connection
        """Release connections (nothing to do for most stores)."""
