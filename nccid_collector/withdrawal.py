"""Withdrawing a patient: everything held for them goes, a tombstone stays, later uploads stop.

Why these steps, in this order: a patient who opts out after sending, asks to be removed, or
was linked by mistake must vanish from the warehouse the NCCID loader reads, and must not come
back with the next twice-weekly batch. So the tombstone (pseudonym and/or NHS/CHI index, date,
reason, who) is written first: from then on every upload for that patient is refused with
``withdrawn``. Then every version of their clinical records and every image is deleted, from
every date folder and from the database, and the answers kept for replayed batches forget
their pseudonym. The removal is run twice: an upload that passed its check just before the
tombstone was written is caught by the second pass.

The workstation computes the pseudonym (and the NHS/CHI index) itself; no identifier is sent.
A site linking on hospital numbers cannot compute the pseudonym from an NHS/CHI number alone,
so the index finds the pseudonyms its records carry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    distinct,
    func,
    insert,
    or_,
    select,
    update,
)

from nccid_collector import audit
from nccid_collector.db import clinical_batches, clinical_records, images, withdrawals
from nccid_collector.settings import ServiceSettings
from nccid_collector.storage import WarehouseStore
from nccid_collector.warehouse_removal import delete_object, remove_image_rows, remove_record_rows
from nccid_desktop.uk_dates import uk_prose

REASONS = ("opt-out", "patient-request", "wrong-patient")
WITHDRAWN = "withdrawn"


def day_of(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d")


def withdrawn_message(epoch: int) -> str:
    """What a refused upload says (the desktop shows it as it is)."""
    day = datetime.fromtimestamp(epoch, UTC)
    return (f"This patient was withdrawn on {uk_prose(day)}; nothing more is accepted for "
            "them. It was not stored.")


class Tombstones:
    """The site's withdrawals, read once per batch: pseudonym or index -> when withdrawn."""

    def __init__(self, conn: Engine | Connection, site: str) -> None:
        query = select(withdrawals.c.pseudonym, withdrawals.c.nhs_index,
                       withdrawals.c.withdrawn_at).where(withdrawals.c.site == site)
        if isinstance(conn, Engine):
            with conn.connect() as opened:
                rows = opened.execute(query).all()
        else:
            rows = conn.execute(query).all()
        self.by_pseudonym = {r.pseudonym: r.withdrawn_at for r in rows if r.pseudonym}
        self.by_index = {r.nhs_index: r.withdrawn_at for r in rows if r.nhs_index}

    def when(self, pseudonym: str | None = None, nhs_index: str | None = None) -> int | None:
        return self.by_pseudonym.get(pseudonym or "") or self.by_index.get(nhs_index or "")


def withdrawn_at(conn: Engine | Connection, site: str, pseudonym: str | None = None,
                 nhs_index: str | None = None) -> int | None:
    """When this patient was withdrawn, if they were (one small query, for a single upload)."""
    keys = [withdrawals.c.pseudonym == pseudonym] if pseudonym else []
    keys += [withdrawals.c.nhs_index == nhs_index] if nhs_index else []
    if not keys:
        return None
    query = select(func.min(withdrawals.c.withdrawn_at)).where(withdrawals.c.site == site,
                                                                or_(*keys))
    if isinstance(conn, Engine):
        with conn.connect() as opened:
            return opened.execute(query).scalar()
    return conn.execute(query).scalar()


@dataclass(frozen=True)
class Holding:
    """What the service holds for one patient (the app shows it before the user confirms)."""

    pseudonyms: int
    records: int
    studies: int
    images: int
    withdrawn_on: str | None

    def to_json(self) -> dict[str, object]:
        return {"pseudonyms": self.pseudonyms, "records": self.records, "studies": self.studies,
                "images": self.images, "withdrawn_on": self.withdrawn_on}


def _pseudonyms(conn: Connection, site: str, pseudonym: str | None,
                nhs_index: str | None) -> set[str]:
    found = {pseudonym} if pseudonym else set()
    if nhs_index:
        found.update(conn.execute(select(clinical_records.c.pseudonym).distinct().where(
            clinical_records.c.site == site, clinical_records.c.nhs_index == nhs_index)).scalars())
    return found


def holding(db: Engine, site: str, pseudonym: str | None, nhs_index: str | None) -> Holding:
    with db.connect() as conn:
        found = _pseudonyms(conn, site, pseudonym, nhs_index)
        records = conn.execute(select(func.count(distinct(
            clinical_records.c.pseudonym + clinical_records.c.kind))).where(
            clinical_records.c.site == site, clinical_records.c.pseudonym.in_(found))).scalar()
        studies, count = conn.execute(
            select(func.count(distinct(images.c.study_uid)), func.count(images.c.id)).where(
                images.c.site == site, images.c.pseudonym.in_(found))).one()
        when = withdrawn_at(conn, site, pseudonym, nhs_index)
    return Holding(len(found), int(records or 0), int(studies), int(count),
                   day_of(when) if when else None)


