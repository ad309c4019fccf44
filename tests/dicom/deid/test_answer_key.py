"""MIDI-B style answer key: every PS3.15 Table E.1-1 attribute, top level and 3 levels deep.

A planted value sits in each of the table's attributes (plus private tags with their creators,
overlays and curves, at both levels); after de-identification each is checked against what
the NCCID profile requires (see ``tests/dicom/deid/annex_e_key.py``) and scored per category. The
score must be 100%: one forgotten attribute is a leak.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset

from nccid_desktop.dicom.deid._annex_e import ROWS
from nccid_desktop.keys import SiteKeys
from nccid_desktop.pseudonym import date_shift_days, pseudonym_for, remap_uid
from tests.dicom import builders
from tests.dicom.deid import annex_e_key as key

TABLE_ROWS = 621  # PS3.15 Table E.1-1 as published (2025 snapshot of the innolitics table)


@dataclass(frozen=True)
class Run:
    source: Dataset
    output: Dataset
    output_path: Path
    second_output: Dataset
    items: list[key.Expectation]
    pseudonym: str


def _deidentify(ds: Dataset, folder: Path, name: str, keys: SiteKeys):
    from nccid_desktop.dicom.deid.one_file import DeidContext, deidentify_file

    source = builders.write(ds, folder / "source" / name)
    outcome = deidentify_file(source, folder / "out", DeidContext(keys=keys),
                              quarantine_dir=folder / "quarantine")
    assert outcome.status == "deidentified", (outcome.code, outcome.message)
    assert outcome.output is not None
    return outcome.output


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, site_keys: SiteKeys) -> Run:
    folder = tmp_path_factory.mktemp("answer-key")
    items = key.expectations()
    source = key.answer_key_dataset(items)
    first = _deidentify(source, folder, "IM1", site_keys)
    second = _deidentify(key.answer_key_dataset(items, other_instance=True), folder, "IM2",
                         site_keys)
    pseudonym = pseudonym_for(site_keys, hospital_number=builders.PATIENT.hospital_number)
    return Run(source, dcmread(first), first, dcmread(second), items, pseudonym)


def test_the_key_covers_the_whole_table() -> None:
    items = key.expectations()
    exact_rows = sum(1 for r in ROWS if len(r[0]) == 8 and "x" not in r[0])
    skipped = sum(1 for r in ROWS if len(r[0]) == 8 and "x" not in r[0]
                  and int(r[0], 16) >> 16 in key.SKIPPED_GROUPS)
    assert len(ROWS) == TABLE_ROWS
    per_level = Counter(i.level for i in items)
    assert per_level["nested"] == exact_rows - skipped
    assert per_level["top"] == exact_rows - skipped - len(key.RISK_KEYWORDS)


def test_every_attribute_scores_as_the_profile_requires(run: Run, site_keys: SiteKeys) -> None:
    shift = date_shift_days(site_keys, run.pseudonym)
    nested = key.nested_item(run.output)
    assert nested is not None, "the retained chain of sequences was not kept"
    totals: Counter[str] = Counter()
    passed: Counter[str] = Counter()
    failures: list[str] = []
    for exp in run.items:
        target = run.output if exp.level == "top" else nested
        seen = key.observe(target, exp, keys=site_keys, pseudonym=run.pseudonym,
                           shift_days=shift)
        totals[exp.category] += 1
        if seen in exp.accepted:
            passed[exp.category] += 1
        else:
            failures.append(f"{exp.keyword or hex(exp.tag)} ({exp.level}, {exp.vr}): expected "
                            f"{' or '.join(sorted(exp.accepted))}, got {seen}")
    score = "\n".join(f"  {c:<14} {passed[c]:>4}/{totals[c]:<4} "
                      f"{100 * passed[c] / totals[c]:6.2f}%" for c in sorted(totals))
    print(f"\nMIDI-B style score per category:\n{score}")
    assert not failures, f"{len(failures)} attribute(s) wrong:\n" + "\n".join(failures)


@pytest.mark.parametrize("level", ["top", "nested"])
def test_private_tags_overlays_and_curves_are_gone(run: Run, level: str) -> None:
    target = run.output if level == "top" else key.nested_item(run.output)
    assert target is not None
    for ds in _all_items(target):
        for elem in ds:
            assert not elem.tag.is_private, f"private {elem.tag} left ({level})"
            assert elem.tag.group & 0xFF00 not in (0x5000, 0x6000), f"{elem.tag} left ({level})"


def _all_items(ds: Dataset):
    yield ds
    for elem in ds:
        if elem.VR == "SQ":
            for item in elem.value:
                yield from _all_items(item)


def test_uids_are_the_sites_keyed_uids_and_consistent_across_files(run: Run,
                                                                   site_keys: SiteKeys) -> None:
    source, out, other = run.source, run.output, run.second_output
    for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID"):
        assert out[keyword].value == remap_uid(site_keys, source[keyword].value)
        assert other[keyword].value == out[keyword].value, keyword
    assert out.SOPInstanceUID == remap_uid(site_keys, source.SOPInstanceUID)
    assert other.SOPInstanceUID != out.SOPInstanceUID
    assert out.file_meta.MediaStorageSOPInstanceUID == out.SOPInstanceUID
    assert run.output_path.name == f"{out.SOPInstanceUID}.dcm"
    assert out.SOPClassUID == source.SOPClassUID


def test_identity_markers_are_set(run: Run) -> None:
    out = run.output
    assert out.PatientID == run.pseudonym
    assert str(out.PatientName) == run.pseudonym
    assert out.PatientIdentityRemoved == "YES"
    assert out.LongitudinalTemporalInformationModified == "MODIFIED"
    codes = {(i.CodeValue, i.CodingSchemeDesignator) for i in out.DeidentificationMethodCodeSequence}
    assert codes == {(c, "DCM") for c in ("113100", "113105", "113107", "113108", "113109")}
    assert out.DeidentificationMethod


def test_descriptors_naming_the_patient_are_removed_and_clean_ones_kept(
        tmp_path: Path, site_keys: SiteKeys) -> None:
    ds = builders.ct_slice()
    ds.StudyDescription = "CT CHEST for Fakenham"
    ds.SeriesDescription = f"Lung {builders.PATIENT.accession}"
    ds.ProtocolName = "CHEST ROUTINE"
    out = dcmread(_deidentify(ds, tmp_path, "IM1", site_keys))
    assert "StudyDescription" not in out
    assert "SeriesDescription" not in out
    assert out.ProtocolName == "CHEST ROUTINE"
    assert out.BodyPartExamined == "CHEST"


def test_patient_age_is_computed_from_birth_date_when_missing(tmp_path: Path,
                                                              site_keys: SiteKeys) -> None:
    ds = builders.ct_slice()  # born 1963-04-12, study 2020-11-03: 57 years
    assert "PatientAge" not in ds
    out = dcmread(_deidentify(ds, tmp_path, "IM1", site_keys))
    assert out.PatientAge == "057Y"
    assert out.PatientBirthDate == "19630101"
    assert out.PatientSex == "F"
    assert out.StudyDate == builders.STUDY_DATE


def test_other_dates_move_by_the_patients_offset(tmp_path: Path, site_keys: SiteKeys) -> None:
    ds = builders.ct_slice()
    ds.InstanceCreationDate = "20201104"
    ds.InstanceCreationTime = "093000"
    out = dcmread(_deidentify(ds, tmp_path, "IM1", site_keys))
    pseudonym = pseudonym_for(site_keys, hospital_number=builders.PATIENT.hospital_number)
    days = date_shift_days(site_keys, pseudonym)
    assert -1095 <= days <= -1
    assert out.InstanceCreationDate == key.shifted("20201104", days)
    assert out.InstanceCreationTime == "093000"
