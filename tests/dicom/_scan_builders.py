"""Small real DICOM files for the scan and selection tests, built in code with pydicom.

Plain functions so tests say exactly what they put on disk: a PACS-like export folder with
files lacking ``.dcm``, raw data sets without a preamble, zips, a DICOMDIR and junk.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Mapping
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, ExplicitVRLittleEndian

SOP_CLASSES = {
    "CR": "1.2.840.10008.5.1.4.1.1.1",
    "DX": "1.2.840.10008.5.1.4.1.1.1.1",
    "CT": "1.2.840.10008.5.1.4.1.1.2",
    "MR": "1.2.840.10008.5.1.4.1.1.4",
    "SC": "1.2.840.10008.5.1.4.1.1.7",
    "OT": "1.2.840.10008.5.1.4.1.1.7",
}
UID_ROOT = "1.2.826.0.1.3680043.10.1234."


def uid(kind: int, *labels: object) -> str:
    """A deterministic test UID from labels, e.g. ``uid(1, "RR0001", "study-1")``."""
    digest = hashlib.sha256("\x00".join(map(str, labels)).encode()).hexdigest()
    return f"{UID_ROOT}{kind}.{int(digest[:15], 16)}"


def make_dataset(*, patient_id: str = "RR0001", patient_name: str = "DOE^JOHN",
                 modality: str = "CR", body_part: str | None = "CHEST",
                 study: str = "1", series: str = "1", instance: int = 1,
                 study_date: str = "20200301", series_number: int | None = 1,
                 series_description: str = "CHEST PA", study_description: str = "XR CHEST",
                 pixels: bool = True, **extra: object) -> Dataset:
    """One image's data set; ``study``/``series`` label the UIDs so tests can group them."""
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = SOP_CLASSES[modality]
    ds.SOPInstanceUID = uid(3, patient_id, study, series, instance)
    ds.StudyDate = study_date
    ds.StudyTime = "101500"
    ds.StudyID = study
    ds.SeriesDate = study_date
    ds.Modality = modality
    ds.StudyDescription = study_description
    ds.SeriesDescription = series_description
    ds.PatientName = patient_name
    ds.PatientID = patient_id
    ds.PatientBirthDate = "19600101"
    ds.PatientSex = "M"
    if body_part is not None:
        ds.BodyPartExamined = body_part
    ds.StudyInstanceUID = uid(1, patient_id, study)
    ds.SeriesInstanceUID = uid(2, patient_id, study, series)
    if series_number is not None:
        ds.SeriesNumber = series_number
    ds.InstanceNumber = instance
    for keyword, value in extra.items():
        setattr(ds, keyword, value)
    if pixels:
        ds.Rows = ds.Columns = 8
        ds.BitsAllocated = ds.BitsStored = 16
        ds.HighBit = 15
        ds.PixelRepresentation = 0
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.PixelData = bytes(range(128))
    return ds


def dicom_bytes(ds: Dataset, *, preamble: bool = True) -> bytes:
    """Part-10 bytes (preamble, ``DICM``, file meta), or a raw implicit-VR data set."""
    buffer = io.BytesIO()
    if preamble:
        ds.file_meta = FileMetaDataset()
        ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
        pydicom.dcmwrite(buffer, ds, enforce_file_format=True)
    else:
        pydicom.dcmwrite(buffer, ds, implicit_vr=True, little_endian=True)
    return buffer.getvalue()


def write_dicom(path: Path, ds: Dataset, *, preamble: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(dicom_bytes(ds, preamble=preamble))
    return path


def write_zip(path: Path, members: Mapping[str, bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def write_dicomdir_export(folder: Path, datasets: list[Dataset]) -> Path:
    """A media export as a PACS CD makes it: a real DICOMDIR plus files in sub-folders."""
    from pydicom.fileset import FileSet

    file_set = FileSet()
    for ds in datasets:
        dicom_bytes(ds)  # gives it file meta
        file_set.add(ds)
    folder.mkdir(parents=True, exist_ok=True)
    file_set.write(folder)
    return folder


def write_index_copy(path: Path, export_folder: Path) -> Path:
    """The DICOMDIR of an export copied under another name, as users sometimes do."""
    path.write_bytes((export_folder / "DICOMDIR").read_bytes())
    return path


def write_junk(folder: Path) -> dict[str, Path]:
    """Files a PACS export folder also contains, none of them DICOM."""
    folder.mkdir(parents=True, exist_ok=True)
    junk = {
        "text": folder / "README.TXT",
        "jpeg": folder / "thumb.jpg",
        "empty": folder / "EMPTY",
        "pdf": folder / "report.pdf",
    }
    junk["text"].write_text("Exported by PACS\n")
    junk["jpeg"].write_bytes(b"\xff\xd8\xff\xe0" + bytes(200))
    junk["empty"].write_bytes(b"")
    junk["pdf"].write_bytes(b"%PDF-1.4\n" + bytes(300))
    return junk
