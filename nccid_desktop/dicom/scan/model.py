"""What a scan found: patients -> studies -> series -> files, and the files it could not use.

Why values apart from the scanner: the GUI tables, the ``nccid scan`` report, the selection
rules and the de-identification pipeline all read these objects, while only the scanner builds
them. Fields that identify a patient (IDs, names, source paths) are kept for the user's own
screen and for linking, and are left out of ``repr`` so that an object that slips into a log
line or an exception message does not carry them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Literal

from nccid_desktop.dicom.risk import Risk
from nccid_desktop.dicom.scan.sources import SourceFile

SkipKind = Literal["not_dicom", "corrupt", "unreadable", "index", "duplicate", "refused"]
SKIP_KINDS: tuple[SkipKind, ...] = ("not_dicom", "corrupt", "unreadable", "index", "duplicate",
                                    "refused")
QuarantineState = Literal["none", "some", "all"]

#: Why an image is held back (never sent, whatever the selection), by stable code. Only
#: ``uid_conflict`` is found by a scan; clashes with the outbox or with the collection
#: service's images add their codes here.
HOLD_REASONS: dict[str, str] = {
    "uid_conflict": "Two different images share one identifier: ask PACS to re-export them.",
    "uid_in_outbox": "A different image with the same identifier was already sent or queued "
                     "from this workstation: two images share one identifier; ask PACS to "
                     "re-export them.",
    "uid_held_by_service": "The collection service already holds another patient's image "
                           "with the same identifier: two images share one identifier; ask "
                           "PACS to re-export them.",
}
#: Why the second copy of an image is not used (byte-identical, or identical once
#: de-identified): it is one image, sent once.
DUPLICATE_REASON = "The same image was found twice; it is used once."


@dataclass(frozen=True)
class ScannedFile:
    """One DICOM object: where it is, its source SOP Instance UID, and its burned-in text risk."""

    source: SourceFile = field(repr=False)
    sop_instance_uid: str = field(repr=False)
    sop_class_uid: str
    transfer_syntax_uid: str
    image_date: date | None
    risk: Risk | None = None
    #: Why the image is held back (a code of :data:`HOLD_REASONS`), or None: never sent.
    hold: str | None = None

    @property
    def size(self) -> int:
        return self.source.size


@dataclass(frozen=True)
class Series:
    """One series as PACS staff see it: a row in the scan table, included or excluded as one."""

    series_uid: str = field(repr=False)
    modality: str
    number: int | None
    description: str = field(repr=False)
    body_part: str
    files: tuple[ScannedFile, ...] = field(repr=False)
    protocol: str = field(default="", repr=False)  # ProtocolName: says "CTPA" where nothing else does

    @property
    def sop_class_uid(self) -> str:
        """The SOP class of the series' first image (a series holds one kind of object)."""
        return self.files[0].sop_class_uid if self.files else ""

    @property
    def instance_count(self) -> int:
        return len(self.files)

    @property
    def bytes(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def date(self) -> date | None:
        """The earliest image date of the series (what the date window is checked against)."""
        dates = [f.image_date for f in self.files if f.image_date is not None]
        return min(dates) if dates else None

    @property
    def source_sop_instance_uids(self) -> tuple[str, ...]:
        return tuple(f.sop_instance_uid for f in self.files)

    @property
    def quarantined_files(self) -> tuple[ScannedFile, ...]:
        return tuple(f for f in self.files if f.risk is not None)

    @property
    def held_back_files(self) -> tuple[ScannedFile, ...]:
        return tuple(f for f in self.files if f.hold is not None)

    @property
    def quarantine(self) -> QuarantineState:
        """Whether none, some or all of the series' files will be quarantined (never sent)."""
        count = len(self.quarantined_files)
        if count == 0:
            return "none"
        return "all" if count == len(self.files) else "some"

    @property
    def risks(self) -> tuple[tuple[Risk, int], ...]:
        """Each distinct risk with how many files carry it, most frequent first."""
        counts = Counter(f.risk for f in self.files if f.risk is not None)
        return tuple(counts.most_common())


@dataclass(frozen=True)
class Study:
    study_uid: str = field(repr=False)
    date: date | None
    description: str = field(repr=False)
    series: tuple[Series, ...] = field(repr=False)


@dataclass(frozen=True)
class Patient:
    """All studies found under one DICOM PatientID (the key that links to the clinical sheet)."""

    patient_id: str = field(repr=False)
    name: str = field(repr=False)
    sex: str
    studies: tuple[Study, ...] = field(repr=False)

    @property
    def name_parts(self) -> tuple[str, ...]:
        """Name components long enough to be identifying when they appear in free text."""
        parts = self.name.replace("^", " ").replace("=", " ").split()
        return tuple(p for p in parts if len(p) >= 3)

    @property
    def display_name(self) -> str:
        """The name as a person reads it, for the user's own screen only."""
        return " ".join(self.name.replace("^", " ").split())

    def mentioned_in(self, text: str) -> bool:
        """Whether free text (a description) names this patient or repeats their ID."""
        upper = text.upper()
        needles = (self.patient_id.strip(), *self.name_parts)
        return any(n and n.upper() in upper for n in needles)


@dataclass(frozen=True)
class SkippedFile:
    """A file the scan could not use, with a plain-English reason (no identifier in it)."""

    source: SourceFile = field(repr=False)
    kind: SkipKind
    reason: str


@dataclass(frozen=True)
class ScanResult:
    patients: tuple[Patient, ...]
    skipped: tuple[SkippedFile, ...] = ()
    files_seen: int = 0

    def iter_series(self) -> list[tuple[Patient, Study, Series]]:
        return [(p, st, se) for p in self.patients for st in p.studies for se in st.series]

    @property
    def instance_count(self) -> int:
        return sum(se.instance_count for _, _, se in self.iter_series())

    @property
    def bytes(self) -> int:
        return sum(se.bytes for _, _, se in self.iter_series())

    @property
    def study_count(self) -> int:
        return sum(len(p.studies) for p in self.patients)

    @property
    def series_count(self) -> int:
        return sum(len(st.series) for p in self.patients for st in p.studies)

    @property
    def quarantined_count(self) -> int:
        return sum(len(se.quarantined_files) for _, _, se in self.iter_series())

    @property
    def held_back(self) -> tuple[ScannedFile, ...]:
        """Images held back (see :data:`HOLD_REASONS`), in scan order."""
        return tuple(f for _, _, se in self.iter_series() for f in se.held_back_files)

    def with_holds(self, holds: Mapping[str, str]) -> ScanResult:
        """This result with the images whose source SOP Instance UID is in ``holds`` held back
        (the value a code of :data:`HOLD_REASONS`): what the service or the outbox say about
        an identifier applies everywhere the scan shows (tree, report, selection, counts)."""
        if not holds:
            return self

        def held(series: Series) -> Series:
            if not any(f.sop_instance_uid in holds for f in series.files):
                return series
            return replace(series, files=tuple(
                replace(f, hold=f.hold or holds[f.sop_instance_uid])
                if f.sop_instance_uid in holds else f for f in series.files))

        return replace(self, patients=tuple(
            replace(p, studies=tuple(replace(st, series=tuple(held(se) for se in st.series))
                                     for st in p.studies))
            for p in self.patients))

    def skipped_counts(self) -> dict[str, int]:
        """How many files were skipped, per kind (every kind present, zero when none)."""
        counts = Counter(s.kind for s in self.skipped)
        return {kind: counts.get(kind, 0) for kind in SKIP_KINDS}
