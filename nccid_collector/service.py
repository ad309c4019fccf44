"""One collection service instance: settings, database, master key, warehouse and stores.

Why a plain object: the web app, the CLI's administration commands and the tests all need the
same wiring, and none of them should know how it is put together.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from nccid_collector.clinical import ClinicalStore
from nccid_collector.db import open_database
from nccid_collector.db_locks import object_writer_lock
from nccid_collector.objectstore import open_object_store
from nccid_collector.secrets_at_rest import MasterKey
from nccid_collector.settings import ServiceSettings
from nccid_collector.site_secrets import prepare_master_key
from nccid_collector.storage import SPOOL_DIR, WarehouseStore
from nccid_collector.stow import ImageStore
from nccid_desktop.errors import ConfigError


@dataclass
class CollectorService:
    settings: ServiceSettings
    db: Engine
    master_key: MasterKey
    store: WarehouseStore
    clinical: ClinicalStore
    images: ImageStore

    def close(self) -> None:
        self.db.dispose()
        self.store.objects.close()


def open_service(settings: ServiceSettings) -> CollectorService:
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"The data folder {settings.data_dir} cannot be created.") from exc
    db = open_database(settings.database_url)
    try:
        master_key = prepare_master_key(db, settings.master_key_path)
    except BaseException:
        db.dispose()
        raise
    try:
        store = open_warehouse(settings, object_writer_lock(db))
    except BaseException:
        db.dispose()
        raise
    return CollectorService(settings, db, master_key, store, ClinicalStore(db, store, settings),
                            ImageStore(db, store, settings))


def open_warehouse(settings: ServiceSettings, writer_lock=None) -> WarehouseStore:
    """The warehouse the settings name, checked usable (reachable, writable, create-only).

    ``writer_lock`` serialises the writers of one object name (every replica's, when it comes
    from the shared database: :func:`db_locks.object_writer_lock`).
    """
    objects = open_object_store(settings.storage_address)
    objects.check()
    try:
        return WarehouseStore(objects, spool_dir=settings.data_dir / SPOOL_DIR,
                              writer_lock=writer_lock)
    except OSError as exc:
        raise ConfigError(f"The data folder {settings.data_dir} cannot be written.") from exc
