"""Retention: raw data is kept only as long as the deployment says, then purged (audited).

Why by upload date: the warehouse folders are named by the day the service received their
contents (``raw-<site>/<YYYY-MM-DD>/``), which is what the data controller's retention
schedule counts from, and what the NCCID loader has had ample time to ingest. A purge removes
whole days older than the period from the warehouse and the database (record versions,
images, the answers kept for replayed batches); tombstones of withdrawn patients are kept, so
a withdrawn patient stays withdrawn. The retention in force is a service setting
(``nccid-collector set-retention``), shown in the site summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, insert, or_, select

from nccid_collector import audit
from nccid_collector.db import clinical_batches, clinical_records, images, service_config
from nccid_collector.settings import ServiceSettings
from nccid_collector.storage import WarehouseStore
from nccid_collector.warehouse_removal import remove_image_rows, remove_record_rows
from nccid_desktop.errors import ConfigError

RETENTION_KEY = "retention_days"
MAX_DAYS = 365 * 100


def check_days(days: int) -> int:
    if not 1 <= days <= MAX_DAYS:
        raise ConfigError("The retention period must be a whole number of days from 1 up.")
    return days


def retention_days(db: Engine) -> int | None:
    """The retention period in force, in days (None: not set, nothing is purged)."""
    with db.connect() as conn:
        value = conn.execute(select(service_config.c.value).where(
            service_config.c.key == RETENTION_KEY)).scalar()
    return int(value) if value else None


def set_retention_days(db: Engine, settings: ServiceSettings, days: int | None,
                       username: str) -> None:
    with db.begin() as conn:
        conn.execute(delete(service_config).where(service_config.c.key == RETENTION_KEY))
        if days is not None:
            conn.execute(insert(service_config).values(key=RETENTION_KEY,
                                                       value=str(check_days(days))))
        audit.record(conn, settings.now(), username, None, "retention_set", "ok", days or 0)


@dataclass(frozen=True)
class PurgeReport:
    cutoff: str
    retention_days: int
    records: int
    images: int
    files: int
    dry_run: bool


def purge(db: Engine, store: WarehouseStore, settings: ServiceSettings, *, older_than: int,
          dry_run: bool, username: str) -> PurgeReport:
    """Remove everything uploaded before ``today - older_than`` days (or only count it)."""
    check_days(older_than)
    today = datetime.fromtimestamp(settings.clock(), UTC).date()
    cutoff = (today - timedelta(days=older_than)).isoformat()
    cutoff_epoch = int(datetime.fromisoformat(cutoff).replace(tzinfo=UTC).timestamp())
    old_records = or_(clinical_records.c.upload_date < cutoff,
                      (clinical_records.c.upload_date.is_(None))
                      & (clinical_records.c.received_at < cutoff_epoch))
    with db.connect() as conn:
        record_ids = conn.execute(select(clinical_records.c.id).where(old_records)).scalars().all()
        image_ids = conn.execute(select(images.c.id).where(
            images.c.upload_date < cutoff)).scalars().all()
        files = len({p for p in conn.execute(select(clinical_records.c.path).where(
            old_records)).scalars() if p}) + len(image_ids)
    if not dry_run:
        files = remove_record_rows(db, store, record_ids) + remove_image_rows(db, store, image_ids)
        with db.begin() as conn:
            conn.execute(delete(clinical_batches).where(clinical_batches.c.created_at < cutoff_epoch))
    audit.record(db, settings.now(), username, None, "purge", "dry_run" if dry_run else "ok",
                 files, reason=f"older_than:{older_than}d")
    return PurgeReport(cutoff, older_than, len(record_ids), len(image_ids), files, dry_run)

