"""Write the synthetic DICOM samples the installed app's self-test de-identifies.

Why shipped files and not generated at run time: the self-test must prove that the bundle can
*read* a Part-10 file it did not write itself, exactly as it will read a PACS export. Why a
script: the files are made-up (no real patient, a fixed 2.25 UID root), small (64 x 64
pixels), and byte-for-byte reproducible, so ``--check`` (and a test) proves the committed
copies are what this script writes.

Usage: ``python tools/make_samples.py`` (rewrite) or ``python tools/make_samples.py --check``.
"""

from __future__ import annotations

import argparse
import io
import sys
from dataclasses import dataclass
from pathlib import Path

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian

ROOT = Path(__file__).resolve().parents[1]
SAMPLES_DIR = ROOT / "resources" / "samples"
UID_ROOT = "2.25.27182818284590452353602874"
IMPLEMENTATION_UID = f"{UID_ROOT}.0"

#: The made-up identifiers in every sample: the self-test proves none survives de-identification.
PATIENT_NAME = "SELFTEST^SAMPLE^QUINCE"
PATIENT_ID = "ST00000001"
BIRTH_DATE = "19580317"
ACCESSION = "STACC0001"
INSTITUTION = "Self-Test General Hospital"


@dataclass(frozen=True)
class Sample:
    file_name: str
    modality: str
    sop_class: str
    series: int
    description: str


SAMPLES = (
    Sample("sample-cr.dcm", "CR", "1.2.840.10008.5.1.4.1.1.1", 1, "CXR PA"),
    Sample("sample-ct.dcm", "CT", "1.2.840.10008.5.1.4.1.1.2", 2, "CT CHEST"),
)


def sample_dataset(sample: Sample) -> Dataset:
    """One chest image of the made-up patient, with the headers a PACS export carries."""
    instance_uid = f"{UID_ROOT}.1.{sample.series}.1"
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = UID(sample.sop_class)
    ds.file_meta.MediaStorageSOPInstanceUID = UID(instance_uid)
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.ImplementationClassUID = UID(IMPLEMENTATION_UID)
    ds.file_meta.ImplementationVersionName = "NCCID_SAMPLES"
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID, ds.SOPInstanceUID = UID(sample.sop_class), UID(instance_uid)
    ds.StudyInstanceUID = UID(f"{UID_ROOT}.1")
    ds.SeriesInstanceUID = UID(f"{UID_ROOT}.1.{sample.series}")
    ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = "20201103"
    ds.StudyTime, ds.StudyID = "093000", "1"
    ds.Modality, ds.BodyPartExamined = sample.modality, "CHEST"
    ds.StudyDescription = ds.SeriesDescription = sample.description
    ds.PatientName, ds.PatientID = PATIENT_NAME, PATIENT_ID
    ds.PatientBirthDate, ds.PatientSex = BIRTH_DATE, "F"
    ds.AccessionNumber, ds.InstitutionName = ACCESSION, INSTITUTION
    ds.ReferringPhysicianName = "WHITLOCK^DR"
    ds.Manufacturer, ds.ManufacturerModelName = "Self-Test Imaging", "Synthetic 1"
    ds.SeriesNumber, ds.InstanceNumber = sample.series, 1
    ds.PatientOrientation = ["L", "F"]
    if sample.modality == "CR":
        ds.ViewPosition = "PA"
    else:
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.RescaleIntercept, ds.RescaleSlope, ds.KVP, ds.AcquisitionNumber = -1024, 1, 120, 1
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.Rows = ds.Columns = 64
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = bytes((i * 13 + sample.series) % 256 for i in range(64 * 64 * 2))
    return ds


def sample_bytes(sample: Sample) -> bytes:
    buffer = io.BytesIO()
    sample_dataset(sample).save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def stale_samples(folder: Path = SAMPLES_DIR) -> list[str]:
    """Names of samples that are missing or differ from what this script writes."""
    return [s.file_name for s in SAMPLES
            if not (folder / s.file_name).is_file()
            or (folder / s.file_name).read_bytes() != sample_bytes(s)]


def write_samples(folder: Path = SAMPLES_DIR) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for sample in SAMPLES:
        path = folder / sample.file_name
        path.write_bytes(sample_bytes(sample))
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if the committed samples differ from what this script writes")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_samples()
        if stale:
            print("Out of date: " + ", ".join(stale) + " (run python tools/make_samples.py)")
            return 1
        print("Samples are up to date.")
        return 0
    for path in write_samples():
        print(f"Wrote {path.relative_to(ROOT)} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
