"""``nccid scan`` in-process and as the installed command."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from nccid_desktop.cli import main
from nccid_desktop.keys import SiteKeys
from nccid_desktop.pseudonym import pseudonym_for, remap_uid
from nccid_desktop.sheets.definitions import template_by_id
from nccid_desktop.sheets.writer import build_template
from tests.conftest import VALID_NHS_NUMBERS
from tests.dicom._scan_builders import make_dataset, write_dicom, write_junk

NAME = "FOTHERINGAY^MARGARET"
HOSPITAL_NUMBER = "RR7788"
NCCID = Path(sys.executable).parent / "nccid"


@pytest.fixture
def export(tmp_path: Path) -> Path:
    root = tmp_path / "FOTHERINGAY MARGARET"
    common = {"patient_id": HOSPITAL_NUMBER, "patient_name": NAME}
    write_dicom(root / "IM1", make_dataset(**common, modality="CR", study_date="20200310",
                                           series_description="CHEST PA"))
    write_dicom(root / "IM2", make_dataset(**common, modality="MR", series="2", series_number=2,
                                           study_date="20200310",
                                           series_description="FOTHERINGAY brain"))
    write_junk(root / "junk")
    return root


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(["scan", *argv, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_text_report_is_for_the_users_screen(export: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(export)]) == 0
    out = capsys.readouterr().out
    assert "Scanned 6 files: 2 DICOM images in 2 series of 1 patient (" in out
    assert "Skipped: 4 not DICOM." in out
    assert f"Patient FOTHERINGAY MARGARET, ID {HOSPITAL_NUMBER}" in out
    assert "Will be sent" in out and "Not a chest X-ray (CR/DX) or CT" in out
    assert str(export / "junk" / "README.TXT") + ": Not a DICOM file." in out
    assert "Will send 1 image in 1 of 2 series." in out


def test_json_has_no_identifier_by_default(export: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    report = _json(capsys, str(export))
    text = json.dumps(report)
    for secret in ("FOTHERINGAY", "MARGARET", HOSPITAL_NUMBER, str(export), "1.2.826.0.1"):
        assert secret not in text
    assert report["format"] == "nccid-scan/1"
    assert report["summary"]["images"] == 2
    assert report["summary"]["skipped"]["not_dicom"] == 4
    patient = report["patients"][0]
    assert (patient["patient"], patient["label_kind"]) == ("Patient 1", "index")
    cr, mr = patient["studies"][0]["series"]
    assert (cr["modality"], cr["included"], cr["reason"], cr["description"]) == (
        "CR", True, "Will be sent", "CHEST PA")
    assert (mr["code"], mr["description"]) == ("not_chest_modality", None)
    assert cr["series_uid"] is None
    assert report["skipped"][0] == {"kind": "not_dicom", "reason": "Not a DICOM file."}


def test_json_with_keys_shows_pseudonyms_and_warehouse_uids(
        export: Path, key_file: Path, site_keys: SiteKeys,
        capsys: pytest.CaptureFixture[str]) -> None:
    report = _json(capsys, str(export), "--key-file", str(key_file), "--site", "RSH")
    patient = report["patients"][0]
    assert patient["patient"] == pseudonym_for(site_keys, hospital_number=HOSPITAL_NUMBER)
    assert patient["label_kind"] == "pseudonym"
    series_uid = patient["studies"][0]["series"][0]["series_uid"]
    source_uid = make_dataset(patient_id=HOSPITAL_NUMBER).SeriesInstanceUID
    assert series_uid == remap_uid(site_keys, source_uid)


def test_show_identifiers_puts_them_in(export: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = _json(capsys, str(export), "--show-identifiers")
    assert report["patients"][0]["patient"] == HOSPITAL_NUMBER
    assert report["patients"][0]["studies"][0]["series"][1]["description"] == "FOTHERINGAY brain"
    assert report["skipped"][0]["path"].startswith(str(export))


def test_records_and_uploads_drive_the_selection(
        export: Path, key_file: Path, site_keys: SiteKeys, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    pseudonym = pseudonym_for(site_keys, hospital_number=HOSPITAL_NUMBER)
    record = tmp_path / f"{pseudonym}_status.json"
    record.write_text(json.dumps({"Pseudonym": pseudonym, "SubmittingCentre": "RSH",
                                  "SwabDate": "01/01/2021", "SwabStatus": "0"}))
    report = _json(capsys, str(export), "--key-file", str(key_file), "--records", str(record))
    cr = report["patients"][0]["studies"][0]["series"][0]
    assert (cr["included"], cr["reason"]) == (False, "Outside the date window")
    assert cr["detail"] == "Images from 10 Mar 2020; wanted 4 Dec 2020 to 1 Jan 2021"

    record.write_text(json.dumps({"Pseudonym": pseudonym, "SubmittingCentre": "RSH",
                                  "SwabDate": "20/03/2020", "SwabStatus": "0"}))
    uploaded = tmp_path / "uploaded.txt"
    cr_uid = make_dataset(patient_id=HOSPITAL_NUMBER).SOPInstanceUID
    uploaded.write_text(remap_uid(site_keys, cr_uid) + "\n")
    report = _json(capsys, str(export), "--key-file", str(key_file), "--records", str(record),
                   "--uploaded", str(uploaded))
    cr = report["patients"][0]["studies"][0]["series"][0]
    assert (cr["included"], cr["reason"]) == (False, "Already uploaded")
    report = _json(capsys, str(export), "--key-file", str(key_file), "--records", str(record))
    assert report["patients"][0]["studies"][0]["series"][0]["reason"] == "Will be sent"


def test_sheet_links_patients(export: Path, key_file: Path, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    """The real sheet path: the same hospital number gives the same pseudonym."""
    workbook = build_template(template_by_id("status"))
    sheet = workbook.active
    sheet.append([VALID_NHS_NUMBERS[0], HOSPITAL_NUMBER.lower(), date(2020, 3, 20), 0])
    sheet.append([VALID_NHS_NUMBERS[1], "RR0000", date(2020, 3, 20), 0])
    book = tmp_path / "status.xlsx"
    workbook.save(book)
    report = _json(capsys, str(export), "--key-file", str(key_file), "--sheet", str(book))
    cr = report["patients"][0]["studies"][0]["series"][0]
    assert (cr["included"], cr["warnings"]) == (True, [])
    other = tmp_path / "other"
    write_dicom(other / "IM1", make_dataset(patient_id="RR5555", modality="DX"))
    report = _json(capsys, str(other), "--key-file", str(key_file), "--sheet", str(book))
    dx = report["patients"][0]["studies"][0]["series"][0]
    assert dx["reason"] == "Not linked to a clinical record"


def test_errors_are_plain_and_name_the_path_on_screen(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "FOTHERINGAY MARGARET"
    assert main(["scan", str(missing)]) == 2
    err = capsys.readouterr().err
    assert f"The folder or file {missing} does not exist" in err
    assert main(["scan", str(tmp_path), "--records", str(tmp_path / "r.json")]) == 2
    assert "need the site key file" in capsys.readouterr().err


def test_installed_command(export: Path, key_file: Path, site_keys: SiteKeys,
                           tmp_path: Path) -> None:
    run = subprocess.run([str(NCCID), "scan", str(export), "--format", "json",
                          "--key-file", str(key_file)],
                         capture_output=True, text=True, timeout=120,
                         env={"NCCID_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["summary"]["included_series"] == 1
    assert report["patients"][0]["patient"] == pseudonym_for(site_keys,
                                                             hospital_number=HOSPITAL_NUMBER)
    logs = "".join(p.read_text() for p in (tmp_path / "home" / "logs").glob("*"))
    assert "Scan finished: 6 files" in logs
    assert "FOTHERINGAY" not in logs and HOSPITAL_NUMBER not in logs


def _status_book(tmp_path: Path, *numbers: str) -> Path:
    workbook = build_template(template_by_id("status"))
    for index, number in enumerate(numbers):
        workbook.active.append([VALID_NHS_NUMBERS[index], number, date(2020, 3, 20), 0])
    book = tmp_path / "status.xlsx"
    workbook.save(book)
    return book


def test_scan_with_a_sheet_reports_the_link_both_ways(
        export: Path, key_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture) -> None:
    write_dicom(tmp_path / "other" / "IM1", make_dataset(patient_id="RR5555", modality="DX",
                                                         patient_name="ORPHAN^OLIVE"))
    book = _status_book(tmp_path, HOSPITAL_NUMBER, "RR0000", "20304050")
    caplog.set_level("DEBUG")
    assert main(["scan", str(export), str(tmp_path / "other"), "--key-file", str(key_file),
                 "--sheet", str(book)]) == 0
    out = capsys.readouterr().out
    assert ("2 patients on the sheet have no images in this export:\n"
            "  Covid Status sheet row 3: RR0000\n"
            "  Covid Status sheet row 4: 20304050\n"
            "1 study belongs to no patient on the sheet:\n"
            "  Patient ORPHAN OLIVE, ID RR5555: study 1 Mar 2020 XR CHEST\n"
            "1 hospital number on the sheet does not look like the images' patient IDs "
            "(RR followed by 4 digits, for example RR1234):\n"
            "  Covid Status sheet row 4: 20304050\n") in out
    for secret in ("RR0000", "20304050", "RR5555", HOSPITAL_NUMBER):
        assert secret not in caplog.text


def test_scan_json_carries_the_link_lists(export: Path, key_file: Path, site_keys: SiteKeys,
                                          tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    book = _status_book(tmp_path, HOSPITAL_NUMBER, "RR0000")
    report = _json(capsys, str(export), "--key-file", str(key_file), "--sheet", str(book))
    links = report["links"]
    assert links["patients_without_images"] == [{
        "source": "Covid Status sheet", "row": 3,
        "pseudonym": pseudonym_for(site_keys, hospital_number="RR0000")}]
    assert links["studies_without_patient"] == []
    assert "RR0000" not in json.dumps(report)
    shown = _json(capsys, str(export), "--key-file", str(key_file), "--sheet", str(book),
                  "--show-identifiers")
    assert shown["links"]["patients_without_images"][0]["hospital_number"] == "RR0000"


def test_the_negative_window_can_be_widened(export: Path, key_file: Path, site_keys: SiteKeys,
                                            tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    pseudonym = pseudonym_for(site_keys, hospital_number=HOSPITAL_NUMBER)
    record = tmp_path / f"{pseudonym}_status.json"
    record.write_text(json.dumps({"Pseudonym": pseudonym, "SubmittingCentre": "RSH",
                                  "SwabDate": "05/03/2020", "SwabStatus": "0"}))
    args = [str(export), "--key-file", str(key_file), "--records", str(record)]
    cr = _json(capsys, *args)["patients"][0]["studies"][0]["series"][0]
    assert cr["detail"] == "Images from 10 Mar 2020; wanted 6 Feb 2020 to 5 Mar 2020"
    cr = _json(capsys, *args, "--negative-days-after", "7")["patients"][0]["studies"][0][
        "series"][0]
    assert cr["included"] is True
    assert main(["scan", *args, "--negative-days-after", "40"]) == 2
    assert "from 0 to 28" in capsys.readouterr().err
