"""Test payloads built in code: de-identified-looking DICOM files and clinical envelopes.

They stand in for the DICOM pipeline's and the sheet reader's output: PatientID is a pseudonym
of the site, PatientIdentityRemoved is YES, there are no private tags.
"""

from __future__ import annotations

from pathlib import Path

import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

from nccid_desktop.keys import SiteKeys
from nccid_desktop.pseudonym import pseudonym_from_linking_value
from nccid_desktop.records import ClinicalEnvelope


def pseudonym_of(keys: SiteKeys, n: int) -> str:
    return pseudonym_from_linking_value(keys, "hospital", f"RR{n:08d}")


def write_instance(folder: Path, pseudonym: str, *, study_uid: str | None = None,
                   pixels: int = 64, index: int = 0) -> tuple[str, Path]:
    """A small CT instance of ``pixels`` x ``pixels`` 16-bit; returns (SOP UID, path)."""
    sop_uid = generate_uid()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = study_uid or generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.PatientID = pseudonym
    ds.PatientName = pseudonym
    ds.PatientIdentityRemoved = "YES"
    ds.Modality = "CT"
    ds.StudyDate = "20200401"
    ds.InstanceNumber = index + 1
    ds.Rows = ds.Columns = pixels
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.PixelData = bytes((index + i) % 251 for i in range(pixels * pixels * 2))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{sop_uid}.dcm"
    pydicom.dcmwrite(path, ds, enforce_file_format=True)
    return sop_uid, path


def write_instances(folder: Path, keys: SiteKeys, count: int, patients: int = 5,
                    pixels: int = 64, first_patient: int = 0) -> dict[str, Path]:
    """``count`` instances spread over ``patients`` pseudonymised patients."""
    made: dict[str, Path] = {}
    for i in range(count):
        pseudonym = pseudonym_of(keys, first_patient + i % patients)
        uid, path = write_instance(folder, pseudonym, pixels=pixels, index=i)
        made[uid] = path
    return made


def status_envelope(keys: SiteKeys, n: int, swab_status: str = "0") -> ClinicalEnvelope:
    pseudonym = pseudonym_of(keys, n)
    record = {"Pseudonym": pseudonym, "SubmittingCentre": keys.site,
              "SwabDate": "01/04/2020", "SwabStatus": swab_status}
    return ClinicalEnvelope(kind="status", pseudonym=pseudonym, site=keys.site, record=record,
                            row=n + 2)
