"""Batches: a real process pool, progress, cancellation, bounded work in flight."""

from __future__ import annotations

from pathlib import Path

from pydicom import dcmread

from nccid_desktop.dicom.deid.pipeline import IN_FLIGHT_PER_WORKER, BatchReport, deidentify_batch
from nccid_desktop.dicom.scan.sources import iter_sources
from nccid_desktop.tasks import CancelToken, Progress
from tests.dicom import builders


def staged_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_pool_batch_stages_every_image_and_quarantines_the_capture(study_folder, tmp_path,
                                                                   deid_context, pseudonym):
    seen: list[Progress] = []
    sources = list(iter_sources([study_folder]))
    report = deidentify_batch(sources, tmp_path / "staging", deid_context,
                              quarantine_dir=tmp_path / "quarantine", workers=2,
                              progress=seen.append)
    assert report.counts == {"deidentified": 6, "quarantined": 1, "unreadable": 0, "failed": 0,
                             "refused": 0, "duplicate": 0, "held_back": 0}
    assert report.quarantined_by_code == {"secondary_capture": 1}
    assert report.pseudonyms == {pseudonym}
    assert not report.cancelled
    staged = staged_files(tmp_path / "staging")
    assert sorted(staged) == sorted(o.output.name for o in report.outcomes if o.output)
    assert all(dcmread(tmp_path / "staging" / name).PatientID == pseudonym for name in staged)
    assert [p.done for p in seen] == list(range(len(sources) + 1))
    assert seen[-1].total == len(sources) and seen[-1].fraction == 1.0


def test_report_holds_no_source_path_nor_identifier(study_folder, tmp_path, deid_context):
    report = deidentify_batch(list(iter_sources([study_folder])), tmp_path / "staging",
                              deid_context, workers=1)
    text = repr(report)
    for forbidden in (str(study_folder), "FAKENHAM", builders.PATIENT.hospital_number):
        assert forbidden not in text


def test_pool_and_inline_runs_give_identical_outputs(study_folder, tmp_path, deid_context):
    sources = list(iter_sources([study_folder]))
    deidentify_batch(sources, tmp_path / "pool", deid_context, workers=2)
    deidentify_batch(sources, tmp_path / "inline", deid_context, workers=1)
    assert staged_files(tmp_path / "pool") == staged_files(tmp_path / "inline")


def test_outcomes_keep_the_order_of_the_sources(study_folder, tmp_path, deid_context):
    sources = list(iter_sources([study_folder]))
    report = deidentify_batch(sources, tmp_path / "staging", deid_context, workers=2)
    single = [deidentify_batch([s], tmp_path / "one", deid_context, workers=1).outcomes[0]
              for s in sources]
    assert [(o.status, o.sop_instance_uid) for o in report.outcomes] == \
           [(o.status, o.sop_instance_uid) for o in single]


def test_work_in_flight_is_bounded_whatever_the_batch_size(tmp_path, deid_context):
    folder = tmp_path / "many"
    for instance in range(1, 41):
        builders.write(builders.ct_slice(instance=instance, rows=16, columns=16),
                       folder / f"IM{instance:04d}")
    pulled = 0
    peak = 0

    def counted():
        nonlocal pulled
        for source in iter_sources([folder]):
            pulled += 1
            yield source

    def watch(progress: Progress) -> None:
        nonlocal peak
        peak = max(peak, pulled - progress.done)

    report = deidentify_batch(counted(), tmp_path / "staging", deid_context, workers=2,
                              progress=watch)
    assert report.counts["deidentified"] == 40
    assert 0 < peak <= 2 * IN_FLIGHT_PER_WORKER
    assert report.total == 40 and report.not_started == 0


def test_cancel_stops_cleanly_and_keeps_only_complete_files(tmp_path, deid_context):
    folder = tmp_path / "many"
    for instance in range(1, 31):
        builders.write(builders.ct_slice(instance=instance, rows=16, columns=16),
                       folder / f"IM{instance:04d}")
    sources = list(iter_sources([folder]))
    cancel = CancelToken()

    def cancel_after_three(progress: Progress) -> None:
        if progress.done >= 3:
            cancel.cancel()

    report = deidentify_batch(sources, tmp_path / "staging", deid_context, workers=2,
                              progress=cancel_after_three, cancel=cancel)
    assert report.cancelled
    assert 3 <= report.total < 30
    assert report.not_started == 30 - report.total
    staged = list((tmp_path / "staging").iterdir())
    assert len(staged) == report.counts["deidentified"]
    assert all(p.suffix == ".dcm" and dcmread(p).PatientIdentityRemoved == "YES"
               for p in staged)


def test_inline_cancel_before_start_does_nothing(study_folder, tmp_path, deid_context):
    cancel = CancelToken()
    cancel.cancel()
    report = deidentify_batch(list(iter_sources([study_folder])), tmp_path / "staging",
                              deid_context, workers=1, cancel=cancel)
    assert report.cancelled and report.total == 0 and report.not_started == 7
    assert list((tmp_path / "staging").iterdir()) == []


def test_report_from_outcomes_counts_by_status_and_reason():
    from nccid_desktop.dicom.deid.one_file import FileOutcome

    report = BatchReport.from_outcomes([
        FileOutcome("deidentified", pseudonym="Covid0000000000000001", bytes=10),
        FileOutcome("quarantined", "verify_failed"),
        FileOutcome("quarantined", "dose_report"),
        FileOutcome("quarantined", "dose_report"),
        FileOutcome("unreadable", "not_dicom"),
    ])
    assert report.counts == {"deidentified": 1, "quarantined": 3, "unreadable": 1, "failed": 0,
                             "refused": 0, "duplicate": 0, "held_back": 0}
    assert report.quarantined_by_code == {"dose_report": 2, "verify_failed": 1}
    assert report.output_bytes == 10
