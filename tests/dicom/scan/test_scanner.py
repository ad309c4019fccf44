"""The scan reads real files written in code: PACS-like folders, raw data sets, zips, junk."""

from __future__ import annotations

import logging
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

from nccid_desktop.dicom.scan import scanner as scan_module
from nccid_desktop.dicom.scan.headers import looks_like_raw_dataset, parse_dicom_date
from nccid_desktop.dicom.scan.scanner import find_sources, scan
from nccid_desktop.errors import CancelledError, InputNotFoundError
from nccid_desktop.logsafe import configure_logging
from nccid_desktop.tasks import CancelToken, Progress
from tests.dicom._scan_builders import (
    dicom_bytes,
    make_dataset,
    write_dicom,
    write_dicomdir_export,
    write_index_copy,
    write_junk,
    write_zip,
)

PATIENT_NAME = "SMITHERSON^JANE^ALICE"
PATIENT_ID = "RR0042"


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """One patient as PACS staff export them: a folder named after the patient, files without
    ``.dcm``, a CT series, a CR, an MR, a secondary capture, a raw data set, a zip, junk."""
    root = tmp_path / "SMITHERSON JANE"
    common = {"patient_id": PATIENT_ID, "patient_name": PATIENT_NAME}
    for slice_number in range(1, 4):
        write_dicom(root / "CT" / f"IM{slice_number:04d}",
                    make_dataset(**common, modality="CT", study="2", series="3",
                                 instance=slice_number, series_number=3, study_date="20200310"))
    write_dicom(root / "CR" / "IM0001", make_dataset(**common, modality="CR", study="1"))
    write_dicom(root / "MR" / "IM0001.dcm",
                make_dataset(**common, modality="MR", study="2", series="4", series_number=4,
                             body_part="BRAIN", study_date="20200310"))
    write_dicom(root / "SC" / "IM0001",
                make_dataset(**common, modality="SC", study="2", series="9", series_number=9,
                             study_date="20200310", ConversionType="WSD"))
    write_dicom(root / "RAW" / "IMAGE", make_dataset(**common, modality="DX", study="1",
                                                      series="2", series_number=2),
                preamble=False)
    write_zip(root / "more.zip", {
        f"CT/IM{n:04d}": dicom_bytes(make_dataset(**common, modality="CT", study="2",
                                                  series="3", instance=n, series_number=3,
                                                  study_date="20200310"))
        for n in (4, 5)
    })
    write_junk(root / "junk")
    truncated = dicom_bytes(make_dataset(**common, instance=99))[:200]
    (root / "junk" / "BROKEN").write_bytes(truncated)
    bad_length = dicom_bytes(make_dataset(**common, instance=98))
    at = bad_length.index(b"CHEST PA")
    (root / "junk" / "BADLENGTH").write_bytes(bad_length[:at - 2] + b"\xff\xff" + bad_length[at:])
    (root / "junk" / "damaged.zip").write_bytes(b"PK\x03\x04" + bytes(60))
    return root


def test_groups_patient_study_series_with_counts_and_bytes(export: Path) -> None:
    result = scan([export])
    assert len(result.patients) == 1
    patient = result.patients[0]
    assert (patient.patient_id, patient.display_name, patient.sex) == (
        PATIENT_ID, "SMITHERSON JANE ALICE", "M")
    assert [s.date.isoformat() for s in patient.studies] == ["2020-03-01", "2020-03-10"]
    xray_study, ct_study = patient.studies
    assert [(s.modality, s.number, s.instance_count) for s in xray_study.series] == [
        ("CR", 1, 1), ("DX", 2, 1)]
    assert [(s.modality, s.number, s.instance_count) for s in ct_study.series] == [
        ("CT", 3, 5), ("MR", 4, 1), ("SC", 9, 1)]
    ct = ct_study.series[0]
    assert ct.body_part == "CHEST"
    assert ct.description == "CHEST PA"
    assert ct.bytes == sum(f.source.size for f in ct.files) > 0
    assert [f.source.member for f in ct.files] == ["CT/IM0004", "CT/IM0005", None, None, None]
    expected_uids = {pydicom.dcmread(p).SOPInstanceUID for p in (export / "CT").iterdir()}
    assert expected_uids < set(ct.source_sop_instance_uids)
    assert len(set(ct.source_sop_instance_uids)) == 5
    assert all(f.transfer_syntax_uid == "1.2.840.10008.1.2.1" for f in ct.files)
    assert result.instance_count == 9
    assert result.files_seen == 9 + 7


def test_raw_data_set_without_preamble_is_read(export: Path) -> None:
    dx = scan([export / "RAW"]).patients[0].studies[0].series[0]
    assert dx.modality == "DX"
    assert dx.files[0].transfer_syntax_uid == ""
    assert dx.files[0].image_date.isoformat() == "2020-03-01"


