"""The warehouse raw layout: checked names over an object store, written once, never overwritten.

Why a facade: the service, the administration commands and the tests speak of the raw layout
(``raw-<site>/<YYYY-MM-DD>/data/<Pseudonym>_<kind>.json`` and
``raw-<site>/<YYYY-MM-DD>/images/<SOPInstanceUID>.dcm``, nccid-formats.md §4), while where
the bytes live (a folder or an S3 bucket, :mod:`nccid_collector.objectstore`) is a deployment
choice. Every name is built here from checked site codes, dates, pseudonyms and UIDs, and every
write is create-only: an object already present is never overwritten, and a crash leaves
either nothing or the whole object under its name.

Uploaded images are first spooled to local files (``spool_file``): in the warehouse folder
itself for the folder back end (so publishing is a hard link), in the service's data folder
otherwise. Spool files left by a crash are swept at start.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from nccid_collector.db_locks import process_lock
from nccid_collector.objectstore import FolderStore, ObjectStore, StoredObject
from nccid_collector.objectstore.base import remove_stale_files
from nccid_desktop.keys import check_site_code
from nccid_desktop.pseudonym import is_pseudonym

UID_PATTERN = re.compile(r"^[0-9]+(\.[0-9]+)*$")
DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SPOOL_DIR = ".incoming"
STALE_SPOOL_SECONDS = 3600


def is_uid(value: str) -> bool:
    return len(value) <= 64 and bool(UID_PATTERN.fullmatch(value))


class WarehouseStore:
    """Writes into ``objects`` only through names built from checked site codes, dates and UIDs."""

    def __init__(self, objects: ObjectStore | Path, spool_dir: Path | None = None,
                 writer_lock: Callable[[str], AbstractContextManager[None]] | None = None) -> None:
        if not isinstance(objects, ObjectStore):
            objects = FolderStore(Path(objects))
        self.objects = objects
        #: held around every write of one name (the service passes one all replicas share)
        self.writer_lock = writer_lock or (lambda name: process_lock("warehouse-object", name))
        chosen = objects.preferred_spool or spool_dir
        if chosen is None:
            raise ValueError("a spool folder is needed for this object store")
        self.spool = Path(chosen)
        self.spool.mkdir(parents=True, exist_ok=True)

    def sweep_spool(self, now: float, max_age_seconds: int = STALE_SPOOL_SECONDS) -> int:
        """Delete spool files and unfinished uploads left by a crash (old enough to be orphans).

        ``now`` is the service's clock, compared with the spool files' times; the object
        store's own leftovers carry the store's times, so they are judged by the real time.
        """
        return (remove_stale_files(self.spool, "part-*.tmp", now, max_age_seconds)
                + self.objects.sweep(time.time(), max_age_seconds))

    def spool_file(self) -> Path:
        """A fresh temporary path for one incoming part, where publishing it is cheapest."""
        return self.spool / f"part-{secrets.token_hex(12)}.tmp"

    def clinical_path(self, site: str, date: str, pseudonym: str, kind: str) -> str:
        if not is_pseudonym(pseudonym) or kind not in ("data", "status"):
            raise ValueError("not a warehouse record name")
        return f"{self._day(site, date)}/data/{pseudonym}_{kind}.json"

    def image_path(self, site: str, date: str, sop_instance_uid: str) -> str:
        if not is_uid(sop_instance_uid):
            raise ValueError("not a UID")
        return f"{self._day(site, date)}/images/{sop_instance_uid}.dcm"

    @staticmethod
    def _day(site: str, date: str) -> str:
        if check_site_code(site) != site or not DATE_PATTERN.fullmatch(date):
            raise ValueError("not a warehouse folder")
        return f"raw-{site}/{date}"

    @staticmethod
    def site_prefix(site: str) -> str:
        """The prefix of everything one site ever uploaded (every date folder)."""
        if check_site_code(site) != site:
            raise ValueError("not a site code")
        return f"raw-{site}/"

    def exists(self, relative: str) -> bool:
        return self.objects.exists(relative)

    def read_bytes(self, relative: str) -> bytes:
        return self.objects.get_bytes(relative)

    def list(self, prefix: str) -> Iterator[StoredObject]:
        """Complete warehouse objects under a ``raw-...`` prefix, in name order."""
        if not prefix.startswith("raw-"):
            raise ValueError("warehouse listings start at a site folder")
        return self.objects.list(prefix)

    def _writing(self, relative: str, lock_held: bool) -> AbstractContextManager[None]:
        return nullcontext() if lock_held else self.writer_lock(relative)

    def write_json_new(self, relative: str, record: dict[str, str], *,
                       lock_held: bool = False) -> bool:
        """Write ``record`` as a new object; False (and nothing written) when the name exists.

        ``lock_held``: the caller already holds this name's writer lock (on its own connection).
        """
        with self._writing(relative, lock_held):
            return self.objects.put_bytes_new(relative, record_bytes(record))

    def publish_new(self, tmp: Path, relative: str, *, lock_held: bool = False) -> bool:
        """Store a complete spool file as ``relative`` unless that name exists; the file is consumed."""
        try:
            with self._writing(relative, lock_held):
                return self.objects.put_file_new(relative, tmp)
        finally:
            tmp.unlink(missing_ok=True)


def record_bytes(record: dict[str, str]) -> bytes:
    """A clinical record exactly as the warehouse holds it (UTF-8 JSON, two-space indent)."""
    return json.dumps(record, indent=2, ensure_ascii=False).encode("utf-8")
