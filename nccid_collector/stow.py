"""DICOMweb STOW-RS: store each uploaded instance in the warehouse layout.

Every instance reaching this store has passed the service's checks (:mod:`.intake`: the
profile check the workstation's verifier also runs, at every depth), so nothing here judges
content.

A PatientID that is pseudonym-shaped but not yet known from a clinical record is accepted and
counted: images often arrive before the sheet; a withdrawn patient's is refused
(``withdrawn``). Storing an instance already held with the same content is reported as stored
and writes nothing; a re-sent instance whose de-identified content differs (a correction)
replaces the held file atomically and is audited. Each instance is recorded in the database
before its file is published, so a crash in between is completed by the next attempt, never
duplicated.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from nccid_collector import audit
from nccid_collector.accounts import Caller
from nccid_collector.db import images
from nccid_collector.db_locks import locked_transaction
from nccid_collector.objectstore import StorageError
from nccid_collector.settings import ServiceSettings
from nccid_collector.storage import WarehouseStore, is_uid
from nccid_collector.withdrawal import withdrawn_at, withdrawn_message

log = logging.getLogger(__name__)

#: PS3.4 / PS3.18 failure reasons used in FailedSOPSequence.
CANNOT_UNDERSTAND = 0xC000
PROCESSING_FAILURE = 0x0110


#: What a site is told when an image's SOP Instance UID is already held for another patient.
HELD_FOR_ANOTHER_PATIENT = ("A different patient's image is already held under this SOP "
                            "Instance UID: two images share one identifier. Ask PACS to "
                            "re-export them.")


class Refused(Exception):
    """An instance the service will not store; the UIDs are named when they could be read."""

    def __init__(self, message: str, reason: int = CANNOT_UNDERSTAND, sop_class_uid: str = "",
                 sop_instance_uid: str = "", code: str = "refused") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.reason = reason
        self.sop_class_uid = sop_class_uid
        self.sop_instance_uid = sop_instance_uid


@dataclass(frozen=True)
class InstanceFacts:
    sop_class_uid: str
    sop_instance_uid: str
    pseudonym: str
    study_uid: str
    series_uid: str
    modality: str


@dataclass(frozen=True)
class InstanceOutcome:
    sop_class_uid: str
    sop_instance_uid: str
    stored: bool
    message: str = ""
    reason: int = 0
    newly_stored: bool = False
    pseudonym: str = ""
    #: the rule a refusal names (docs/api.md), and the attribute it concerns
    code: str = ""
    keyword: str | None = None


class ImageStore:
    def __init__(self, db: Engine, store: WarehouseStore, settings: ServiceSettings) -> None:
        self.db = db
        self.store = store
        self.settings = settings

    def store_part(self, caller: Caller, spooled: Path, size: int,
                   facts: InstanceFacts) -> InstanceOutcome:
        """Store one spooled instance that passed the checks (:mod:`.intake`); the spool file
        is always consumed."""
        try:
            newly = self._store(caller, facts, spooled, size)
        except Refused as refused:
            return InstanceOutcome(facts.sop_class_uid, facts.sop_instance_uid, False,
                                   refused.message, refused.reason, code=refused.code)
        finally:
            spooled.unlink(missing_ok=True)
        return InstanceOutcome(facts.sop_class_uid, facts.sop_instance_uid, True,
                               newly_stored=newly, pseudonym=facts.pseudonym)

    @staticmethod
    def _existing(conn: Connection, uid: str):
        with conn.begin():
            return conn.execute(select(images).where(images.c.sop_instance_uid == uid)).first()

    def _store(self, caller: Caller, facts: InstanceFacts, spooled: Path, size: int) -> bool:
        """Record the instance, then publish it under its name's writer lock (every replica's).

        One connection does it all: the lock is a transaction on it, so a replica killed
        mid-upload releases it, and the row says ``complete`` only once the object is whole.
        """
        site = caller.site
        digest = file_hash(spooled)
        with self.db.connect() as conn:
            when = withdrawn_at(conn, site, facts.pseudonym)
            conn.rollback()
            if when is not None:
                raise Refused(withdrawn_message(when), sop_class_uid=facts.sop_class_uid,
                              sop_instance_uid=facts.sop_instance_uid, code="withdrawn")
            row = self._existing(conn, facts.sop_instance_uid)
            if row is None:
                row = self._record(conn, site, facts, size)
            if row.site != site:
                raise Refused("An instance with this SOP Instance UID is held for another site.",
                              code="held_for_another_site")
            if row.pseudonym != facts.pseudonym:  # never "already held": that image is lost
                raise Refused(HELD_FOR_ANOTHER_PATIENT, code="uid_held_for_another_patient")
            if row.complete:
                return self._replace_if_changed(conn, caller, row, facts, spooled, size, digest)
            try:
                with locked_transaction(conn, "warehouse-object", row.path):
                    # asked again under the object's lock, which a withdrawal's deletions
                    # take after its tombstone: no file is published after it has looked
                    when = withdrawn_at(conn, site, facts.pseudonym)
                    done = conn.execute(select(images.c.complete)
                                        .where(images.c.id == row.id)).scalar()
                    if when is None and done is False:
                        # an existing object is the same instance (sent before a crash)
                        self.store.publish_new(spooled, row.path, lock_held=True)
                        conn.execute(update(images).where(images.c.id == row.id)
                                     .values(complete=True, content_hash=digest))
            except StorageError as failed:
                log.warning("An instance could not be stored: %s", failed.message)
                raise Refused("The warehouse could not store the instance just now; send it "
                              "again.", PROCESSING_FAILURE, code="storage_unavailable") from None
            if when is not None:
                with conn.begin():
                    conn.execute(delete(images).where(images.c.id == row.id,
                                                      images.c.complete.is_(False)))
                raise Refused(withdrawn_message(when), sop_class_uid=facts.sop_class_uid,
                              sop_instance_uid=facts.sop_instance_uid, code="withdrawn")
            if done is None:  # the row was removed meanwhile (a study removal)
                raise Refused("The instance was removed while it was being stored; send it "
                              "again.", PROCESSING_FAILURE, code="processing_failure")
            if done:
                return False
        return True

    def _replace_if_changed(self, conn: Connection, caller: Caller, row, facts: InstanceFacts,
                            spooled: Path, size: int, digest: str) -> bool:
        """A held instance sent again: nothing if identical, else the file is swapped whole."""
        try:
            with locked_transaction(conn, "warehouse-object", row.path):
                held = conn.execute(select(images.c.content_hash)
                                    .where(images.c.id == row.id)).scalar()
                if held is None:  # stored before hashes were kept: hash the held file
                    held = hashlib.sha256(self.store.read_bytes(row.path)).hexdigest()
                if held == digest:
                    if row.content_hash is None:
                        conn.execute(update(images).where(images.c.id == row.id)
                                     .values(content_hash=digest))
                    return False
                self.store.objects.replace_file(row.path, spooled)
                conn.execute(update(images).where(images.c.id == row.id).values(
                    content_hash=digest, size=size, pseudonym=facts.pseudonym,
                    study_uid=facts.study_uid, series_uid=facts.series_uid,
                    modality=facts.modality, received_at=self.settings.now()))
                audit.record(conn, self.settings.now(), caller.username, caller.site,
                             "image_replace", "ok", 1)
        except StorageError as failed:
            log.warning("An instance could not be replaced: %s", failed.message)
            raise Refused("The warehouse could not store the instance just now; send it "
                          "again.", PROCESSING_FAILURE, code="storage_unavailable") from None
        return True

    def _record(self, conn: Connection, site: str, facts: InstanceFacts, size: int):
        today = self.settings.today()
        try:
            with conn.begin():
                return conn.execute(insert(images).values(
                    site=site, sop_instance_uid=facts.sop_instance_uid,
                    sop_class_uid=facts.sop_class_uid, pseudonym=facts.pseudonym,
                    study_uid=facts.study_uid, series_uid=facts.series_uid,
                    modality=facts.modality, size=size, upload_date=today,
                    path=self.store.image_path(site, today, facts.sop_instance_uid),
                    complete=False, received_at=self.settings.now(), content_hash=None,
                ).returning(*images.c)).one()
        except IntegrityError:  # recorded meanwhile by another request or replica
            row = self._existing(conn, facts.sop_instance_uid)
            if row is None:
                raise Refused("The instance could not be recorded; send it again.",
                              PROCESSING_FAILURE, code="processing_failure") from None
            return row

    def known_by_patient(self, site: str, uids: list[str], pseudonyms: list[str]
                         ) -> tuple[list[str], list[str]]:
        """Of these instances (each with the pseudonym it would be sent under): those held
        for the same patient (already sent), and those held for another patient (two
        different images share one identifier: the desktop holds its file back)."""
        wanted = {u: p for u, p in zip(uids, pseudonyms, strict=False) if is_uid(u)}
        held: dict[str, str] = {}
        with self.db.connect() as conn:
            names = list(wanted)
            for start in range(0, len(names), 500):
                chunk = names[start:start + 500]
                rows = conn.execute(select(images.c.sop_instance_uid, images.c.pseudonym)
                                    .where(images.c.site == site, images.c.complete.is_(True),
                                           images.c.sop_instance_uid.in_(chunk)))
                held.update((uid, pseudonym) for uid, pseudonym in rows)
        # An empty pseudonym means "whoever": held for anyone is held (as known() says).
        same = [u for u in wanted if u in held and wanted[u] in ("", held[u])]
        other = [u for u in wanted if u in held and wanted[u] not in ("", held[u])]
        return same, other

    def known(self, site: str, uids: list[str]) -> list[str]:
        wanted = [u for u in dict.fromkeys(uids) if is_uid(u)]
        held: set[str] = set()
        with self.db.connect() as conn:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                held.update(conn.execute(select(images.c.sop_instance_uid).where(
                    images.c.site == site, images.c.complete.is_(True),
                    images.c.sop_instance_uid.in_(chunk))).scalars())
        return [u for u in wanted if u in held]


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