def test_junk_and_damaged_files_are_counted_with_reasons(export: Path) -> None:
    result = scan([export])
    reasons = {s.source.path.name: (s.kind, s.reason) for s in result.skipped}
    assert reasons == {
        "BROKEN": ("corrupt", "An incomplete or damaged DICOM file (it has no SOP Instance "
                              "UID)."),
        "BADLENGTH": ("corrupt", "An incomplete DICOM file (it has no study or series UID)."),
        "damaged.zip": ("corrupt", "A damaged zip archive that cannot be opened."),
        "EMPTY": ("not_dicom", "Not a DICOM file."),
        "README.TXT": ("not_dicom", "Not a DICOM file."),
        "report.pdf": ("not_dicom", "Not a DICOM file."),
        "thumb.jpg": ("not_dicom", "Not a DICOM file."),
    }
    assert result.skipped_counts() == {"not_dicom": 4, "corrupt": 3, "unreadable": 0,
                                       "index": 0, "duplicate": 0, "refused": 0}


def test_burned_in_text_risk_is_kept_per_file_and_series(export: Path) -> None:
    series = {s.modality: s for _, _, s in scan([export]).iter_series()}
    assert series["SC"].quarantine == "all"
    assert series["SC"].risks[0][0].code == "secondary_capture"
    assert series["CT"].quarantine == "none" and series["CT"].risks == ()


def test_damaged_zip_member_is_reported_not_fatal(tmp_path: Path) -> None:
    archive = write_zip(tmp_path / "export.zip", {"IM1": dicom_bytes(make_dataset()),
                                                  "IM2": dicom_bytes(make_dataset(instance=2))})
    data = bytearray(archive.read_bytes())
    first_member_data = 30 + len("IM1")
    for offset in range(first_member_data + 40, first_member_data + 60):
        data[offset] ^= 0x5A
    archive.write_bytes(bytes(data))
    result = scan([archive])
    assert result.instance_count == 1
    assert [(s.kind, s.source.member) for s in result.skipped] == [("unreadable", "IM1")]


def test_zip_archives_that_cannot_be_opened_say_why(tmp_path: Path) -> None:
    inner = write_zip(tmp_path / "inner.zip", {"IM1": dicom_bytes(make_dataset())})
    (tmp_path / "EXPORT").write_bytes(inner.read_bytes())
    write_zip(tmp_path / "outer.zip", {"nested.zip": inner.read_bytes()})
    inner.unlink()
    result = scan([tmp_path])
    assert result.instance_count == 0
    assert [(s.source.member, s.reason) for s in result.skipped] == [
        (None, "A zip archive whose name does not end in .zip; rename it and scan again."),
        ("nested.zip", "A zip archive inside another zip archive; unpack it first."),
    ]


def test_some_files_of_a_series_at_risk_is_reported_as_some(tmp_path: Path) -> None:
    write_dicom(tmp_path / "a", make_dataset(instance=1))
    write_dicom(tmp_path / "b", make_dataset(instance=2, BurnedInAnnotation="YES"))
    series = scan([tmp_path]).patients[0].studies[0].series[0]
    assert series.quarantine == "some"
    assert [f.risk.code if f.risk else None for f in series.files] == [
        None, "burned_in_annotation"]


def test_pixel_data_is_never_read(tmp_path: Path) -> None:
    """A file cut short inside its pixel data still scans: only the header is parsed."""
    data = dicom_bytes(make_dataset())
    (tmp_path / "cut").write_bytes(data[:-100])
    result = scan([tmp_path])
    assert result.instance_count == 1 and result.skipped == ()


def test_dicomdir_export_scans_its_images_and_ignores_the_index(tmp_path: Path) -> None:
    export = write_dicomdir_export(tmp_path / "CD", [
        make_dataset(instance=n, modality="CT") for n in (1, 2)])
    write_index_copy(tmp_path / "CD" / "INDEX", export)
    result = scan([tmp_path])
    assert result.instance_count == 2
    assert [(s.kind, s.source.path.name) for s in result.skipped] == [("index", "INDEX")]


def test_same_image_in_folder_and_zip_is_used_once(tmp_path: Path) -> None:
    data = dicom_bytes(make_dataset())
    (tmp_path / "IM1").write_bytes(data)
    write_zip(tmp_path / "copy.zip", {"IM1": data})
    result = scan([tmp_path])
    assert result.instance_count == 1
    assert [s.kind for s in result.skipped] == ["duplicate"]


def test_unicode_patient_name_is_decoded(tmp_path: Path) -> None:
    write_dicom(tmp_path / "a", make_dataset(patient_name="Øster^Åsa",
                                             SpecificCharacterSet="ISO_IR 192"))
    assert scan([tmp_path]).patients[0].display_name == "Øster Åsa"


