"""Clinical uploads: batches of pseudonymised records into the warehouse raw layout.

Every envelope reaching :meth:`ClinicalStore.upload_batch` has been checked by the route
(:mod:`.intake`: the template definitions' rules, the caller's site, identifier-shaped
values); those refused arrive as ready ``rejected`` results, answered in their place.

Idempotency: a batch is answered once and its results kept under its ``batch_id``; re-sending
it returns the same results and stores nothing, whichever replica it reaches (the batch is
worked under a lock every replica honours, :mod:`db_locks`). Within a batch, a record whose
content equals the newest stored version for that pseudonym and kind is ``unchanged``.

Corrections (decision): every version is kept in the database (``clinical_records``, the
history). A new version is written to today's folder. If today's folder already holds an
earlier version of that record (a same-day correction), the file is replaced atomically under
its writer lock and the replacement audited (``clinical_correction``), so the correction is
the current version as soon as it is acknowledged; older days' files are never touched.
Versions held back by earlier releases (``path`` NULL) are still written to the first free
day's folder by :func:`release_held` (run before every batch and at start-up), and any answer
whose version was held says so in its message.

A withdrawn patient's record is refused with ``withdrawn`` (:mod:`.withdrawal`), checked again
under the record's lock so a withdrawal running at the same moment cannot be undone.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, delete, exists, insert, select, update
from sqlalchemy.exc import IntegrityError

from nccid_collector import audit
from nccid_collector.accounts import Caller
from nccid_collector.db import clinical_batches, clinical_records
from nccid_collector.db_locks import held_lock, locked_transaction
from nccid_collector.settings import ServiceSettings
from nccid_collector.storage import WarehouseStore, record_bytes
from nccid_collector.withdrawal import withdrawn_at, withdrawn_message
from nccid_desktop.pseudonym import is_pseudonym
from nccid_desktop.records import ClinicalEnvelope
from nccid_desktop.sheets.meaning import template_for_kind
from nccid_desktop.sheets.record_check import EXTRA_KEYS

log = logging.getLogger(__name__)
HELD_MESSAGE = ("A different version of this record is in today's warehouse folder and "
                "could not be replaced. The correction is kept and will be written to the "
                "warehouse tomorrow.")


def expected_keys(kind: str) -> frozenset[str]:
    """The warehouse keys of a record of ``kind``: the template's fields plus two extras."""
    try:
        keys = template_for_kind(kind).record_keys
    except ValueError:
        keys = ()
    return frozenset(keys) | frozenset(EXTRA_KEYS)


@dataclass(frozen=True)
class RowResult:
    index: int
    pseudonym: str | None
    kind: str | None
    status: str
    message: str = ""
    #: for a rejected record: the rule it broke and the field concerned (docs/api.md)
    code: str | None = None
    field: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "pseudonym": self.pseudonym, "kind": self.kind,
                "status": self.status, "message": self.message, "code": self.code,
                "field": self.field}


def rejected(index: int, raw: Any, code: str, field: str | None, message: str) -> RowResult:
    """The answer for a refused envelope: its pseudonym and kind only when well formed."""
    pseudonym = raw.get("pseudonym") if isinstance(raw, dict) else None
    kind = raw.get("kind") if isinstance(raw, dict) else None
    return RowResult(index, pseudonym if _pseudonym_shaped(pseudonym) else None,
                     kind if kind in ("data", "status") else None, "rejected", message, code,
                     field)


