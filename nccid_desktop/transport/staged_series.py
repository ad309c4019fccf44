"""Which series a staged image belongs to, as the outbox journals it, and the counts per series.

Why the journal records it: after a restart the app resumes the queue, and PACS staff expect
to see what is being sent, series by series, not only a bar. The staged file is already
de-identified and verified, so its header holds the remapped (``2.25.``) Study and Series
Instance UIDs and the Modality; only those three are read, from the first bytes of the file
(never the pixel data). Fail closed: a value that is not in the de-identifier's form (a UID
not remapped, a modality that is not a short code) is not journalled at all, so a file staged
by mistake can never put a source identifier into the journal.

Why the grouping lives here: it is what the journal answers about series, kept beside what
the journal records about them, so :mod:`outbox` stays about queueing and sending.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from nccid_desktop.dicom.codec.header_parser import read_fast

#: The journal's columns for an image's series (NULL in rows staged before they existed).
SERIES_COLUMNS = ("study_uid", "series_uid", "modality")
_WANTED = {0x0020000D: "StudyInstanceUID", 0x0020000E: "SeriesInstanceUID",
           0x00080060: "Modality"}
#: The de-identifier writes every Study and Series Instance UID as a keyed ``2.25.`` UID.
_REMAPPED_UID = re.compile(r"2\.25\.[1-9][0-9]{0,38}")
_MODALITY = re.compile(r"[A-Z0-9_]{1,16}")
_READ_SIZES = (16 * 1024, 256 * 1024)


@dataclass(frozen=True)
class StagedSeries:
    """The de-identified study and series of one staged image (None when not known)."""

    study_uid: str | None = None
    series_uid: str | None = None
    modality: str | None = None

    @classmethod
    def checked(cls, study_uid: str, series_uid: str, modality: str) -> StagedSeries:
        """Keep only values in the de-identifier's form; anything else is not journalled."""
        modality = modality.strip().upper()
        return cls(study_uid if _REMAPPED_UID.fullmatch(study_uid) else None,
                   series_uid if _REMAPPED_UID.fullmatch(series_uid) else None,
                   modality if _MODALITY.fullmatch(modality) else None)


UNKNOWN_SERIES = StagedSeries()


def read_staged_series(path: Path) -> StagedSeries:
    """The staged file's study, series and modality; :data:`UNKNOWN_SERIES` if unreadable.

    Never raises: not knowing the series only changes what the resumed view can group by.
    """
    try:
        with open(path, "rb") as handle:
            head = b""
            for size in _READ_SIZES:
                head += handle.read(size - len(head))
                parsed = read_fast(head, _WANTED, frozenset(), complete=len(head) < size)
                if parsed is not None:
                    values = parsed[0]
                    return StagedSeries.checked(values["StudyInstanceUID"],
                                                values["SeriesInstanceUID"], values["Modality"])
                if len(head) < size:
                    break
            import pydicom  # only for the rare header the fast reader leaves to it

            handle.seek(0)
            dataset = pydicom.dcmread(handle, stop_before_pixels=True,
                                      specific_tags=[0x0020000D, 0x0020000E, 0x00080060])
        return StagedSeries.checked(*(str(dataset.get(keyword, "") or "").strip(" \x00")
                                      for keyword in _WANTED.values()))
    except Exception:  # a damaged header: the image is still queued, its series unknown
        return UNKNOWN_SERIES


def add_series_columns(db: sqlite3.Connection) -> None:
    """Bring a journal made before these columns existed up to date (old rows stay NULL).

    Run in an immediate transaction so the CLI and the app opening one journal at the same
    moment cannot both add a column.
    """
    def missing() -> list[str]:
        present = {row[1] for row in db.execute("PRAGMA table_info(items)")}
        return [column for column in SERIES_COLUMNS if column not in present]

    if not missing():
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        for column in missing():
            db.execute(f"ALTER TABLE items ADD COLUMN {column} TEXT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


@dataclass(frozen=True)
class SeriesCount:
    """One series' images in the journal: how many are still to send, sent, refused.

    Each image counts once, in its latest state (a copy replaced before it was sent is not
    counted twice). ``series_uid`` None groups images staged before series were journalled.
    """

    pseudonym: str
    study_uid: str | None
    series_uid: str | None
    modality: str | None
    pending: int
    sent: int
    refused: int
    size: int

    @property
    def total(self) -> int:
        return self.pending + self.sent + self.refused

    @property
    def key(self) -> tuple[str, str | None, str | None]:
        return self.pseudonym, self.study_uid, self.series_uid


_COUNTS = """
WITH latest AS (
    SELECT * FROM items WHERE kind = 'image'
    AND id IN (SELECT max(id) FROM items WHERE kind = 'image' GROUP BY item_key)
)
SELECT pseudonym, study_uid, series_uid, max(modality),
       sum(state IN ('staged', 'sent')), sum(state = 'acknowledged'), sum(state = 'failed'),
       sum(size)
FROM latest GROUP BY pseudonym, study_uid, series_uid
{having} ORDER BY min(id)
"""


def series_counts(db: sqlite3.Connection, *, pending_only: bool) -> list[SeriesCount]:
    """Images per pseudonym, study and series, in the order they were queued."""
    having = "HAVING sum(state IN ('staged', 'sent')) > 0" if pending_only else ""
    rows = db.execute(_COUNTS.format(having=having)).fetchall()
    return [SeriesCount(r[0], r[1], r[2], r[3], int(r[4]), int(r[5]), int(r[6]), int(r[7]))
            for r in rows]
