"""How fast ``nccid_desktop.dicom.scan.scanner`` reads a large PACS export, against simple floors.

Run: ``.venv/bin/python benchmarks/bench_scan.py [--files 10000] [--rows 16] [--workers N]
[--keep DIR]``

Generates a folder of synthetic CT files (realistic headers of about 90 attributes, 16x16
pixels unless ``--rows 512`` asks for real CT-sized files, no ``.dcm`` suffix,
patient/study/series sub-folders as PACS exports them), then, in one run and on a warm
cache, times:

* ``walk+read132``: ``os.walk`` and reading the first 132 bytes of every file (the floor: a
  scanner cannot do less and still know which files are DICOM);
* ``pydicom loop``: one process calling ``dcmread(stop_before_pixels=True)`` on every file;
* ``scan``: ours as the app calls it (one process below ``PARALLEL_THRESHOLD`` files);
* ``scan pool w=N``: ours forced onto N spawned worker processes, start-up included.

Reports files/s, ratios against the floor and the pydicom loop, and peak resident memory
(this process; and the largest worker). Not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nccid_desktop.dicom.scan import scanner as scan_module
from nccid_desktop.dicom.scan.scanner import scan

UID_WIDTH = 12
PLACEHOLDER = "9" * UID_WIDTH
ROOT = "1.2.826.0.1.3680043.10.1234"


def _template(patient: int, series: int, rows: int) -> bytes:
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ds.SOPInstanceUID = f"{ROOT}.3.{PLACEHOLDER}"
    for keyword in ("StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate"):
        setattr(ds, keyword, "20200310")
    for keyword in ("StudyTime", "SeriesTime", "AcquisitionTime", "ContentTime"):
        setattr(ds, keyword, "101500")
    ds.AccessionNumber = f"ACC{patient:06d}"
    ds.Modality = "CT"
    ds.Manufacturer = "ACME"
    ds.InstitutionName = "General Hospital"
    ds.ReferringPhysicianName = "WHO^DOCTOR"
    ds.StudyDescription = "CT CHEST"
    ds.SeriesDescription = f"AXIAL {series}"
    ds.ManufacturerModelName = "Scanner 9000"
    ds.PatientName = f"PATIENT^NUMBER{patient}"
    ds.PatientID = f"RR{patient:06d}"
    ds.PatientBirthDate = "19600101"
    ds.PatientSex = "F"
    ds.PatientAge = "060Y"
    ds.BodyPartExamined = "CHEST"
    ds.SliceThickness = "1.0"
    ds.KVP = "120"
    ds.ProtocolName = "CHEST ROUTINE"
    ds.StudyInstanceUID = f"{ROOT}.1.{patient}"
    ds.SeriesInstanceUID = f"{ROOT}.2.{patient}.{series}"
    ds.StudyID = "1"
    ds.SeriesNumber = series
    ds.InstanceNumber = 1
    ds.ImagePositionPatient = [0, 0, 0]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.FrameOfReferenceUID = f"{ROOT}.4.{patient}"
    ds.SliceLocation = "0"
    ref = Dataset()
    ref.ReferencedSOPClassUID = ds.SOPClassUID
    ref.ReferencedSOPInstanceUID = f"{ROOT}.5.{patient}"
    ds.ReferencedImageSequence = [ref]
    for number in range(40):  # the bulk of a real CT header: many small numeric attributes
        ds.add_new((0x0019, 0x1000 + number), "DS", str(number))
    ds.add_new((0x0019, 0x0010), "LO", "ACME PRIVATE")
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = ds.Columns = rows
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1
    ds.RescaleIntercept = "-1024"
    ds.RescaleSlope = "1"
    ds.PixelData = bytes(rows * rows * 2)
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    buffer = io.BytesIO()
    pydicom.dcmwrite(buffer, ds, enforce_file_format=True)
    return buffer.getvalue()


def generate(folder: Path, files: int, rows: int = 16, per_series: int = 250,
             series_per_patient: int = 4) -> None:
    """``files`` CT slices, ``per_series`` a series, ``series_per_patient`` series a patient."""
    placeholder = PLACEHOLDER.encode()
    written = 0
    patient = 0
    while written < files:
        patient += 1
        for series in range(1, series_per_patient + 1):
            template = _template(patient, series, rows)
            target = folder / f"PATIENT{patient:04d}" / "STUDY1" / f"SERIES{series}"
            target.mkdir(parents=True, exist_ok=True)
            for _ in range(min(per_series, files - written)):
                uid = str(written).zfill(UID_WIDTH).encode()
                (target / f"IM{written:06d}").write_bytes(template.replace(placeholder, uid))
                written += 1
            if written >= files:
                return


def bare_read(folder: Path) -> int:
    count = 0
    for parent, _dirs, names in os.walk(folder):
        for name in names:
            with open(os.path.join(parent, name), "rb") as handle:
                handle.read(132)
            count += 1
    return count


def pydicom_loop(folder: Path) -> int:
    count = 0
    for parent, _dirs, names in os.walk(folder):
        for name in names:
            pydicom.dcmread(os.path.join(parent, name), stop_before_pixels=True)
            count += 1
    return count


def _pooled(folder: Path, workers: int) -> int:
    threshold = scan_module.PARALLEL_THRESHOLD
    scan_module.PARALLEL_THRESHOLD = 0
    try:
        return scan([folder], workers=workers).instance_count
    finally:
        scan_module.PARALLEL_THRESHOLD = threshold


def timed(label: str, run: Callable[[], int], repeats: int) -> tuple[str, float, int]:
    best = float("inf")
    count = 0
    for _ in range(repeats):
        start = time.perf_counter()
        count = run()
        best = min(best, time.perf_counter() - start)
    return label, best, count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--rows", type=int, default=16,
                        help="image rows and columns (512 gives real CT-sized files)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeats", type=int, default=3, help="best of N runs (default 3)")
    parser.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    args = parser.parse_args(argv)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="nccid-bench-scan-"))
    try:
        if not any(folder.rglob("IM*")):
            generate(folder, args.files, args.rows)
        bare_read(folder)  # warm the page cache
        results = [
            timed("walk+read132", lambda: bare_read(folder), args.repeats),
            timed("pydicom loop", lambda: pydicom_loop(folder), args.repeats),
            timed("scan", lambda: scan([folder], workers=args.workers).instance_count,
                  args.repeats),
            timed(f"scan pool w={args.workers}", lambda: _pooled(folder, args.workers),
                  args.repeats),
        ]
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    floor = results[0][2] / results[0][1]
    loop = results[1][2] / results[1][1]
    print(f"{'':17} {'files':>7} {'seconds':>8} {'files/s':>9} {'vs floor':>9} {'vs pydicom':>11}")
    for label, seconds, count in results:
        rate = count / seconds
        print(f"{label:17} {count:7d} {seconds:8.2f} {rate:9.0f} {rate / floor:9.3f} "
              f"{rate / loop:11.2f}")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak memory: this process {own:.0f} MB, largest worker {workers:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
