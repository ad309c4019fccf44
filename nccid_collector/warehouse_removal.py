"""Taking objects out of the warehouse together with the rows that name them.

Why one place: withdrawal, study removal and retention all remove data, and each must leave
the database and the warehouse agreeing, on both storage back ends and with several replicas
writing. An object is deleted under its name's writer lock (the one uploads take), then its
row goes; a crash in between leaves a row whose object is gone, which the next removal
finishes (deleting a missing object is not an error).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy import Engine, delete, select

from nccid_collector.db import clinical_records, images
from nccid_collector.db_locks import locked_transaction
from nccid_collector.storage import WarehouseStore

log = logging.getLogger(__name__)
CHUNK = 500


def delete_object(db: Engine, store: WarehouseStore, key: str) -> bool:
    """Delete one warehouse object under its writer lock; whether it was there."""
    with db.connect() as conn, locked_transaction(conn, "warehouse-object", key):
        return store.objects.delete(key)


def remove_image_rows(db: Engine, store: WarehouseStore, row_ids: Iterable[int]) -> int:
    """Delete the files of these image rows, then the rows; how many files were removed."""
    removed = 0
    wanted = list(row_ids)
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start:start + CHUNK]
        with db.connect() as conn:
            paths = conn.execute(select(images.c.path).where(images.c.id.in_(chunk))).scalars().all()
        removed += sum(delete_object(db, store, path) for path in paths)
        with db.begin() as conn:
            conn.execute(delete(images).where(images.c.id.in_(chunk)))
    return removed


def remove_record_rows(db: Engine, store: WarehouseStore, row_ids: Iterable[int]) -> int:
    """Delete the warehouse files of these clinical record versions, then the versions."""
    removed = 0
    wanted = list(row_ids)
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start:start + CHUNK]
        with db.connect() as conn:
            paths = {p for p in conn.execute(select(clinical_records.c.path).where(
                clinical_records.c.id.in_(chunk))).scalars() if p}
        removed += sum(delete_object(db, store, path) for path in sorted(paths))
        with db.begin() as conn:
            conn.execute(delete(clinical_records).where(clinical_records.c.id.in_(chunk)))
    return removed
