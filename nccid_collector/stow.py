"""DICOMweb STOW-RS: store each uploaded instance in the warehouse layout.

Every instance reaching this store has passed the service's checks (:mod:`.intake`: the
profile check the workstation's verifier also runs, at every depth), so nothing here judges
content.

A PatientID that is pseudonym-shaped but not yet known from a clinical record is accepted and
counted: images often arrive before the sheet. Storing an instance already held is reported
as stored and writes nothing. Each instance is recorded in the database before its file is
published, so a crash in between is completed by the next attempt, never duplicated.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from nccid_collector.accounts import Caller
from nccid_collector.db import images
from nccid_collector.settings import ServiceSettings
from nccid_collector.storage import WarehouseStore, fsync_file, is_uid

log = logging.getLogger(__name__)

#: PS3.4 / PS3.18 failure reasons used in FailedSOPSequence.
CANNOT_UNDERSTAND = 0xC000
PROCESSING_FAILURE = 0x0110


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
            newly = self._store(caller.site, facts, spooled, size)
        except Refused as refused:
            return InstanceOutcome(facts.sop_class_uid, facts.sop_instance_uid, False,
                                   refused.message, refused.reason, code=refused.code)
        finally:
            spooled.unlink(missing_ok=True)
        return InstanceOutcome(facts.sop_class_uid, facts.sop_instance_uid, True,
                               newly_stored=newly, pseudonym=facts.pseudonym)

    def _existing(self, uid: str):
        with self.db.connect() as conn:
            return conn.execute(select(images).where(images.c.sop_instance_uid == uid)).first()

    def _store(self, site: str, facts: InstanceFacts, spooled: Path, size: int) -> bool:
        row = self._existing(facts.sop_instance_uid)
        if row is None:
            today = self.settings.today()
            relative = self.store.image_path(site, today, facts.sop_instance_uid)
            try:
                with self.db.begin() as conn:
                    conn.execute(insert(images).values(
                        site=site, sop_instance_uid=facts.sop_instance_uid,
                        sop_class_uid=facts.sop_class_uid, pseudonym=facts.pseudonym,
                        study_uid=facts.study_uid, series_uid=facts.series_uid,
                        modality=facts.modality, size=size, upload_date=today, path=relative,
                        complete=False, received_at=self.settings.now()))
            except IntegrityError:
                row = self._existing(facts.sop_instance_uid)
                if row is None:
                    raise Refused("The instance could not be recorded; send it again.",
                                  PROCESSING_FAILURE, code="processing_failure") from None
            else:
                row = self._existing(facts.sop_instance_uid)
        if row.site != site:
            raise Refused("An instance with this SOP Instance UID is held for another site.",
                          code="held_for_another_site")
        if row.complete:
            return False
        fsync_file(spooled)
        self.store.publish_new(spooled, row.path)  # an existing file is the same instance
        with self.db.begin() as conn:
            conn.execute(update(images).where(images.c.id == row.id).values(complete=True))
        return True

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