@dataclass(frozen=True)
class Withdrawal:
    pseudonyms: int
    records: int
    images: int
    files: int
    withdrawn_on: str

    def to_json(self) -> dict[str, object]:
        return {"pseudonyms": self.pseudonyms, "records": self.records, "images": self.images,
                "files": self.files, "withdrawn_on": self.withdrawn_on}


def withdraw(db: Engine, store: WarehouseStore, settings: ServiceSettings, *, site: str,
             username: str, reason: str, pseudonym: str | None,
             nhs_index: str | None) -> Withdrawal:
    """Tombstone first, then remove every trace (twice); audited with the counts only."""
    if reason not in REASONS:
        raise ValueError("not a withdrawal reason")
    now = settings.now()
    with db.begin() as conn:
        found = _pseudonyms(conn, site, pseudonym, nhs_index)
        rows = [{"site": site, "pseudonym": p, "nhs_index": nhs_index, "reason": reason,
                 "username": username[:64], "withdrawn_at": now} for p in sorted(found)]
        if not rows:
            rows = [{"site": site, "pseudonym": None, "nhs_index": nhs_index, "reason": reason,
                     "username": username[:64], "withdrawn_at": now}]
        conn.execute(insert(withdrawals), rows)
    records = images_removed = files = 0
    for _ in range(2):
        counts = _remove_everything(db, store, site, found, nhs_index, settings.today())
        records += counts[0]
        images_removed += counts[1]
        files += counts[2]
    audit.record(db, now, username, site, "withdrawal", "ok", files, reason=reason)
    return Withdrawal(len(found), records, images_removed, files, day_of(now))


def _remove_everything(db: Engine, store: WarehouseStore, site: str, found: set[str],
                       nhs_index: str | None, today: str) -> tuple[int, int, int]:
    with db.connect() as conn:
        found = found | _pseudonyms(conn, site, None, nhs_index)
        keys: list[ColumnElement[bool]] = [clinical_records.c.pseudonym.in_(found)]
        if nhs_index:
            keys.append(clinical_records.c.nhs_index == nhs_index)
        record_ids = conn.execute(select(clinical_records.c.id).where(
            clinical_records.c.site == site, or_(*keys))).scalars().all()
        image_ids = conn.execute(select(images.c.id).where(
            images.c.site == site, images.c.pseudonym.in_(found))).scalars().all()
        days = set(conn.execute(select(clinical_records.c.upload_date).distinct().where(
            clinical_records.c.site == site)).scalars())
        days |= set(conn.execute(select(images.c.upload_date).distinct().where(
            images.c.site == site)).scalars())
    files = remove_record_rows(db, store, record_ids)
    # today's folder too: a version being written right now has no committed date yet
    files += _remove_stray_records(db, store, site, {d for d in days if d} | {today}, found)
    files += remove_image_rows(db, store, image_ids)
    _forget_in_batches(db, site, found)
    return len(record_ids), len(image_ids), files


def _remove_stray_records(db: Engine, store: WarehouseStore, site: str, days: set[str],
                          found: set[str]) -> int:
    """Record files in any date folder the database no longer names (older versions)."""
    names = {f"{p}_{kind}.json" for p in found for kind in ("data", "status")}
    removed = 0
    for day in sorted(days):
        prefix = f"{store.site_prefix(site)}{day}/data/"
        for stored in list(store.list(prefix)):
            if stored.key.rsplit("/", 1)[-1] in names:
                removed += delete_object(db, store, stored.key)
    return removed


def _forget_in_batches(db: Engine, site: str, found: set[str]) -> None:
    """The answers kept for replayed batches lose the withdrawn pseudonyms."""
    if not found:
        return
    with db.begin() as conn:
        for batch in conn.execute(select(clinical_batches).where(
                clinical_batches.c.site == site)).all():
            results = json.loads(batch.results)
            changed = False
            for result in results:
                if result.get("pseudonym") in found:
                    result.update(pseudonym=None, status=WITHDRAWN, message="")
                    changed = True
            if changed:
                conn.execute(update(clinical_batches).where(
                    clinical_batches.c.site == site,
                    clinical_batches.c.batch_id == batch.batch_id,
                ).values(results=json.dumps(results)))