def content_hash(record: dict[str, str]) -> str:
    canonical = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class ClinicalStore:
    def __init__(self, db: Engine, store: WarehouseStore, settings: ServiceSettings) -> None:
        self.db = db
        self.store = store
        self.settings = settings

    def upload_batch(self, caller: Caller, batch_id: str,
                     checked: list[ClinicalEnvelope | RowResult]) -> list[dict]:
        """Store a batch once; the same ``batch_id`` again is answered with the first answer.

        The envelopes passed the route's checks; a refused one arrives as its ready result.
        The batch is worked under a lock every replica honours, so a batch re-sent to another
        replica while the first is still working on it waits, then gets the first's answer.
        """
        with self.db.connect() as conn:
            previous = self._batch_results(conn, caller.site, batch_id)
            if previous is None:
                with held_lock(conn, "clinical-batch", caller.site, batch_id):
                    previous = self._batch_results(conn, caller.site, batch_id)
                    if previous is None:
                        return self._answer(conn, caller, batch_id, checked)
            with conn.begin():
                audit.record(conn, self.settings.now(), caller.username, caller.site,
                             "clinical_upload", "replayed", len(previous))
        return previous

    def _answer(self, conn: Connection, caller: Caller, batch_id: str,
                checked: list[ClinicalEnvelope | RowResult]) -> list[dict]:
        self._release_held(conn, caller.site)
        results = [(item if isinstance(item, RowResult) else
                    self._store_one(conn, caller, i, item)).to_json()
                   for i, item in enumerate(checked)]
        stored = sum(r["status"] == "stored" for r in results)
        rejected = sum(r["status"] == "rejected" for r in results)
        outcome = "ok" if not rejected else ("rejected" if rejected == len(results) else "partial")
        try:
            with conn.begin():
                conn.execute(insert(clinical_batches).values(
                    site=caller.site, batch_id=batch_id, results=json.dumps(results),
                    created_at=self.settings.now()))
                audit.record(conn, self.settings.now(), caller.username, caller.site,
                             "clinical_upload", outcome, stored)
        except IntegrityError:  # answered meanwhile by a process that ignored the lock
            return self._batch_results(conn, caller.site, batch_id) or results
        return results

    def previous_results(self, site: str, batch_id: str) -> list[dict] | None:
        """The answer already given to this batch, if any (a re-sent batch gets it again)."""
        with self.db.connect() as conn:
            return self._batch_results(conn, site, batch_id)

    @staticmethod
    def _batch_results(conn: Connection, site: str, batch_id: str) -> list[dict] | None:
        with conn.begin():
            text = conn.execute(select(clinical_batches.c.results).where(
                clinical_batches.c.site == site, clinical_batches.c.batch_id == batch_id)).scalar()
        return json.loads(text) if text else None

    def _store_one(self, conn: Connection, caller: Caller, index: int,
                   envelope: ClinicalEnvelope) -> RowResult:
        site = caller.site
        digest = content_hash(envelope.record)
        # "is this version new?" and recording it are one step for every replica
        with locked_transaction(conn, "clinical-record", site, envelope.pseudonym, envelope.kind):
            when = withdrawn_at(conn, site, envelope.pseudonym, envelope.nhs_index)
            if when is not None:
                return RowResult(index, envelope.pseudonym, envelope.kind, "rejected",
                                 withdrawn_message(when), "withdrawn", None)
            current = self._current(conn, site, envelope.pseudonym, envelope.kind)
            if current is not None and current.content_hash == digest:
                if envelope.nhs_index and not current.nhs_index:
                    conn.execute(update(clinical_records)
                                 .where(clinical_records.c.id == current.id)
                                 .values(nhs_index=envelope.nhs_index,
                                         linkage_token=envelope.linkage_token))
                row_id, is_new = current.id, False
            else:
                row_id = conn.execute(insert(clinical_records).values(
                    site=site, pseudonym=envelope.pseudonym, kind=envelope.kind,
                    content_hash=digest, content=json.dumps(envelope.record),
                    nhs_index=envelope.nhs_index, linkage_token=envelope.linkage_token,
                    received_at=self.settings.now(), upload_date=None, path=None,
                ).returning(clinical_records.c.id)).scalar_one()
                is_new = True
        try:
            if is_new:
                written = self._publish(conn, row_id, caller.username)
            else:
                written = current.path is not None or self._publish(conn, row_id,
                                                                    caller.username)
        except WithdrawnMeanwhile as withdrawn:
            return RowResult(index, envelope.pseudonym, envelope.kind, "rejected",
                             withdrawn_message(withdrawn.at), "withdrawn", None)
        return RowResult(index, envelope.pseudonym, envelope.kind,
                         "stored" if is_new else "unchanged", "" if written else HELD_MESSAGE)

    @staticmethod
    def _current(conn: Connection, site: str, pseudonym: str, kind: str):
        return conn.execute(
            select(clinical_records).where(
                clinical_records.c.site == site, clinical_records.c.pseudonym == pseudonym,
                clinical_records.c.kind == kind,
            ).order_by(clinical_records.c.id.desc()).limit(1)
        ).first()

    def _publish(self, conn: Connection, row_id: int, username: str = "(service)") -> bool:
        """Write one version to today's folder, replacing an earlier version of the same
        record there (a same-day correction); False only when today's file is not one of this
        record's versions (then the version waits for a later folder)."""
        with conn.begin():
            row = conn.execute(select(clinical_records)
                               .where(clinical_records.c.id == row_id)).first()
        if row is None:  # removed meanwhile: only a withdrawal removes a fresh version
            raise WithdrawnMeanwhile(self.settings.now())
        today = self.settings.today()
        relative = self.store.clinical_path(row.site, today, row.pseudonym, row.kind)
        record = json.loads(row.content)
        withdrawn_since: int | None = None
        with locked_transaction(conn, "warehouse-object", relative):  # one writer per name
            # a withdrawal deletes under this lock after its tombstone: asking here, under
            # the lock, means a file is never written after the withdrawal has looked
            when = withdrawn_at(conn, row.site, row.pseudonym, row.nhs_index)
            if when is not None:
                conn.execute(delete(clinical_records).where(clinical_records.c.id == row_id))
                withdrawn_since = when
            elif not self.store.write_json_new(relative, record, lock_held=True):
                existing = content_hash(json.loads(self.store.read_bytes(relative)))
                if existing != row.content_hash:
                    earlier = conn.execute(select(clinical_records.c.id).where(
                        clinical_records.c.path == relative,
                        clinical_records.c.content_hash == existing,
                        clinical_records.c.id < row_id)).scalars().all()
                    if not earlier:
                        return False
                    self.store.objects.replace_bytes(relative, record_bytes(record))
                    conn.execute(update(clinical_records)
                                 .where(clinical_records.c.id.in_(earlier)).values(path=None))
                    audit.record(conn, self.settings.now(), username, row.site,
                                 "clinical_correction", "ok", 1)
            if withdrawn_since is None:
                conn.execute(update(clinical_records).where(clinical_records.c.id == row_id)
                             .values(path=relative, upload_date=today))
        if withdrawn_since is not None:
            raise WithdrawnMeanwhile(withdrawn_since)
        return True

    def release_held(self, site: str | None = None) -> int:
        """Write the newest held version of each record whose folder is now free."""
        with self.db.connect() as conn:
            return self._release_held(conn, site)

    def _release_held(self, conn: Connection, site: str | None) -> int:
        newer = clinical_records.alias("newer")
        query = select(clinical_records.c.id).where(
            clinical_records.c.path.is_(None),
            ~exists().where(newer.c.site == clinical_records.c.site,
                            newer.c.pseudonym == clinical_records.c.pseudonym,
                            newer.c.kind == clinical_records.c.kind,
                            newer.c.id > clinical_records.c.id),
        )
        if site is not None:
            query = query.where(clinical_records.c.site == site)
        with conn.begin():
            held = [row.id for row in conn.execute(query)]
        released = 0
        for row_id in held:
            try:
                released += self._publish(conn, row_id)
            except WithdrawnMeanwhile:
                continue
        if released:
            log.info("released %d held clinical record version(s)", released)
        return released


class WithdrawnMeanwhile(Exception):
    """The patient was withdrawn while this version was being written: nothing is kept."""

    def __init__(self, at: int) -> None:
        super().__init__("withdrawn")
        self.at = at


def _pseudonym_shaped(value: Any) -> bool:
    return isinstance(value, str) and is_pseudonym(value)