def test_missing_path_is_bad_input_named_for_the_user(tmp_path: Path) -> None:
    """The user chose the path, so the message names it (on their screen; never logged)."""
    missing = tmp_path / "SMITHERSON JANE"
    with pytest.raises(InputNotFoundError) as caught:
        scan([tmp_path, missing])
    assert str(missing) in str(caught.value)
    assert "item 2 of the 2" in str(caught.value)
    assert caught.value.exit_code == 2


def test_looks_like_raw_dataset() -> None:
    implicit = dicom_bytes(make_dataset(), preamble=False)
    assert looks_like_raw_dataset(implicit[:132])
    assert looks_like_raw_dataset(b"\x08\x00\x05\x00CS\x0a\x00ISO_IR 100")
    assert looks_like_raw_dataset(b"\x00\x08\x00\x05CS\x00\x0aISO_IR 100")  # big endian
    assert not looks_like_raw_dataset(b"\xff\xd8\xff\xe0" + bytes(10))
    assert not looks_like_raw_dataset(b"%PDF-1.4")
    assert not looks_like_raw_dataset(b"\x08\x00\x05\x00\xff\xff\xff\xff")


@pytest.mark.parametrize(("text", "expected"), [
    ("20200301", "2020-03-01"), ("2020.03.01", "2020-03-01"), ("20200230", None),
    ("", None), ("2020", None), ("abcdefgh", None)])
def test_parse_dicom_date(text: str, expected: str | None) -> None:
    parsed = parse_dicom_date(text)
    assert (parsed.isoformat() if parsed else None) == expected


def _many_files(folder: Path, count: int) -> Path:
    for n in range(count):
        write_dicom(folder / f"IM{n:05d}",
                    make_dataset(modality="CT", instance=n, pixels=False))
    return folder


@pytest.fixture
def low_threshold(monkeypatch: pytest.MonkeyPatch) -> int:
    """Worker processes from 300 files, so the tests exercise them on small folders."""
    monkeypatch.setattr(scan_module, "PARALLEL_THRESHOLD", 300)
    return 300


@pytest.mark.slow
def test_worker_processes_give_the_same_result_as_one_process(tmp_path: Path,
                                                              low_threshold: int) -> None:
    folder = _many_files(tmp_path / "ct", low_threshold + 100)
    seen: list[Progress] = []
    parallel = scan([folder], workers=2, progress=seen.append)
    single = scan([folder], workers=1)
    assert parallel.instance_count == low_threshold + 100
    assert parallel.iter_series()[0][2].files == single.iter_series()[0][2].files
    headers = [p for p in seen if p.message == "Reading DICOM headers"]
    assert headers[-1].done == headers[-1].total == parallel.files_seen
    assert len(headers) > 1


@pytest.mark.parametrize("workers", [1, 2])
def test_cancel_stops_the_scan(tmp_path: Path, workers: int, low_threshold: int) -> None:
    folder = _many_files(tmp_path / "ct", low_threshold + 50)
    token = CancelToken()

    def cancel_on_first_header_progress(progress: Progress) -> None:
        if progress.message == "Reading DICOM headers":
            token.cancel()

    with pytest.raises(CancelledError):
        scan([folder], workers=workers, progress=cancel_on_first_header_progress, cancel=token)


def test_find_sources_reports_progress_and_cancels(export: Path) -> None:
    seen: list[Progress] = []
    assert len(find_sources([export], progress=seen.append)) == 16
    assert seen[-1] == Progress(16, None, "Finding files")
    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        find_sources([export], cancel=token)


def test_no_identifier_reaches_the_log_or_repr(export: Path, tmp_path: Path) -> None:
    log_path = configure_logging(tmp_path / "logs", level=logging.DEBUG)
    result = scan([export])
    logging.getLogger("nccid_desktop.test").info("patient %s seen", PATIENT_ID)
    for handler in logging.getLogger("nccid_desktop").handlers:
        handler.flush()
    text = log_path.read_text()
    assert "Scan finished: 16 files, 9 DICOM objects" in text
    assert "patient [redacted] seen" in text
    for secret in (PATIENT_ID, "SMITHERSON", "JANE", "ALICE", str(export)):
        assert secret not in text
        assert secret not in repr(result)


def test_every_pydicom_test_file_is_scanned_or_explained() -> None:
    folder = Path(get_testdata_file("CT_small.dcm")).parent
    result = scan([folder], workers=1)
    assert result.instance_count + len(result.skipped) == result.files_seen
    assert result.instance_count > 80
    assert all(s.reason for s in result.skipped)
    modalities = {s.modality for _, _, s in result.iter_series()}
    assert {"CT", "MR", "CR", "US"} <= modalities
