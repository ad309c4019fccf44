"""Named locks that every replica of the service honours, kept by the database.

Why the database: replicas share nothing but PostgreSQL and the bucket, and a lock must vanish
with the replica that held it (a replica killed with -9 mid-batch must not block the others
for ever). PostgreSQL advisory locks do both: they are held by a connection and released when
its transaction ends, when they are unlocked, or when the connection drops. SQLite serves one
process only (demo mode, small sites), so there a lock is a lock within that process.

Two shapes:
- :func:`locked_transaction`: one transaction that holds the lock from start to commit (a read
  then a write that must not interleave with another replica's, such as "is this record new?").
- :func:`held_lock`: held across many transactions on one connection (a whole clinical batch,
  so a batch re-sent to another replica waits for the first and is answered from it).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

_local_guard = threading.Lock()
_local_locks: dict[int, tuple[threading.Lock, int]] = {}


def lock_key(*parts: str) -> int:
    """A signed 64-bit key for ``parts`` (what ``pg_advisory_lock`` takes)."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def process_lock(*name: str) -> Iterator[None]:
    """The lock ``name`` within this process only (one replica, or a single-process service)."""
    with _local_lock(lock_key(*name)):
        yield


def object_writer_lock(db: Engine) -> Callable[[str], AbstractContextManager[None]]:
    """A lock per warehouse object name, held by one writer at a time across every replica.

    Why, on top of the store's create-only writes: some S3-compatible stores check
    ``If-None-Match`` and commit the object in two steps, so two *simultaneous* completions of
    the same key can both succeed (seen with SeaweedFS multipart uploads). Serialising the
    writers of one name through the database makes "stored once" hold on any store.
    """
    @contextmanager
    def lock(name: str) -> Iterator[None]:
        with db.connect() as conn, locked_transaction(conn, "warehouse-object", name):
            yield

    return lock


@contextmanager
def _local_lock(key: int) -> Iterator[None]:
    """A process-wide lock per key, forgotten when nobody holds or waits for it."""
    with _local_guard:
        lock, users = _local_locks.get(key, (threading.Lock(), 0))
        _local_locks[key] = (lock, users + 1)
    try:
        with lock:
            yield
    finally:
        with _local_guard:
            lock, users = _local_locks[key]
            if users == 1:
                del _local_locks[key]
            else:
                _local_locks[key] = (lock, users - 1)


def _is_postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


@contextmanager
def locked_transaction(conn: Connection, *name: str) -> Iterator[Connection]:
    """A transaction on ``conn`` that holds the lock ``name`` until it commits or rolls back."""
    key = lock_key(*name)
    if _is_postgres(conn):
        with conn.begin():
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
            yield conn
    else:
        with _local_lock(key), conn.begin():
            yield conn


@contextmanager
def held_lock(conn: Connection, *name: str) -> Iterator[Connection]:
    """Hold the lock ``name`` on ``conn`` across the transactions run inside the block.

    The block must leave no transaction open on ``conn`` (use ``with conn.begin()``).
    """
    key = lock_key(*name)
    if not _is_postgres(conn):
        with _local_lock(key):
            yield conn
        return
    with conn.begin():
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
    try:
        yield conn
    finally:
        try:
            if conn.in_transaction():
                conn.rollback()
            with conn.begin():
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
        except DBAPIError:
            conn.invalidate()  # the lock goes with the connection
