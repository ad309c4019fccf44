"""Upload payloads built in code: envelopes and de-identified-looking DICOM files.

They look like the workstation's output (pseudonymised, PatientIdentityRemoved = YES, no
private tags) so the service's own checks are what the tests exercise; helpers spoil one
property at a time for the refusal tests.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from nccid_collector.clinical import expected_keys
from nccid_desktop.keys import SiteKeys
from nccid_desktop.pseudonym import linkage_token, nhs_index, pseudonym_for
from nccid_desktop.records import ClinicalEnvelope

CR_STORAGE = "1.2.840.10008.5.1.4.1.1.1"
SC_STORAGE = "1.2.840.10008.5.1.4.1.1.7"


def envelope(keys: SiteKeys, hospital_number: str, kind: str = "data", nhs: str | None = None,
             **fields: str) -> ClinicalEnvelope:
    """A complete record of ``kind`` (every template key present) for one patient."""
    pseudonym = pseudonym_for(keys, hospital_number=hospital_number)
    record = dict.fromkeys(sorted(expected_keys(kind)), "")
    record.update({"Pseudonym": pseudonym, "SubmittingCentre": keys.site})
    if kind == "data":
        record.update({"Age": "54", "Sex": "1", "Ethnicity": "A"})
    else:
        record.update({"SwabDate": "03/04/2020", "SwabStatus": "0"})
    record.update({key.replace("_", " "): value for key, value in fields.items()})
    return ClinicalEnvelope(
        kind=kind, pseudonym=pseudonym, site=keys.site, record=record,
        nhs_index=nhs_index(keys, nhs) if nhs else None,
        linkage_token=linkage_token(keys, nhs) if nhs else None, row=2)


def batch(*envelopes: ClinicalEnvelope, batch_id: str | None = None) -> dict:
    return {"batch_id": batch_id or secrets.token_hex(8),
            "envelopes": [e.to_json() for e in envelopes]}


def dicom_file(path: Path, pseudonym: str, *, study_uid: str | None = None,
               sop_uid: str | None = None, modality: str = "CR", identity_removed: str = "YES",
               private_tag: bool = False, nested_private_tag: bool = False,
               sop_class: str = CR_STORAGE, patient_name: str = "", pixels: int = 64) -> Path:
    """A small Part-10 file that looks de-identified (unless a spoiling option is set)."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_uid or generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = study_uid or generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = modality
    ds.PatientID = pseudonym
    ds.PatientName = patient_name or pseudonym
    ds.PatientIdentityRemoved = identity_removed
    ds.BodyPartExamined = "CHEST"
    ds.StudyDate = "20200403"
    ds.Rows = ds.Columns = 8
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.PixelData = bytes(range(pixels))
    if private_tag:
        ds.add_new(0x00091010, "LO", "vendor note")
    if nested_private_tag:
        item = Dataset()
        item.CodeValue = "113100"
        item.add_new(0x00111001, "LO", "hidden")
        ds.DeidentificationMethodCodeSequence = Sequence([item])
    ds.save_as(path, enforce_file_format=True)
    return path


def large_dicom_file(path: Path, pseudonym: str, size: int) -> Path:
    """A de-identified-looking instance with about ``size`` bytes of 8-bit pixels."""
    columns = 4096
    rows = max(1, size // columns)
    dicom_file(path, pseudonym)
    dataset = pydicom.dcmread(path)
    dataset.Rows, dataset.Columns = rows, columns
    dataset.PixelData = bytes(i % 251 for i in range(columns)) * rows
    dataset.save_as(path, enforce_file_format=True)
    return path


def stow_body(parts: list[bytes], boundary: str = "nccid-test-boundary",
              part_type: str = "application/dicom") -> tuple[bytes, dict[str, str]]:
    """A multipart/related body and its headers, exactly as docs/api.md describes."""
    body = b"".join(f"--{boundary}\r\nContent-Type: {part_type}\r\n\r\n".encode() + part + b"\r\n"
                    for part in parts) + f"--{boundary}--\r\n".encode()
    headers = {"Content-Type": f'multipart/related; type="application/dicom"; boundary={boundary}',
               "Accept": "application/dicom+json"}
    return body, headers


def read(path: Path) -> pydicom.Dataset:
    return pydicom.dcmread(path)
