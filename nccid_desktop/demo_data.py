"""Made-up sample data for demo mode: three sheets and a folder of chest images that match.

Why generated and not shipped: the sheets come from the app's own template writer (so they
always match the validator), and every value is synthetic (fictional names, NHS numbers that
pass the check digit but are generated from a seed). The Main sheet with problems has a few
deliberate, typical mistakes; the clean Main sheet and the Status sheet upload as they are; the
image folder's PatientIDs are the sheets' hospital numbers, so linking, date windows and the
other selection reasons all show up in Send Images. Qt-free, and used by the tests too.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian

from nccid_desktop.identifiers import nhs_check_digit
from nccid_desktop.sheets.definitions import MAIN, STATUS, Template
from nccid_desktop.sheets.writer import build_template

#: A root for synthetic UIDs (2.25 + a fixed number: never a real device's root).
DEMO_UID_ROOT = "2.25.31415926535897932384626"
CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
CR_IMAGE = "1.2.840.10008.5.1.4.1.1.1"
MR_IMAGE = "1.2.840.10008.5.1.4.1.1.4"
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
NAMES = ("ALDERTON^MAVIS", "BRIGHTWELL^ODO", "CROWHURST^PELL", "DUNSFOLD^RHEA",
         "EWHURST^TOBIAS", "FARNCOMBE^IDA", "GOMSHALL^ROLF", "HASCOMBE^VERA", "IFOLD^CASS")


@dataclass(frozen=True)
class DemoPatient:
    seed: int
    nhs_number: str
    hospital_number: str
    name: str
    test_date: date


@dataclass(frozen=True)
class DemoData:
    folder: Path
    main_with_problems: Path
    main_clean: Path
    status: Path
    images: Path
    positives: tuple[DemoPatient, ...]
    negatives: tuple[DemoPatient, ...]
    unlinked: DemoPatient


def demo_nhs_number(seed: int) -> str:
    """A valid-looking number from the 999 range the NHS reserves for testing: never a person."""
    base = 999_000_000 + (seed * 104729) % 1_000_000
    while True:
        first_nine = f"{base:09d}"
        check = nhs_check_digit(first_nine)
        if check is not None:
            return first_nine + str(check)
        base += 1


def demo_patient(seed: int, today: date) -> DemoPatient:
    """A made-up patient tested 20 to 39 days ago: old enough for outcomes to be known (the
    sheet check warns about swabs under 14 days old)."""
    return DemoPatient(seed, demo_nhs_number(seed), f"RR{seed:08d}", NAMES[seed % len(NAMES)],
                       today - timedelta(days=20 + seed % 20))


def _main_values(patient: DemoPatient, rng: random.Random) -> dict[str, Any]:
    swab = patient.test_date
    return {
        "nhs": patient.nhs_number, "hospital": patient.hospital_number,
        "Hospital": "Royal Surrey (demo)", "Age": rng.randint(25, 90), "Sex": rng.randint(0, 1),
        "Smoking status": rng.randint(0, 3), "Pack year history": rng.randint(0, 30),
        "PMH hypertension": rng.randint(0, 2), "PMH CVS disease": 0, "PMH Lung disease": 0,
        "PMH CKD": 0, "PMH diabetes mellitus type II": rng.randint(0, 1), "Current ACEi use": 0,
        "Current Angiotension receptor blocker use": 0, "Current NSAID used": 0,
        "Ethnicity": rng.choice("ABCDHJKLMNPRS"), "Date of Positive Covid Swab": swab,
        "Date of acquisition of 1st RT-PCR": swab,
        "Date of result of 1st RT-PCR": swab + timedelta(days=1), "1st RT-PCR result": 1,
        "Final COVID Status": 1, "Date of admission": swab, "Duration of symptoms": rng.randint(1, 10),
        "Respiratory rate on admission": rng.randint(14, 30), "Heart rate on admission": 90,
        "FiO2": 21, "O2 saturation": rng.randint(88, 99), "Systolic BP": 125, "Diastolic BP": 80,
        "Temperature on admission": 37.9, "NEWS2 score on arrival": rng.randint(0, 8),
        "CRP on admission": rng.randint(5, 200), "Date of 1st CXR": swab + timedelta(days=1),
        "CXR severity": rng.randint(1, 3), "COVID CODE": 1, "ITU admission": 0, "Intubation": 0,
        "Death": 0, "Date last known alive": swab + timedelta(days=7),
    }


def _status_values(patient: DemoPatient) -> dict[str, Any]:
    return {"nhs": patient.nhs_number, "hospital": patient.hospital_number,
            "SwabDate": patient.test_date, "SwabStatus": 0}


def _row(template: Template, values: Mapping[str, Any]) -> list[Any]:
    return [values.get(c.key if c.key is not None else c.kind) for c in template.columns]


def write_sheet(path: Path, template: Template, rows: Sequence[Mapping[str, Any]]) -> Path:
    """Our own blank template (drop-downs, marker), filled with ``rows``."""
    workbook = build_template(template)
    sheet = workbook.worksheets[0]
    for values in rows:
        sheet.append(_row(template, values))
    workbook.save(path)
    return path


def _dataset(patient: DemoPatient, modality: str, sop_class: str, study: int, series: int,
             instance: int, day: date, body_part: str, description: str) -> Dataset:
    prefix = f"{DEMO_UID_ROOT}.{patient.seed}.{study}"
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = UID(sop_class)
    ds.file_meta.MediaStorageSOPInstanceUID = UID(f"{prefix}.{series}.{instance}")
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = UID(sop_class)
    ds.SOPInstanceUID = UID(f"{prefix}.{series}.{instance}")
    ds.StudyInstanceUID, ds.SeriesInstanceUID = UID(prefix), UID(f"{prefix}.{series}")
    ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = day.strftime("%Y%m%d")
    ds.StudyTime = "101500"
    ds.Modality, ds.BodyPartExamined = modality, body_part
    ds.StudyDescription = ds.SeriesDescription = description
    ds.PatientName, ds.PatientID = patient.name, patient.hospital_number
    ds.PatientBirthDate, ds.PatientSex = "19600101", "F" if patient.seed % 2 else "M"
    ds.AccessionNumber, ds.InstitutionName = f"DEMO{patient.seed:04d}{study}", "Demo Hospital"
    ds.Manufacturer, ds.ManufacturerModelName = "Demo Imaging", "Synthetic 1"
    ds.SeriesNumber, ds.InstanceNumber = series, instance
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.Rows = ds.Columns = 64
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = bytes((i * 7 + instance) % 256 for i in range(64 * 64 * 2))
    if sop_class == SECONDARY_CAPTURE:
        ds.ConversionType = "WSD"
    return ds


def write_images(folder: Path, positives: tuple[DemoPatient, ...],
                 negatives: tuple[DemoPatient, ...], unlinked: DemoPatient,
                 ct_slices: int = 12) -> Path:
    """A PACS-like export: one folder per study, files without extension."""
    plans: list[tuple[DemoPatient, str, str, int, int, date, str, str]] = []
    first, second, third = positives[0], positives[1], positives[2]
    plans += [(first, "CT", CT_IMAGE, 1, 1, first.test_date + timedelta(days=1), "CHEST", "CT CHEST")]
    plans += [(first, "MR", MR_IMAGE, 2, 1, first.test_date + timedelta(days=3), "HEAD", "MR HEAD")]
    plans += [(second, "CR", CR_IMAGE, 1, 1, second.test_date, "CHEST", "CXR PA")]
    plans += [(second, "CT", SECONDARY_CAPTURE, 2, 9, second.test_date, "CHEST", "DOSE REPORT")]
    plans += [(third, "CR", CR_IMAGE, 1, 1, third.test_date - timedelta(days=4 * 365), "CHEST",
               "CXR AP (old)")]
    plans += [(negatives[0], "CR", CR_IMAGE, 1, 1, negatives[0].test_date, "CHEST", "CXR PA")]
    plans += [(unlinked, "CR", CR_IMAGE, 1, 1, unlinked.test_date, "CHEST", "CXR PA")]
    for patient, modality, sop_class, study, series, day, part, description in plans:
        count = ct_slices if modality == "CT" else 1
        target = folder / f"{patient.hospital_number}_{study}"
        target.mkdir(parents=True, exist_ok=True)
        for instance in range(1, count + 1):
            ds = _dataset(patient, modality, sop_class, study, series, instance, day, part,
                          description)
            ds.save_as(target / f"IM{series:02d}{instance:04d}", enforce_file_format=True)
    return folder


def generate_demo_data(folder: Path, today: date | None = None) -> DemoData:
    """Write the demo sheets and image folder under ``folder`` (replacing earlier ones)."""
    today = today or date.today()
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(2020)
    positives = tuple(demo_patient(seed, today) for seed in range(1, 7))
    negatives = tuple(demo_patient(seed, today) for seed in range(11, 14))
    unlinked = demo_patient(99, today)
    rows = [_main_values(p, rng) for p in positives]
    main_clean = write_sheet(folder / "Main sheet (clean).xlsx", MAIN, rows)
    broken = [dict(r) for r in rows]
    broken[1]["Age"] = "sixty"
    broken[3]["Sex"] = 2
    broken[4]["Date of admission"] = "31/02/2026"
    broken[5]["nhs"] = broken[5]["nhs"][:-1] + str((int(broken[5]["nhs"][-1]) + 1) % 10)
    main_problems = write_sheet(folder / "Main sheet (with problems).xlsx", MAIN, broken)
    status = write_sheet(folder / "Covid Status sheet.xlsx", STATUS,
                         [_status_values(p) for p in negatives])
    images = write_images(folder / "PACS export", positives, negatives, unlinked)
    return DemoData(folder, main_problems, main_clean, status, images, positives, negatives,
                    unlinked)
