"""DICOMweb STOW-RS: check each uploaded instance and store it in the warehouse layout.

Why check again on the server: the workstation de-identifies and verifies every image, but a
mistake there would send identifiable pixels or headers to a national database. So the
service refuses (defence in depth) any instance that is not Part-10 DICOM, whose PatientID is
not pseudonym-shaped, that lacks PatientIdentityRemoved = YES, that carries a private tag
anywhere (nested sequences included) or that the shared burned-in-text rule quarantines.

A PatientID that is pseudonym-shaped but not yet known from a clinical record is accepted and
counted: images often arrive before the sheet. Storing an instance already held is reported
as stored and writes nothing. Each instance is recorded in the database before its file is
published, so a crash in between is completed by the next attempt, never duplicated.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pydicom
from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from nccid_collector.accounts import Caller
from nccid_collector.db import images
from nccid_collector.db_locks import locked_transaction
from nccid_collector.objectstore import StorageError
from nccid_collector.settings import ServiceSettings
from nccid_collector.storage import WarehouseStore, is_uid
from nccid_desktop.dicom.risk import burned_in_text_risk, header_view
from nccid_desktop.pseudonym import is_pseudonym

log = logging.getLogger(__name__)

#: PS3.4 / PS3.18 failure reasons used in FailedSOPSequence.
CANNOT_UNDERSTAND = 0xC000
PROCESSING_FAILURE = 0x0110


class Refused(Exception):
    """An instance the service will not store; the UIDs are named when they could be read."""

    def __init__(self, message: str, reason: int = CANNOT_UNDERSTAND, sop_class_uid: str = "",
                 sop_instance_uid: str = "") -> None:
        super().__init__(message)
        self.message = message
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


def _has_private_tag(dataset: Dataset) -> bool:
    """Private tags anywhere, without reading large (deferred) values such as pixels."""
    tags = dataset.keys()  # tags only: iterating the Dataset would load deferred values
    for tag in tags:
        if tag.is_private:
            return True
        raw = dataset.get_item(tag)
        vr = getattr(raw, "VR", None)
        if vr is None:
            try:
                vr = dictionary_VR(tag)
            except KeyError:
                vr = None
        if vr == "SQ":
            items = dataset[tag].value or []
            if any(_has_private_tag(item) for item in items):
                return True
    return False


def _text(dataset: Dataset, keyword: str) -> str:
    value = dataset.get(keyword)
    return str(value).strip() if value is not None else ""


def inspect_instance(path: Path) -> InstanceFacts:
    """The facts the index needs, or :class:`Refused` with a plain reason."""
    try:
        dataset = pydicom.dcmread(path, defer_size=4096)
    except (InvalidDicomError, EOFError, ValueError, TypeError, OSError, KeyError, IndexError):
        raise Refused("This part is not a DICOM file.") from None
    sop_uid = _text(dataset, "SOPInstanceUID")
    sop_class = _text(dataset, "SOPClassUID")
    if not is_uid(sop_uid) or not is_uid(sop_class):
        raise Refused("The instance has no valid SOP Instance UID or SOP Class UID.")
    try:
        return _check_deidentified(dataset, sop_class, sop_uid)
    except Refused as refused:
        refused.sop_class_uid, refused.sop_instance_uid = sop_class, sop_uid
        raise


def _check_deidentified(dataset: Dataset, sop_class: str, sop_uid: str) -> InstanceFacts:
    meta_uid = str(dataset.file_meta.get("MediaStorageSOPInstanceUID", sop_uid)).strip()
    if meta_uid != sop_uid:
        raise Refused("The file's header and dataset disagree about the SOP Instance UID.")
    if not is_pseudonym(_text(dataset, "PatientID")):
        raise Refused("The PatientID is not a pseudonym of your site; the image may not be "
                      "de-identified.")
    if _text(dataset, "PatientIdentityRemoved").upper() != "YES":
        raise Refused("The image is not marked as de-identified (PatientIdentityRemoved).")
    if _has_private_tag(dataset):
        raise Refused("The image still has private tags, which may hold patient details.")
    risk = burned_in_text_risk(header_view(dataset))
    if risk is not None:
        raise Refused(f"{risk.message} It is not collected.")
    study, series = _text(dataset, "StudyInstanceUID"), _text(dataset, "SeriesInstanceUID")
    if not is_uid(study) or not is_uid(series):
        raise Refused("The instance has no valid Study or Series Instance UID.")
    return InstanceFacts(sop_class, sop_uid, _text(dataset, "PatientID"), study, series,
                         _text(dataset, "Modality")[:16])


class ImageStore:
    def __init__(self, db: Engine, store: WarehouseStore, settings: ServiceSettings) -> None:
        self.db = db
        self.store = store
        self.settings = settings

    def store_part(self, caller: Caller, spooled: Path, size: int) -> InstanceOutcome:
        """Check and store one spooled instance; the spool file is always consumed."""
        try:
            facts = inspect_instance(spooled)
        except Refused as refused:
            spooled.unlink(missing_ok=True)
            return InstanceOutcome(refused.sop_class_uid, refused.sop_instance_uid, False,
                                   refused.message, refused.reason)
        try:
            newly = self._store(caller.site, facts, spooled, size)
        except Refused as refused:
            return InstanceOutcome(facts.sop_class_uid, facts.sop_instance_uid, False,
                                   refused.message, refused.reason)
        finally:
            spooled.unlink(missing_ok=True)
        return InstanceOutcome(facts.sop_class_uid, facts.sop_instance_uid, True,
                               newly_stored=newly, pseudonym=facts.pseudonym)

    @staticmethod
    def _existing(conn: Connection, uid: str):
        with conn.begin():
            return conn.execute(select(images).where(images.c.sop_instance_uid == uid)).first()

    def _store(self, site: str, facts: InstanceFacts, spooled: Path, size: int) -> bool:
        """Record the instance, then publish it under its name's writer lock (every replica's).

        One connection does it all: the lock is a transaction on it, so a replica killed
        mid-upload releases it, and the row says ``complete`` only once the object is whole.
        """
        with self.db.connect() as conn:
            row = self._existing(conn, facts.sop_instance_uid)
            if row is None:
                row = self._record(conn, site, facts, size)
            if row.site != site:
                raise Refused("An instance with this SOP Instance UID is held for another site.")
            if row.complete:
                return False
            try:
                with locked_transaction(conn, "warehouse-object", row.path):
                    done = conn.execute(select(images.c.complete)
                                        .where(images.c.id == row.id)).scalar()
                    if done:
                        return False
                    # an existing object is the same instance (sent before a crash)
                    self.store.publish_new(spooled, row.path, lock_held=True)
                    conn.execute(update(images).where(images.c.id == row.id)
                                 .values(complete=True))
            except StorageError as failed:
                log.warning("An instance could not be stored: %s", failed.message)
                raise Refused("The warehouse could not store the instance just now; send it "
                              "again.", PROCESSING_FAILURE) from None
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
                    complete=False, received_at=self.settings.now(),
                ).returning(*images.c)).one()
        except IntegrityError:  # recorded meanwhile by another request or replica
            row = self._existing(conn, facts.sop_instance_uid)
            if row is None:
                raise Refused("The instance could not be recorded; send it again.",
                              PROCESSING_FAILURE) from None
            return row

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
