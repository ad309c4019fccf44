"""De-identifying files that share a SOP Instance UID: never one over another, counts true.

Before: `nccid deid` printed "2 files de-identified for 2 patients" and wrote one file, the
second image silently replacing the first in staging.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nccid_desktop.cli import main
from nccid_desktop.dicom.deid import staging
from nccid_desktop.dicom.deid.audit import file_entry
from nccid_desktop.dicom.deid.one_file import deidentify_file
from nccid_desktop.dicom.deid.pipeline import deidentify_batch
from nccid_desktop.dicom.scan.sources import SourceFile, iter_sources
from tests.dicom import builders

CONFLICT = "Two different images share one identifier: ask PACS to re-export them."
OTHER = builders.Patient(hospital_number="RR87654321", name="OTHERSON^PAT")
SHARED = builders.uid(1, 1, 1)


def _image(instance: int, patient: builders.Patient = builders.PATIENT, uid: str = SHARED):
    ds = builders.ct_slice(instance=instance, patient=patient)
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = uid
    return ds


@pytest.fixture
def clash(tmp_path: Path) -> Path:
    builders.write(_image(1), tmp_path / "drop" / "A" / "IM1")
    builders.write(_image(5, OTHER), tmp_path / "drop" / "B" / "IM1")
    return tmp_path / "drop"


def _staged(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.dcm")) if folder.exists() else []


def test_the_issues_example_prints_what_it_wrote(clash, tmp_path, key_file, capsys):
    staging_dir = tmp_path / "run" / "staging"
    code = main(["deid", str(clash), "--out", str(staging_dir), "--key-file", str(key_file),
                 "--site", "RSH", "--workers", "1"])
    out = capsys.readouterr().out
    assert code == 1
    assert out.startswith("0 files de-identified for 0 patients")
    assert "2 files held back (not sent):" in out
    assert f"{clash / 'A' / 'IM1'}: {CONFLICT}" in out
    assert f"{clash / 'B' / 'IM1'}: {CONFLICT}" in out
    assert _staged(staging_dir) == []


@pytest.mark.parametrize("workers", [1, 2])
def test_counts_printed_equal_files_written(clash, tmp_path, key_file, capsys, workers):
    """Conflicts, copies and ordinary images together, inline and in a pool."""
    builders.write(_image(1), tmp_path / "drop" / "C" / "IM1")  # a copy of A
    for n in (2, 3):
        builders.write(_image(n, uid=builders.uid(1, 1, n)), tmp_path / "drop" / "D" / f"IM{n}")
    staging_dir = tmp_path / f"staging{workers}"
    code = main(["deid", str(clash), "--out", str(staging_dir), "--key-file", str(key_file),
                 "--site", "RSH", "--workers", str(workers), "--format", "json",
                 "--audit", str(tmp_path / "audit.json")])
    summary = json.loads(capsys.readouterr().out)
    assert code == 1
    assert summary["deidentified"] == len(_staged(staging_dir)) == 2
    assert summary["held_back"] == 2 and summary["duplicates"] == 1
    assert summary["held_back_by_reason"] == {"uid_conflict": 2}
    audit = json.loads((tmp_path / "audit.json").read_text())
    held = [f for f in audit["files"] if f["status"] == "held_back"]
    assert [f["reason"] for f in held] == [CONFLICT, CONFLICT]
    assert len({f["key"] for f in held}) == 2  # each file its own key
    assert audit["counts"]["duplicate"] == 1 and audit["held_back_by_reason"] == {
        "uid_conflict": 2}


def test_byte_identical_copies_are_one_image(tmp_path, deid_context):
    path = builders.write(_image(1), tmp_path / "src" / "IM1")
    (tmp_path / "src" / "IM1-copy").write_bytes(path.read_bytes())
    report = deidentify_batch(list(iter_sources([tmp_path / "src"])), tmp_path / "out",
                              deid_context, workers=1)
    assert (report.counts["deidentified"], report.counts["duplicate"]) == (1, 1)
    assert len(_staged(tmp_path / "out")) == 1


def test_copies_that_differ_only_before_de_identification_are_one_image(tmp_path,
                                                                        deid_context):
    builders.write(_image(1), tmp_path / "src" / "IM1")
    again = _image(1)
    again.file_meta.ImplementationVersionName = "OTHERPACS"
    builders.add_private_tags(again)
    builders.write(again, tmp_path / "src" / "IM2")
    report = deidentify_batch(list(iter_sources([tmp_path / "src"])), tmp_path / "out",
                              deid_context, workers=1)
    assert (report.counts["deidentified"], report.counts["duplicate"]) == (1, 1)


def test_a_staged_file_is_never_replaced_by_a_different_one(tmp_path, deid_context):
    """An earlier run staged A; B arrives with A's UID: B is held back, A stays as it was."""
    first = deidentify_file(builders.write(_image(1), tmp_path / "A"), tmp_path / "out",
                            deid_context)
    assert first.status == "deidentified" and first.output is not None
    before = first.output.read_bytes()
    second = deidentify_file(builders.write(_image(5, OTHER), tmp_path / "B"), tmp_path / "out",
                             deid_context)
    assert (second.status, second.code, second.message) == ("held_back", "uid_conflict",
                                                            CONFLICT)
    assert first.output.read_bytes() == before
    assert file_entry(second)["key"].startswith("sha256:")


def test_running_again_on_the_same_files_is_idempotent(tmp_path, deid_context):
    builders.write(_image(1), tmp_path / "src" / "IM1")
    sources = list(iter_sources([tmp_path / "src"]))
    for _ in range(2):
        report = deidentify_batch(sources, tmp_path / "out", deid_context, workers=1)
        assert report.counts["deidentified"] == 1 and report.counts["held_back"] == 0
    assert len(_staged(tmp_path / "out")) == 1


def test_staging_never_replaces_even_without_hard_links(tmp_path, monkeypatch):
    def no_links(*_args: object) -> None:
        raise PermissionError("no hard links on this file system")

    monkeypatch.setattr(os, "link", no_links)
    target = tmp_path / "x.dcm"
    assert staging.stage(target, b"first") == "written"
    assert staging.stage(target, b"first") == "same"
    assert staging.stage(target, b"second") == "different"
    assert target.read_bytes() == b"first"
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left behind


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 3), st.booleans()), min_size=1, max_size=8),
       st.randoms(use_true_random=False))
def test_any_mix_gives_true_counts_and_one_image_per_staged_uid(tmp_path_factory, deid_context,
                                                                files, rng: random.Random):
    root = tmp_path_factory.mktemp("mix")
    for number, (uid_index, other) in enumerate(files):
        ds = _image(1, OTHER if other else builders.PATIENT, builders.uid(9, uid_index))
        builders.write(ds, root / "src" / f"{rng.randrange(10**6):06d}-{number}")
    sources = [SourceFile(p, None, p.stat().st_size) for p in sorted((root / "src").iterdir())]
    report = deidentify_batch(sources, root / "out", deid_context, workers=1)
    staged = _staged(root / "out")
    assert report.counts["deidentified"] == len(staged)
    assert sum(report.counts.values()) == len(files)
    distinct = set(files)
    clashing = {u for u, _ in distinct if sum(1 for x, _ in distinct if x == u) > 1}
    assert report.counts["held_back"] == sum(1 for u, _ in distinct if u in clashing)
    assert len(staged) == len({u for u, _ in distinct} - clashing)
