"""The durable outbox: a SQLite journal of everything queued for upload, and its staging files.

Why a journal: hospital workstations get switched off, networks drop, sessions expire. Every
record and image is first written to a staging folder (atomically) and journalled as
``staged``; a batch is marked ``sent`` (with its batch id) before it goes, and ``acknowledged``
or ``failed`` (with the service's reason) when the answer arrives. After any crash, even a
``SIGKILL`` in the middle of a write, the journal says exactly what is left to do, and re-sending
a ``sent`` batch is harmless because the service is idempotent (same batch id, same SOP UID).

The journal holds pseudonyms, SOP Instance UIDs, staging paths, batch ids and reasons only, and
for images the de-identified study and series UIDs and the modality (:mod:`staged_series`, so a
resumed queue can be shown series by series), and the send job and series each image came
from (:mod:`job_journal`, which shares this database); the staging files hold what the service
will receive (already pseudonymised or de-identified). The tables are created and migrated by
:mod:`journal_schema`.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from nccid_desktop.errors import DicomError
from nccid_desktop.logsafe import scrub
from nccid_desktop.paths import user_data_dir
from nccid_desktop.records import ClinicalEnvelope
from nccid_desktop.transport.job_journal import JobJournal
from nccid_desktop.transport.journal_schema import JOURNAL_FILE, open_journal, transaction
from nccid_desktop.transport.journal_seal import JournalSeal
from nccid_desktop.transport.staged_series import (
    UNKNOWN_SERIES,
    SeriesCount,
    StagedSeries,
    read_staged_series,
    series_counts,
)
from nccid_desktop.transport.staging_files import place_file, write_atomically

#: The journal's folder under the per-user data folder: one queue for the CLI and the GUI.
OUTBOX_FOLDER = "outbox"

ItemKind = Literal["record", "image"]
State = Literal["staged", "sent", "acknowledged", "failed"]
PENDING: tuple[State, ...] = ("staged", "sent")


@dataclass(frozen=True)
class OutboxItem:
    id: int
    kind: ItemKind
    item_key: str
    pseudonym: str
    staging_path: Path
    size: int
    state: State
    reason: str | None
    batch_id: str | None


@dataclass(frozen=True)
class Batch:
    batch_id: str
    kind: ItemKind
    items: list[OutboxItem]

    @property
    def size(self) -> int:
        return sum(item.size for item in self.items)


#: ``conflict``: a different image with the same SOP Instance UID was already staged or sent
#: from this outbox; the new one is not staged (two images never go under one identifier).
StageOutcome = Literal["staged", "already-queued", "already-sent", "replaced", "conflict"]


@dataclass(frozen=True)
class JobLink:
    """The send job and the series (its number in the job) a staged image came from."""

    job_id: int
    series: int


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Outbox:
    """The journal at ``folder/outbox.sqlite3`` with staged files under ``folder/staging``.

    ``jobs`` is the job journal in the same database; ``key_file`` is where its sealing key
    lives (by default the user's, outside this folder).
    """

    def __init__(self, folder: Path | None = None, *, key_file: Path | None = None) -> None:
        self.folder = Path(folder) if folder else user_data_dir() / OUTBOX_FOLDER
        self.staging = self.folder / "staging"
        for sub in ("records", "images"):
            (self.staging / sub).mkdir(parents=True, exist_ok=True)
        self.journal_path = self.folder / JOURNAL_FILE
        self._lock = threading.RLock()
        self._db = open_journal(self.folder)
        self.jobs = JobJournal(self._db, self._lock, JournalSeal(key_file))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def stage_record(self, envelope: ClinicalEnvelope) -> StageOutcome:
        """Queue one clinical record; re-staging the same content is a no-op."""
        data = json.dumps(envelope.to_json(), sort_keys=True).encode("utf-8")
        key = f"{envelope.pseudonym}_{envelope.kind}"
        return self._stage("record", key, envelope.pseudonym, data=data)

    def stage_image(self, sop_instance_uid: str, pseudonym: str, source: Path,
                    *, move: bool = False, expected_size: int | None = None,
                    series: StagedSeries | None = None, job: JobLink | None = None,
                    content_key: str = "") -> StageOutcome:
        """Queue one de-identified instance (copied, or moved when it is already ours).

        ``expected_size`` is what the de-identifier wrote and verified: a file of another size
        (cut short by a power cut after its rename, say) is refused, never sent. ``series``
        is the instance's de-identified study, series and modality when the caller has them;
        otherwise they are read from the staged file's header. ``job`` links the image to the
        send job (and series) it came from. ``content_key`` (a hash of the file's bytes) tells
        the same image staged again (nothing to do) from a different image under the same
        identifier (``conflict``: not staged); without it only the identifier is compared.
        """
        source = Path(source)
        if expected_size is not None and source.stat().st_size != expected_size:
            raise DicomError("A de-identified copy is incomplete (the computer may have stopped "
                             "while writing it). De-identify that folder again.")
        return self._stage("image", sop_instance_uid, pseudonym, source=source, move=move,
                           series=series, job=job, content_key=content_key)

    def _stage(self, kind: ItemKind, key: str, pseudonym: str, *, data: bytes | None = None,
               source: Path | None = None, move: bool = False,
               series: StagedSeries | None = None, job: JobLink | None = None,
               content_key: str = "") -> StageOutcome:
        content_hash = (hashlib.sha256(data).hexdigest() if data is not None
                        else content_key or key)
        with self._lock:
            previous = self._db.execute(
                "SELECT id, state, content_hash, staging_path FROM items WHERE kind = ? "
                "AND item_key = ? ORDER BY id DESC LIMIT 1", (kind, key)).fetchone()
        if previous and previous[1] != "failed":
            # An image staged without its content's hash (older journals) compares by
            # identifier only, as it always did.
            same = previous[2] == content_hash or (
                kind == "image" and key in (previous[2], content_hash))
            if (same or kind == "image") and move and source is not None:
                source.unlink(missing_ok=True)
            if not same and kind == "image":
                return "conflict"
            if same:
                return "already-queued" if previous[1] in PENDING else "already-sent"
        folder = self.staging / ("records" if kind == "record" else "images")
        target = folder / f"{uuid.uuid4().hex}{'.json' if kind == 'record' else '.dcm'}"
        if data is not None:
            write_atomically(target, data)
        else:
            assert source is not None
            place_file(source, target, move)
        if kind == "image" and series is None:
            series = read_staged_series(target)
        series = (StagedSeries.checked(series.study_uid or "", series.series_uid or "",
                                       series.modality or "") if series else UNKNOWN_SERIES)
        replaced_path: str | None = None
        with transaction(self._db, self._lock) as db:
            pending = db.execute(
                "SELECT id, staging_path, state FROM items WHERE kind = ? AND item_key = ? "
                "AND state IN ('staged', 'sent')", (kind, key)).fetchone()
            if pending:
                db.execute("UPDATE items SET state = 'failed', reason = ?, updated_at = ? "
                           "WHERE id = ?", ("Replaced by a newer version before it was sent.",
                                            _now(), pending[0]))
                replaced_path = pending[1] if pending[2] == "staged" else None
            db.execute(
                "INSERT INTO items (kind, item_key, pseudonym, staging_path, size, content_hash, "
                "state, updated_at, study_uid, series_uid, modality, job_id, job_series) "
                "VALUES (?, ?, ?, ?, ?, ?, 'staged', ?, ?, ?, ?, ?, ?)",
                (kind, key, pseudonym, str(target), target.stat().st_size, content_hash, _now(),
                 series.study_uid, series.series_uid, series.modality,
                 job.job_id if job else None, job.series if job else None))
        if replaced_path:
            Path(replaced_path).unlink(missing_ok=True)
        return "replaced" if pending else "staged"

    def next_batch(self, kind: ItemKind, max_count: int, max_bytes: int | None = None) -> Batch | None:
        """The batch to send next: an unfinished ``sent`` batch first, else new staged items."""
        with transaction(self._db, self._lock) as db:
            row = db.execute("SELECT batch_id FROM items WHERE kind = ? AND state = 'sent' "
                             "ORDER BY id LIMIT 1", (kind,)).fetchone()
            if row:
                return Batch(row[0], kind, self._items("WHERE batch_id = ? AND state = 'sent' "
                                                       "ORDER BY id", (row[0],)))
            chosen: list[OutboxItem] = []
            size = 0
            for item in self._items("WHERE kind = ? AND state = 'staged' ORDER BY id LIMIT ?",
                                    (kind, max_count)):
                if chosen and max_bytes is not None and size + item.size > max_bytes:
                    break
                chosen.append(item)
                size += item.size
            if not chosen:
                return None
            batch_id = str(uuid.uuid4())
            db.executemany("UPDATE items SET state = 'sent', batch_id = ?, updated_at = ? "
                           "WHERE id = ?", [(batch_id, _now(), item.id) for item in chosen])
        return Batch(batch_id, kind, [self.get(item.id) for item in chosen])

    def acknowledge(self, ids: list[int]) -> None:
        """Mark items delivered, then delete their staging files (a crash in between is
        tidied by :meth:`recover`)."""
        self._finish(ids, "acknowledged", None)

    def fail(self, item_id: int, reason: str) -> None:
        """The service refused the item; keep the reason (scrubbed), drop the staging file."""
        self._finish([item_id], "failed", scrub(reason)[:500])

    def requeue(self, ids: list[int]) -> None:
        """The service could not take these items just now (not a refusal): back to
        ``staged``, staging files kept, so the next run (or ``nccid resume``) sends them."""
        if not ids:
            return
        with transaction(self._db, self._lock) as db:
            db.executemany("UPDATE items SET state = 'staged', batch_id = NULL, updated_at = ? "
                           "WHERE id = ?", [(_now(), item_id) for item_id in ids])

    def _finish(self, ids: list[int], state: State, reason: str | None) -> None:
        if not ids:
            return
        with transaction(self._db, self._lock) as db:
            db.executemany("UPDATE items SET state = ?, reason = ?, updated_at = ? WHERE id = ?",
                           [(state, reason, _now(), item_id) for item_id in ids])
        for item_id in ids:
            self.get(item_id).staging_path.unlink(missing_ok=True)

    def recover(self) -> int:
        """After a crash: delete staging files of finished items and orphans; return pending."""
        with self._lock:
            keep = {row[0] for row in self._db.execute(
                "SELECT staging_path FROM items WHERE state IN ('staged', 'sent')")}
        for path in self.staging.glob("*/*"):
            if str(path) not in keep:
                path.unlink(missing_ok=True)
        return self.count_pending()

    def get(self, item_id: int) -> OutboxItem:
        return self._items("WHERE id = ?", (item_id,))[0]

    def items(self, kind: ItemKind | None = None) -> list[OutboxItem]:
        if kind is None:
            return self._items("ORDER BY id", ())
        return self._items("WHERE kind = ? ORDER BY id", (kind,))

    def count_pending(self, kind: ItemKind | None = None) -> int:
        query = "SELECT count(*) FROM items WHERE state IN ('staged', 'sent')"
        args: tuple[str, ...] = ()
        if kind:
            query, args = query + " AND kind = ?", (kind,)
        with self._lock:
            return int(self._db.execute(query, args).fetchone()[0])

    def pending_bytes(self, kind: ItemKind | None = None) -> int:
        query = "SELECT coalesce(sum(size), 0) FROM items WHERE state IN ('staged', 'sent')"
        args: tuple[str, ...] = ()
        if kind:
            query, args = query + " AND kind = ?", (kind,)
        with self._lock:
            return int(self._db.execute(query, args).fetchone()[0])

    def image_series(self, *, pending_only: bool = True) -> list[SeriesCount]:
        """Images per pseudonym -> study -> series, with how many are pending, sent and
        refused; ``pending_only`` keeps the series that still have something to send."""
        with self._lock:
            return series_counts(self._db, pending_only=pending_only)

    def job_images(self, job_id: int) -> tuple[dict[str, int], dict[int, Counter[str]]]:
        """A job's staged images: the series (its number in the job) of each SOP Instance
        UID, and per series how many are in each state (each image once, latest state)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT item_key, job_series, state FROM items WHERE kind = 'image' AND "
                "job_id = ? AND id IN (SELECT max(id) FROM items WHERE kind = 'image' "
                "GROUP BY item_key)", (job_id,)).fetchall()
        series_of: dict[str, int] = {}
        states: dict[int, Counter[str]] = {}
        for key, number, state in rows:
            series_of[key] = number
            states.setdefault(number, Counter())[state] += 1
        return series_of, states

    def pending_images(self) -> list[OutboxItem]:
        return self._items("WHERE kind = 'image' AND state = 'staged' ORDER BY id", ())

    def _items(self, where: str, args: tuple) -> list[OutboxItem]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, kind, item_key, pseudonym, staging_path, size, state, reason, batch_id "
                f"FROM items {where}", args).fetchall()
        return [OutboxItem(r[0], r[1], r[2], r[3], Path(r[4]), r[5], r[6], r[7], r[8]) for r in rows]

