"""Generated DICOM corpora for the de-identification benchmark (``bench_deid.py``).

Why generated: real chest imaging cannot be shipped, and the peers' numbers in
``spec/peers.md`` were measured on corpora of this shape. Headers are realistic (patient,
study, series, equipment, nested sequences with identifiers three levels deep, vendor private
blocks) because the cost of de-identifying a CT slice is per element, not per byte.

* ``ct512``: 500 CT slices, 512 x 512, 16-bit (about 525 KB each), 5 patients, no ``.dcm``.
* ``dx``: 30 chest X-rays of 2290 x 2290, 16-bit (about 10 MB each), 30 patients.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

from pydicom.dataset import Dataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.dicom import builders

CT_SLICES = 500
CT_PATIENTS = 5
DX_FILES = 30
DX_SIZE = 2290


def _patient(index: int) -> builders.Patient:
    return builders.Patient(hospital_number=f"RR{10000000 + index:08d}",
                            name=f"BENCHMARK^PATIENT{index:03d}",
                            accession=f"ACC{55000000 + index}")


def _realistic(ds: Dataset, patient: builders.Patient) -> Dataset:
    builders.add_nested_sequences(ds, patient)
    return builders.add_private_tags(ds)


def ct_dataset(index: int, count: int = CT_SLICES) -> tuple[str, Dataset]:
    per_patient = max(1, count // CT_PATIENTS)
    patient = _patient(index // per_patient)
    ds = builders.ct_slice(instance=index + 1, rows=512, columns=512, patient=patient)
    ds.StudyInstanceUID = builders.uid(7, index // per_patient)
    ds.SeriesInstanceUID = builders.uid(7, index // per_patient, 1)
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = builders.uid(7, 1, index)
    folder = f"{patient.name.replace('^', ' ')}/CT/IM{index:05d}"
    return folder, _realistic(ds, patient)


def dx_dataset(index: int, count: int = DX_FILES) -> tuple[str, Dataset]:
    patient = _patient(100 + index)
    ds = builders.dx_image(instance=1, rows=DX_SIZE, columns=DX_SIZE, patient=patient)
    ds.StudyInstanceUID = builders.uid(6, index)
    ds.SeriesInstanceUID = builders.uid(6, index, 1)
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = builders.uid(6, index, 1, 1)
    return f"{patient.name.replace('^', ' ')}/DX/IM00001.dcm", _realistic(ds, patient)


CORPORA: dict[str, tuple[int, Callable[[int, int], tuple[str, Dataset]]]] = {
    "ct512": (CT_SLICES, ct_dataset),
    "dx": (DX_FILES, dx_dataset),
}


def ensure_corpus(name: str, root: Path, count: int | None = None) -> Path:
    """The corpus folder under ``root``, generated once (a marker file records completion)."""
    default_count, make = CORPORA[name]
    count = count or default_count
    folder = root / f"{name}-{count}"
    marker = root / f".{name}-{count}.done"
    if marker.exists():
        return folder
    for index in range(count):
        relative, ds = make(index, count)
        builders.write(ds, folder / relative)
    marker.write_text("ok\n")
    return folder


def flat_view(folder: Path) -> Path:
    """The corpus as ``<n>.dcm`` hard links in one folder: every contender gets the same
    input, including peers that neither recurse nor read files without ``.dcm``."""
    flat = folder.with_name(folder.name + "-flat")
    if flat.exists():
        return flat
    flat.mkdir()
    for index, path in enumerate(sorted(p for p in folder.rglob("*") if p.is_file())):
        os.link(path, flat / f"{index:05d}.dcm")
    return flat


def corpus_size(folder: Path) -> tuple[int, int]:
    """(files, bytes) of a corpus folder."""
    files = [p for p in folder.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)
