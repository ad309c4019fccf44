"""Synthetic DICOM objects for tests and benchmarks, built in code as plain functions.

Why in code and not sample files: each test states the identifying values it plants, so it can
check that exactly those values are gone. The patient below is fictional; the hospital number is
in the Radiology (PACS) form the spreadsheet path uses, so both paths meet on one pseudonym.

Typical use::

    ds = ct_slice(instance=3)
    add_nested_sequences(ds); add_private_tags(ds); add_overlay(ds)
    path = write(ds, tmp_path / "source" / "slice3")
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import (
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEGBaseline8Bit,
    RLELossless,
)

CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
MR_IMAGE = "1.2.840.10008.5.1.4.1.1.4"
CR_IMAGE = "1.2.840.10008.5.1.4.1.1.1"
DX_IMAGE_FOR_PRESENTATION = "1.2.840.10008.5.1.4.1.1.1.1"
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
#: Root for the synthetic source UIDs (a test root, never a real site's).
UID_ROOT = "1.2.826.0.1.3680043.10.999"


@dataclass(frozen=True)
class Patient:
    """A fictional patient with every identifier a PACS export carries."""

    hospital_number: str = "RR12345678"
    nhs_number: str = "9434765919"
    name: str = "FAKENHAM^JOSEPHINE^ANNE"
    birth_date: str = "19630412"
    sex: str = "F"
    address: str = "12 Quarry Lane, Guildford GU1 4PX"
    telephone: str = "01483 571122"
    accession: str = "ACC77120934"
    other_id: str = "OTH-55120093"
    institution: str = "Royal Surrey Hospital"
    department: str = "Radiology Dept West Wing"
    referring: str = "WHITTLESEA^GERALD^^DR"
    performing: str = "OKONKWO-BRANDT^IFEOMA"
    operator: str = "PLUMSTEAD^CYRIL"


PATIENT = Patient()
STUDY_DATE = "20201103"
STUDY_TIME = "101530"


def uid(*parts: object) -> str:
    """A deterministic source UID under the test root."""
    return ".".join([UID_ROOT, *(str(p) for p in parts)])


def _file_meta(sop_class: str, sop_instance: str, transfer_syntax: str) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_instance
    meta.TransferSyntaxUID = transfer_syntax
    meta.ImplementationClassUID = uid(0, 1)
    meta.ImplementationVersionName = "NCCIDTESTS"
    return meta


def base_dataset(modality: str, sop_class: str, *, patient: Patient = PATIENT, study: int = 1,
                 series: int = 1, instance: int = 1, study_date: str = STUDY_DATE) -> Dataset:
    """Patient, study, series and instance modules as a PACS writes them, no pixels yet."""
    ds = Dataset()
    sop_instance = uid(study, series, instance)
    ds.file_meta = _file_meta(sop_class, sop_instance, ExplicitVRLittleEndian)
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_instance
    ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = study_date
    ds.StudyTime = ds.SeriesTime = ds.AcquisitionTime = ds.ContentTime = STUDY_TIME
    ds.AccessionNumber = patient.accession
    ds.Modality = modality
    ds.Manufacturer = "ACME Medical"
    ds.InstitutionName = patient.institution
    ds.InstitutionAddress = patient.address
    ds.ReferringPhysicianName = patient.referring
    ds.StationName = "CTSCAN01"
    ds.StudyDescription = "CT CHEST"
    ds.SeriesDescription = "CHEST 1.25mm"
    ds.InstitutionalDepartmentName = patient.department
    ds.PerformingPhysicianName = patient.performing
    ds.OperatorsName = patient.operator
    ds.ManufacturerModelName = "Scanmaster 64"
    ds.PatientName = patient.name
    ds.PatientID = patient.hospital_number
    ds.IssuerOfPatientID = "RSH PACS"
    ds.PatientBirthDate = patient.birth_date
    ds.PatientSex = patient.sex
    ds.OtherPatientIDs = patient.other_id
    ds.PatientAddress = patient.address
    ds.PatientTelephoneNumbers = patient.telephone
    ds.BodyPartExamined = "CHEST"
    ds.DeviceSerialNumber = "SN-000731"
    ds.SoftwareVersions = "VA20"
    ds.ProtocolName = "CHEST ROUTINE"
    ds.StudyInstanceUID = uid(study)
    ds.SeriesInstanceUID = uid(study, series)
    ds.StudyID = "ST9981"
    ds.SeriesNumber = series
    ds.InstanceNumber = instance
    ds.FrameOfReferenceUID = uid(study, series, 0)
    return ds


def add_pixels(ds: Dataset, rows: int, columns: int, *, seed: int = 0, bits: int = 16) -> Dataset:
    """Uncompressed monochrome pixels with a deterministic pattern (no numpy needed)."""
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = rows
    ds.Columns = columns
    ds.BitsAllocated = bits
    ds.BitsStored = 12 if bits == 16 else 8
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 0
    count = rows * columns
    if bits == 16:
        pattern = bytes(((i * 37 + seed) % 4096) & 0xFF for i in range(512))
        block = pattern * (count * 2 // len(pattern) + 1)
        ds.PixelData = block[: count * 2]
    else:
        ds.PixelData = bytes((i + seed) % 251 for i in range(count))
    return ds


def ct_slice(*, instance: int = 1, rows: int = 64, columns: int = 64, series: int = 1,
             patient: Patient = PATIENT) -> Dataset:
    ds = base_dataset("CT", CT_IMAGE, patient=patient, series=series, instance=instance)
    ds.PatientPosition = "HFS"
    ds.PositionReferenceIndicator = ""
    ds.AcquisitionNumber = 1
    ds.SliceThickness = "1.25"
    ds.KVP = "120"
    ds.ImagePositionPatient = [0, 0, -instance * 1.25]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [0.7, 0.7]
    ds.RescaleIntercept = "-1024"
    ds.RescaleSlope = "1"
    return add_pixels(ds, rows, columns, seed=instance)


def mr_image(*, instance: int = 1, patient: Patient = PATIENT) -> Dataset:
    ds = base_dataset("MR", MR_IMAGE, patient=patient, series=3, instance=instance)
    ds.ScanningSequence = "SE"
    ds.SequenceVariant = "NONE"
    ds.MagneticFieldStrength = "1.5"
    return add_pixels(ds, 32, 32, seed=instance)


def cr_image(*, instance: int = 1, rows: int = 128, columns: int = 128,
             patient: Patient = PATIENT) -> Dataset:
    ds = base_dataset("CR", CR_IMAGE, patient=patient, series=2, instance=instance)
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.ViewPosition = "PA"
    ds.PlateID = "PLATE-0042"
    return add_pixels(ds, rows, columns, seed=instance)


def dx_image(*, instance: int = 1, rows: int = 128, columns: int = 128,
             patient: Patient = PATIENT) -> Dataset:
    ds = base_dataset("DX", DX_IMAGE_FOR_PRESENTATION, patient=patient, series=4,
                      instance=instance)
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.PresentationIntentType = "FOR PRESENTATION"
    ds.ViewPosition = "AP"
    ds.DetectorID = "DET-7781"
    ds.BurnedInAnnotation = "NO"
    return add_pixels(ds, rows, columns, seed=instance)


def secondary_capture(*, instance: int = 1, patient: Patient = PATIENT) -> Dataset:
    """A screen grab of a report: the kind of object that must be quarantined."""
    ds = base_dataset("OT", SECONDARY_CAPTURE, patient=patient, series=9, instance=instance)
    ds.ConversionType = "WSD"
    ds.ImageType = ["DERIVED", "SECONDARY"]
    return add_pixels(ds, 32, 32, seed=instance, bits=8)


def compress_rle(ds: Dataset) -> Dataset:
    """The same object in RLE Lossless, encoded by pydicom (a real compressed syntax)."""
    ds.compress(RLELossless, encoding_plugin="pydicom")
    return ds


def fake_jpeg_baseline(ds: Dataset, frame: bytes = b"\xff\xd8\xff\xe0FAKEJPEG\xff\xd9") -> Dataset:
    """Encapsulated JPEG Baseline: the frame bytes are opaque to a de-identifier that never
    decodes pixels, which is exactly what the pass-through test needs."""
    ds.BitsAllocated = 8
    ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelData = encapsulate([frame])
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.LossyImageCompression = "01"
    return ds


def implicit_little_endian(ds: Dataset) -> Dataset:
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    return ds


def code_item(value: str, meaning: str, scheme: str = "99TEST") -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def nested_chain(depth: int = 3) -> tuple[list[str], Dataset]:
    """Keywords of a chain of retained sequences ``depth`` levels deep, and its innermost item.

    None of these sequences is in Table E.1-1, so the profile keeps them and must walk into
    them: what is planted in the innermost item tests recursion three levels down.
    """
    keywords = ["ViewCodeSequence", "ViewModifierCodeSequence", "AnatomicRegionSequence",
                "AnatomicRegionModifierSequence", "PrimaryAnatomicStructureSequence"][:depth]
    innermost = code_item("T-D3000", "Chest", "SRT")
    return keywords, innermost


def attach_chain(ds: Dataset, keywords: Sequence[str], innermost: Dataset) -> Dataset:
    """Hang ``innermost`` at the bottom of the chain of sequences named by ``keywords``."""
    item = innermost
    for keyword in reversed(keywords[1:]):
        parent = code_item("399067008", "Chest level", "SCT")
        setattr(parent, keyword, DicomSequence([item]))
        item = parent
    setattr(ds, keywords[0], DicomSequence([item]))
    return ds


def add_nested_sequences(ds: Dataset, patient: Patient = PATIENT) -> Dataset:
    """Identifiers in sequences, three levels deep, as real PACS exports carry them."""
    other = Dataset()
    other.PatientID = patient.other_id
    other.IssuerOfPatientID = "OTHER TRUST"
    ds.OtherPatientIDsSequence = DicomSequence([other])
    referenced = Dataset()
    referenced.ReferencedSOPClassUID = ds.SOPClassUID
    referenced.ReferencedSOPInstanceUID = uid(1, 1, 999)
    ds.ReferencedImageSequence = DicomSequence([referenced])
    request = Dataset()
    request.RequestedProcedureID = "RP-20934"
    request.AccessionNumber = patient.accession
    request.ScheduledProcedureStepID = "SPS-1182"
    ds.RequestAttributesSequence = DicomSequence([request])
    keywords, innermost = nested_chain(3)
    innermost.ReferencedSOPInstanceUID = uid(1, 1, 998)
    innermost.PersonName = patient.name
    innermost.InstitutionName = patient.institution
    innermost.add_new(0x00091010, "LO", "PRIVATE IN SEQUENCE")
    return attach_chain(ds, keywords, innermost)


def add_private_tags(ds: Dataset, text: str = "") -> Dataset:
    """Vendor private blocks (with their creators) carrying the patient's details."""
    block = ds.private_block(0x0029, "ACME CSA HEADER", create=True)
    block.add_new(0x10, "OB", (text or PATIENT.name).encode("latin-1").ljust(32, b"\0"))
    block.add_new(0x11, "LO", text or PATIENT.hospital_number)
    other = ds.private_block(0x0019, "ACME 1.1", create=True)
    other.add_new(0x20, "DS", "3.5")
    inner = Dataset()
    inner_block = inner.private_block(0x0043, "ACME NESTED", create=True)
    inner_block.add_new(0x01, "LO", text or PATIENT.accession)
    other.add_new(0x21, "SQ", DicomSequence([inner]))
    return ds


