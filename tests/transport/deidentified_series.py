"""Source images of a named patient in two series, de-identified by the real de-identifier.

They stand in for what Send Images stages: the outbox must journal the de-identified study and
series of each image and nothing of the source (UIDs, name, hospital number, folder).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pydicom
from pydicom.uid import generate_uid

from nccid_desktop.dicom.deid.one_file import DeidContext, FileOutcome
from nccid_desktop.dicom.deid.pipeline import deidentify_batch
from nccid_desktop.dicom.scan.sources import SourceFile
from nccid_desktop.keys import SiteKeys
from nccid_desktop.transport.outbox import Outbox
from tests.transport.payloads import write_instance

PATIENT_NAME = "PEMBERTON^ALICE"
HOSPITAL_NUMBER = "RR00004321"
SOURCE_FOLDER = "export-of-PEMBERTON"


@dataclass(frozen=True)
class SourceSeries:
    modality: str
    study_uid: str
    series_uid: str
    files: tuple[Path, ...]


def write_source_series(folder: Path, counts: dict[str, int]) -> list[SourceSeries]:
    """One study with a series per ``modality -> image count``, identifiable as PACS exports
    are (patient name, hospital number, institution's UIDs)."""
    folder = folder / SOURCE_FOLDER
    study_uid = generate_uid()
    made = []
    index = 0
    for modality, count in counts.items():
        series_uid = generate_uid()
        files = []
        for _ in range(count):
            _, path = write_instance(folder, HOSPITAL_NUMBER, study_uid=study_uid, index=index)
            index += 1
            ds = pydicom.dcmread(path)
            ds.PatientName = PATIENT_NAME
            ds.SeriesInstanceUID = series_uid
            ds.Modality = modality
            ds.SeriesDescription = f"{modality} series of {PATIENT_NAME}"
            ds.save_as(path, enforce_file_format=True)
            files.append(path)
        made.append(SourceSeries(modality, study_uid, series_uid, tuple(files)))
    return made


def deidentify(series: list[SourceSeries], keys: SiteKeys, work: Path) -> list[FileOutcome]:
    sources = [SourceFile(path, size=path.stat().st_size) for s in series for path in s.files]
    report = deidentify_batch(sources, work / "deidentified", DeidContext(keys, "hospital"),
                              quarantine_dir=work / "quarantine", workers=1)
    assert [o.status for o in report.outcomes] == ["deidentified"] * len(sources), \
        [o.message for o in report.outcomes]
    return list(report.outcomes)


def stage(outbox: Outbox, outcomes: list[FileOutcome]) -> None:
    """Queue de-identified images as Send Images and ``nccid upload images`` do."""
    for outcome in outcomes:
        assert outcome.output is not None and outcome.sop_instance_uid is not None
        outbox.stage_image(outcome.sop_instance_uid, outcome.pseudonym or "", outcome.output,
                           move=True, expected_size=outcome.bytes)
