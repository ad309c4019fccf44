"""The job journal: every send of images, recorded before its first file is de-identified.

Why a journal of jobs beside the journal of items: the item journal only knows files that
were already de-identified and staged. A send asked for 2,000 files is a promise about all of
them, so it is written down first (which files, the site, the linking setting), then its
progress after each chunk (how many files are processed, per series how each ended), and a
crash at any moment leaves enough to finish it: :mod:`nccid_desktop.workflows.resume`.

What is kept in the clear is what the item journal already keeps (pseudonyms, de-identified
UIDs, modality) plus counts, dates, the site code and the linking setting. The list of source
files is the one thing that can name a patient (export folders are named after them), so it
is stored sealed (:mod:`journal_seal`) and opened only to de-identify them.

``missing`` lists the files (by their position in the job, never by name) that could not be
found when their turn came; they are tried again by the next resume until the user drops the
job.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from nccid_desktop.errors import JournalError
from nccid_desktop.logsafe import scrub
from nccid_desktop.transport.journal_schema import transaction
from nccid_desktop.transport.journal_seal import JournalSeal

JobState = Literal["open", "done", "cancelled", "dropped"]
_PLAN_CONTEXT = b"nccid-job-plan"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class JobSeries:
    """One series of a job as the journal keeps it: its de-identified names and its counts."""

    number: int
    pseudonym: str
    study_uid: str | None
    series_uid: str | None
    modality: str | None
    files: int
    done: int = 0
    missing: int = 0
    outcomes: Mapping[str, int] = field(default_factory=dict)
    reasons: Mapping[str, int] = field(default_factory=dict)
    #: Sent although the selection rules left it out: the codes of the rules the user
    #: overrode by ticking it in (empty for a series the rules chose).
    included_by_user: tuple[str, ...] = ()

    @property
    def to_do(self) -> int:
        """Files not yet de-identified (those set aside as missing included)."""
        return self.files - self.done

    @property
    def key(self) -> tuple[str, str | None, str | None]:
        """The same key the item journal groups staged images by."""
        return self.pseudonym, self.study_uid, self.series_uid


@dataclass(frozen=True)
class JobSummary:
    """A job as anyone may see it: when it was asked for, how big, how far it got."""

    id: int
    created_at: datetime
    state: JobState
    site: str
    linking: str
    files: int
    bytes: int
    processed: int
    processed_bytes: int
    missing: tuple[int, ...]

    @property
    def to_do(self) -> int:
        """Files not yet de-identified: those after the processed ones, and the missing."""
        return self.files - self.processed + len(self.missing)

    @property
    def label(self) -> str:
        """``the job of 12 Nov 2026 14:03 (64 files)``: how a job is named to the user
        (never by a folder, which may carry a patient's name)."""
        when = self.created_at.astimezone().strftime("%d %b %Y %H:%M")
        noun = "file" if self.files == 1 else "files"
        return f"the job of {when} ({self.files} {noun})"


@dataclass(frozen=True)
class SeriesProgressUpdate:
    done: int
    missing: int
    outcomes: Mapping[str, int]
    reasons: Mapping[str, int]


def _scrubbed(reasons: Mapping[str, int]) -> dict[str, int]:
    """The de-identifier's reasons name no one; scrubbed all the same before they are kept."""
    kept: dict[str, int] = {}
    for reason, count in reasons.items():
        key = scrub(reason)[:300]
        kept[key] = kept.get(key, 0) + count
    return kept


class JobJournal:
    """The ``jobs`` and ``job_series`` tables of the outbox database (shared connection)."""

    def __init__(self, db: sqlite3.Connection, lock: threading.RLock, seal: JournalSeal) -> None:
        self._db = db
        self._lock = lock
        self.seal = seal

    def create(self, *, site: str, linking: str, plan: bytes, files: int, size: int,
               series: list[JobSeries]) -> int:
        """Journal a new job (its ``plan`` sealed) and its series, in one transaction."""
        sealed = self.seal.seal(plan, _PLAN_CONTEXT + site.encode())
        now = _now()
        with transaction(self._db, self._lock) as db:
            cursor = db.execute(
                "INSERT INTO jobs (created_at, updated_at, state, site, linking, files, bytes, "
                "plan) VALUES (?, ?, 'open', ?, ?, ?, ?, ?)",
                (now, now, site, linking, files, size, sealed))
            job_id = int(cursor.lastrowid or 0)
            db.executemany(
                "INSERT INTO job_series (job_id, number, pseudonym, study_uid, series_uid, "
                "modality, files, included_by_user) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(job_id, s.number, s.pseudonym, s.study_uid, s.series_uid, s.modality, s.files,
                  json.dumps(list(s.included_by_user)) if s.included_by_user else None)
                 for s in series])
        return job_id

    def plan(self, job_id: int) -> bytes:
        """The job's plan, opened (raises :class:`JournalError` if it cannot be)."""
        with self._lock:
            row = self._db.execute("SELECT plan, site FROM jobs WHERE id = ?",
                                   (job_id,)).fetchone()
        if row is None:
            raise JournalError("That job is not in the journal.")
        return self.seal.open(bytes(row[0]), _PLAN_CONTEXT + str(row[1]).encode())

    def record_progress(self, job_id: int, *, processed: int, processed_bytes: int,
                        missing: list[int], series: Mapping[int, SeriesProgressUpdate]) -> None:
        """After a chunk: how far the job got, and each touched series' counts."""
        with transaction(self._db, self._lock) as db:
            db.execute("UPDATE jobs SET processed = ?, processed_bytes = ?, missing = ?, "
                       "updated_at = ? WHERE id = ?",
                       (processed, processed_bytes, json.dumps(sorted(missing)), _now(), job_id))
            db.executemany(
                "UPDATE job_series SET done = ?, missing = ?, outcomes = ?, reasons = ? "
                "WHERE job_id = ? AND number = ?",
                [(u.done, u.missing, json.dumps(dict(u.outcomes), sort_keys=True),
                  json.dumps(_scrubbed(u.reasons), sort_keys=True), job_id, number)
                 for number, u in series.items()])

    def close_job(self, job_id: int, state: JobState) -> None:
        """``done`` when every file is processed; ``cancelled`` or ``dropped`` by the user.
        A closed job's sealed plan is erased: nothing will open those files again."""
        with transaction(self._db, self._lock) as db:
            db.execute("UPDATE jobs SET state = ?, plan = x'', updated_at = ? WHERE id = ?",
                       (state, _now(), job_id))

    def get(self, job_id: int) -> JobSummary:
        found = self._summaries("WHERE id = ?", (job_id,))
        if not found:
            raise JournalError("That job is not in the journal.")
        return found[0]

    def open_jobs(self) -> list[JobSummary]:
        """Jobs not yet finished, oldest first."""
        return self._summaries("WHERE state = 'open' ORDER BY id", ())

    def files_to_do(self) -> int:
        """Files of open jobs not yet de-identified (what a resume still has to read)."""
        return sum(job.to_do for job in self.open_jobs())

    def bytes_to_do(self) -> int:
        """Source bytes of open jobs not yet de-identified (an estimate for progress)."""
        return sum(max(0, job.bytes - job.processed_bytes) for job in self.open_jobs())

    def series(self, job_id: int) -> list[JobSeries]:
        with self._lock:
            rows = self._db.execute(
                "SELECT number, pseudonym, study_uid, series_uid, modality, files, done, "
                "missing, outcomes, reasons, included_by_user FROM job_series "
                "WHERE job_id = ? ORDER BY number", (job_id,)).fetchall()
        return [JobSeries(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], json.loads(r[8]),
                          json.loads(r[9]), tuple(json.loads(r[10])) if r[10] else ())
                for r in rows]

    def counts_by_state(self) -> dict[str, int]:
        """Jobs per state (for the diagnostics bundle: counts only)."""
        with self._lock:
            rows = self._db.execute("SELECT state, count(*) FROM jobs GROUP BY state").fetchall()
        return {state: int(count) for state, count in rows}

    def _summaries(self, where: str, args: tuple) -> list[JobSummary]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, created_at, state, site, linking, files, bytes, processed, "
                f"processed_bytes, missing FROM jobs {where}", args).fetchall()
        return [JobSummary(r[0], datetime.fromisoformat(r[1]), r[2], r[3], r[4], r[5], r[6],
                           r[7], r[8], tuple(json.loads(r[9]))) for r in rows]
