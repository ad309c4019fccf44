"""Files sharing a SOP Instance UID: one image used once, different images held back.

Before: the scan kept the first file with a UID and called every later one "the same image
found twice", so a second patient's image carrying the same UID vanished without a word.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nccid_desktop.dicom.scan.report import report_json, report_text
from nccid_desktop.dicom.scan.scanner import scan
from nccid_desktop.dicom.select.rules import SelectionInputs, select
from nccid_desktop.pseudonym import remap_uid
from tests.dicom import builders

CONFLICT = "Two different images share one identifier: ask PACS to re-export them."
OTHER = builders.Patient(hospital_number="RR87654321", name="OTHERSON^PAT",
                         nhs_number="4010232137")


def _image(instance: int, *, patient: builders.Patient = builders.PATIENT, uid: str | None = None,
           series: int = 1):
    ds = builders.ct_slice(instance=instance, patient=patient, series=series)
    if patient is not builders.PATIENT:
        ds.StudyInstanceUID = builders.uid(7, instance)
        ds.SeriesInstanceUID = builders.uid(7, instance, 1)
    if uid is not None:
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = uid
    return ds


@pytest.fixture
def clash(tmp_path: Path) -> Path:
    """Two patients' images that PACS exported with one SOP Instance UID."""
    shared = builders.uid(1, 1, 1)
    builders.write(_image(1), tmp_path / "drop" / "A" / "IM1")
    builders.write(_image(5, patient=OTHER, uid=shared), tmp_path / "drop" / "B" / "IM1")
    return tmp_path / "drop"


def test_two_different_images_with_one_uid_are_both_held_back(clash, site_keys):
    result = scan([clash], workers=1)
    assert result.instance_count == 2 and len(result.patients) == 2
    assert result.skipped_counts()["duplicate"] == 0
    held = result.held_back
    assert sorted(f.source.path.parent.name for f in held) == ["A", "B"]
    assert {f.hold for f in held} == {"uid_conflict"}
    selection = select(result, SelectionInputs(keys=site_keys))
    assert [d.code for d in selection.decisions] == ["uid_conflict", "uid_conflict"]
    assert {d.reason for d in selection.decisions} == {CONFLICT}
    assert selection.files_to_send() == []


def test_the_reports_show_the_held_back_images(clash, site_keys):
    result = scan([clash], workers=1)
    selection = select(result, SelectionInputs(keys=site_keys))
    text = "\n".join(report_text(result, selection))
    assert f"Held back: 2 images. {CONFLICT}" in text
    assert f"{clash / 'A' / 'IM1'}: {CONFLICT}" in text
    assert "Will send 0 images" in text
    report = report_json(result, selection, keys=site_keys)
    assert report["summary"]["held_back_images"] == 2
    assert report["summary"]["included_images"] == 0
    shared = remap_uid(site_keys, builders.uid(1, 1, 1))
    assert report["held_back"] == [{"code": "uid_conflict", "reason": CONFLICT,
                                    "sop_instance_uid": shared}] * 2
    assert "RR87654321" not in json.dumps(report) and str(clash) not in json.dumps(report)
    series = [s for p in report["patients"] for st in p["studies"] for s in st["series"]]
    assert [s["held_back"] for s in series] == [1, 1]


def test_a_series_with_one_held_back_image_sends_the_others_and_says_so(tmp_path, site_keys):
    for instance in (1, 2, 3):
        builders.write(_image(instance), tmp_path / "A" / f"IM{instance}")
    builders.write(_image(9, patient=OTHER, uid=builders.uid(1, 1, 2)), tmp_path / "B" / "IM1")
    result = scan([tmp_path], workers=1)
    decision = select(result, SelectionInputs(keys=site_keys)).decisions[0]
    assert decision.included and decision.images_to_send == 2
    assert any(w.startswith("1 of 3 images are held back") for w in decision.warnings)
    assert builders.uid(1, 1, 2) not in {f.sop_instance_uid for f in decision.files}


def test_a_folder_dropped_with_its_own_zip_is_one_image(tmp_path):
    from tests.faults import bombs

    path = builders.write(_image(1), tmp_path / "export" / "IM1")
    bombs.write_zip(tmp_path / "export.zip", [bombs.plain("IM1", path.read_bytes())])
    result = scan([tmp_path / "export", tmp_path / "export.zip"], workers=1)
    assert result.instance_count == 1 and result.held_back == ()
    assert [s.kind for s in result.skipped] == ["duplicate"]


def test_a_re_export_that_only_changed_the_file_meta_is_one_image(tmp_path):
    """Different bytes, same image once de-identified: a duplicate, not a conflict."""
    builders.write(_image(1), tmp_path / "first" / "IM1")
    again = _image(1)
    again.file_meta.ImplementationVersionName = "OTHERPACS"
    builders.add_private_tags(again)
    builders.write(again, tmp_path / "second" / "IM1")
    assert (tmp_path / "first" / "IM1").read_bytes() != (tmp_path / "second" / "IM1").read_bytes()
    result = scan([tmp_path], workers=1)
    assert result.instance_count == 1 and result.held_back == ()
    assert [s.kind for s in result.skipped] == ["duplicate"]


def test_copies_of_conflicting_images_are_duplicates_and_each_image_held_once(tmp_path):
    shared = builders.uid(1, 1, 1)
    first = builders.write(_image(1), tmp_path / "1" / "IM")
    (tmp_path / "2").mkdir()
    (tmp_path / "2" / "IM").write_bytes(first.read_bytes())
    builders.write(_image(4, patient=OTHER, uid=shared), tmp_path / "3" / "IM")
    result = scan([tmp_path], workers=1)
    assert len(result.held_back) == 2 and result.instance_count == 2
    assert [s.kind for s in result.skipped] == ["duplicate"]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2)), min_size=1, max_size=9),
       st.randoms(use_true_random=False))
def test_every_file_is_counted_once_and_no_sent_image_shares_a_uid(tmp_path_factory, files,
                                                                   rng: random.Random):
    """Any mix of copies and clashes: each file is an image, a duplicate or held back; the
    images that may be sent have distinct UIDs; held-back images differ pairwise."""
    root = tmp_path_factory.mktemp("mix")
    patients = [builders.PATIENT, OTHER, builders.Patient(hospital_number="RR11112222")]
    for number, (uid_index, patient_index) in enumerate(files):
        ds = _image(1, patient=patients[patient_index], uid=builders.uid(9, uid_index))
        builders.write(ds, root / f"{rng.randrange(10**6):06d}-{number}")
    result = scan([root], workers=1)
    counts = result.skipped_counts()
    assert result.instance_count + counts["duplicate"] == len(files)
    sendable = [f.sop_instance_uid for _, _, se in result.iter_series() for f in se.files
                if f.hold is None]
    assert len(sendable) == len(set(sendable))
    distinct = {(u, p) for u, p in files}
    assert result.instance_count == len(distinct)
    clashing = {u for u, _ in distinct if sum(1 for x, _ in distinct if x == u) > 1}
    assert {f.sop_instance_uid for f in result.held_back} == {builders.uid(9, u)
                                                              for u in clashing}
