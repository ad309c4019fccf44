"""Fixtures over :mod:`tests.dicom.builders`: a fictional patient's study on disk and the keys.

Why fixtures here and builders there: builders are plain functions that any test (or the
benchmark's corpus generator) can call with its own arguments; these fixtures are the common
cases, built fresh per test so no test can alter another's files.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from nccid_desktop.keys import SiteKeys
from nccid_desktop.pseudonym import pseudonym_for
from tests.dicom import builders


@pytest.fixture
def patient() -> builders.Patient:
    return builders.PATIENT


@pytest.fixture
def pseudonym(site_keys: SiteKeys, patient: builders.Patient) -> str:
    """The pseudonym the spreadsheet path computes for the patient's hospital number."""
    return pseudonym_for(site_keys, hospital_number=patient.hospital_number)


@pytest.fixture
def deid_context(site_keys: SiteKeys):
    """Engineer B's DeidContext for the test site (imported lazily: B's module may be absent)."""
    from nccid_desktop.dicom.deid.one_file import DeidContext

    return DeidContext(keys=site_keys)


@pytest.fixture
def ct_file(tmp_path: Path) -> Path:
    """One CT slice with identifiers at top level, in nested sequences, private tags, overlay."""
    ds = builders.ct_slice(instance=1)
    builders.add_nested_sequences(ds)
    builders.add_private_tags(ds)
    builders.add_overlay(ds)
    builders.add_curve(ds)
    return builders.write(ds, tmp_path / "source" / "FAKENHAM JOSEPHINE" / "CT" / "IM0001")


@pytest.fixture
def study_folder(tmp_path: Path) -> Path:
    """A small PACS export: 3 CT slices, a CR (RLE), a DX, an MR and a secondary capture."""
    root = tmp_path / "export" / "FAKENHAM^JOSEPHINE"
    for instance in (1, 2, 3):
        ds = builders.ct_slice(instance=instance)
        builders.add_nested_sequences(ds)
        builders.add_private_tags(ds)
        builders.write(ds, root / "CT" / f"IM{instance:04d}")
    builders.write(builders.compress_rle(builders.cr_image()), root / "CR" / "IM0001")
    builders.write(builders.dx_image(), root / "DX" / "IM0001.dcm")
    builders.write(builders.mr_image(), root / "MR" / "IM0001")
    builders.write(builders.secondary_capture(), root / "SC" / "IM0001")
    return root