def add_overlay(ds: Dataset, group: int = 0x6000) -> Dataset:
    """A graphics overlay (where PACS sometimes draws names) with an identifying comment."""
    ds.add_new((group << 16) | 0x0010, "US", 8)
    ds.add_new((group << 16) | 0x0011, "US", 8)
    ds.add_new((group << 16) | 0x0040, "CS", "G")
    ds.add_new((group << 16) | 0x0050, "SS", [1, 1])
    ds.add_new((group << 16) | 0x0100, "US", 1)
    ds.add_new((group << 16) | 0x0102, "US", 0)
    ds.add_new((group << 16) | 0x4000, "LT", f"Overlay for {PATIENT.name}")
    ds.add_new((group << 16) | 0x3000, "OW", b"\xff" * 8)
    return ds


def add_curve(ds: Dataset, group: int = 0x5000) -> Dataset:
    """A retired curve (50xx) with identifying text, as old modalities still write."""
    ds.add_new((group << 16) | 0x0005, "US", 1)
    ds.add_new((group << 16) | 0x0010, "US", 2)
    ds.add_new((group << 16) | 0x0020, "CS", "TAC")
    ds.add_new((group << 16) | 0x2500, "LO", f"Curve {PATIENT.hospital_number}")
    ds.add_new((group << 16) | 0x3000, "OW", struct.pack("<4H", 1, 2, 3, 4))
    return ds


def write(ds: Dataset, path: Path) -> Path:
    """Write as DICOM Part 10 (preamble + meta), creating folders; returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path
