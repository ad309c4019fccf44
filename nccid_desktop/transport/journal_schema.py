"""The upload journal's tables, and how a journal made by an older version is brought up to date.

Why one database for two journals: an item (a staged record or image) and the send job it
came from must change together (a chunk of images staged, then the job's progress written)
and be read together (what is left of a job after a crash), so both live in
``outbox.sqlite3`` and share one connection. :mod:`outbox` owns the ``items`` table,
:mod:`job_journal` the ``jobs`` and ``job_series`` tables; this module only creates them.

Migrations are additive (new columns are NULL in old rows) and run in an immediate
transaction, so the command line and the app opening one journal at once cannot both apply
one.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from nccid_desktop.transport.staged_series import add_series_columns

JOURNAL_FILE = "outbox.sqlite3"

_ITEMS = """
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('record', 'image')),
    item_key TEXT NOT NULL,
    pseudonym TEXT NOT NULL,
    staging_path TEXT NOT NULL,
    size INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('staged', 'sent', 'acknowledged', 'failed')),
    reason TEXT,
    batch_id TEXT,
    updated_at TEXT NOT NULL,
    study_uid TEXT,
    series_uid TEXT,
    modality TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS items_one_pending ON items (kind, item_key)
    WHERE state IN ('staged', 'sent');
CREATE INDEX IF NOT EXISTS items_by_state ON items (kind, state, id);
"""

#: A send job: ``plan`` is sealed (it names source files); every other column is a count,
#: a date, the site code or the linking setting, none of which identifies anyone.
_JOBS = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'done', 'cancelled', 'dropped')),
    site TEXT NOT NULL,
    linking TEXT NOT NULL,
    files INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    processed INTEGER NOT NULL DEFAULT 0,
    processed_bytes INTEGER NOT NULL DEFAULT 0,
    missing TEXT NOT NULL DEFAULT '[]',
    plan BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS job_series (
    job_id INTEGER NOT NULL REFERENCES jobs (id),
    number INTEGER NOT NULL,
    pseudonym TEXT NOT NULL,
    study_uid TEXT,
    series_uid TEXT,
    modality TEXT,
    files INTEGER NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    missing INTEGER NOT NULL DEFAULT 0,
    outcomes TEXT NOT NULL DEFAULT '{}',
    reasons TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (job_id, number)
);
"""

#: Columns added to ``items`` after its first release: the job and series an image came from.
_ITEM_JOB_COLUMNS = (("job_id", "INTEGER"), ("job_series", "INTEGER"))


def open_journal(folder: Path) -> sqlite3.Connection:
    """The journal in ``folder``, created or brought up to date (WAL, synchronous writes)."""
    db = sqlite3.connect(folder / JOURNAL_FILE, isolation_level=None, check_same_thread=False,
                         timeout=30)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.executescript(_ITEMS + _JOBS)
    add_series_columns(db)
    _add_item_job_columns(db)
    _add_job_series_columns(db)
    return db


@contextmanager
def transaction(db: sqlite3.Connection, lock: threading.RLock) -> Iterator[sqlite3.Connection]:
    """An immediate transaction on the shared connection, committed unless the block raises."""
    with lock:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


def _add_item_job_columns(db: sqlite3.Connection) -> None:
    def missing() -> list[tuple[str, str]]:
        present = {row[1] for row in db.execute("PRAGMA table_info(items)")}
        return [(name, kind) for name, kind in _ITEM_JOB_COLUMNS if name not in present]

    if not missing():
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        for name, kind in missing():
            db.execute(f"ALTER TABLE items ADD COLUMN {name} {kind}")
        db.execute("CREATE INDEX IF NOT EXISTS items_by_job ON items (job_id, job_series)")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


#: Columns of ``job_series`` added after the table first shipped (old rows stay NULL).
_JOB_SERIES_COLUMNS = (("included_by_user", "TEXT"),)


def _add_job_series_columns(db: sqlite3.Connection) -> None:
    def missing() -> list[tuple[str, str]]:
        present = {row[1] for row in db.execute("PRAGMA table_info(job_series)")}
        return [(name, kind) for name, kind in _JOB_SERIES_COLUMNS if name not in present]

    if not missing():
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        for name, kind in missing():
            db.execute(f"ALTER TABLE job_series ADD COLUMN {name} {kind}")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
