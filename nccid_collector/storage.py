"""The warehouse raw layout on disk, written atomically and never overwritten.

Why hard links: a file is first written and fsynced under a temporary name in the data
folder, then linked to its final name. ``os.link`` fails if the name exists, so "write unless
present" is one atomic step even with several workers, and a crash leaves either no file or a
complete one, never half a JSON or half a DICOM file where the NCCID loader would read it.

Layout (nccid-formats.md §4): ``raw-<site>/<YYYY-MM-DD>/data/<Pseudonym>_<kind>.json`` and
``raw-<site>/<YYYY-MM-DD>/images/<SOPInstanceUID>.dcm``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from pathlib import Path

from nccid_desktop.keys import check_site_code
from nccid_desktop.pseudonym import is_pseudonym

UID_PATTERN = re.compile(r"^[0-9]+(\.[0-9]+)*$")
DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SPOOL_DIR = ".incoming"
STALE_SPOOL_SECONDS = 3600


def is_uid(value: str) -> bool:
    return len(value) <= 64 and bool(UID_PATTERN.fullmatch(value))


class WarehouseStore:
    """Writes into ``root`` only through names built from checked site codes, dates and UIDs."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.spool = self.root / SPOOL_DIR
        self.spool.mkdir(parents=True, exist_ok=True)

    def sweep_spool(self, now: float, max_age_seconds: int = STALE_SPOOL_SECONDS) -> int:
        """Delete spool files left by a crash (old enough that no request still owns them)."""
        removed = 0
        for leftover in self.spool.glob("part-*.tmp"):
            try:
                if now - leftover.stat().st_mtime > max_age_seconds:
                    leftover.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed

    def spool_file(self) -> Path:
        """A fresh temporary path on the same file system as the warehouse."""
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

    def exists(self, relative: str) -> bool:
        return (self.root / relative).exists()

    def read_bytes(self, relative: str) -> bytes:
        return (self.root / relative).read_bytes()

    def write_json_new(self, relative: str, record: dict[str, str]) -> bool:
        """Write ``record`` as a new file; False (and nothing written) when the name exists."""
        tmp = self.spool_file()
        with open(tmp, "wb") as handle:
            handle.write(json.dumps(record, indent=2, ensure_ascii=False).encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        return self.publish_new(tmp, relative)

    def publish_new(self, tmp: Path, relative: str) -> bool:
        """Move a complete, fsynced spool file to ``relative`` unless that name exists."""
        final = self.root / relative
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(tmp, final)
        except FileExistsError:
            return False
        finally:
            tmp.unlink(missing_ok=True)
        _fsync_dir(final.parent)
        return True


def fsync_file(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
