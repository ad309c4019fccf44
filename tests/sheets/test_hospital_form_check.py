"""Hospital numbers in another form than PACS's, with no site pattern set: a warning per cell."""

from __future__ import annotations

from nccid_desktop.sheets.definitions import MAIN, STATUS
from nccid_desktop.sheets.findings import Severity
from nccid_desktop.sheets.validator import validate_workbook
from tests.sheets.builders import HOSPITAL, TODAY, main_row, save_workbook, status_row

STRAY = "90817263"


def check(tmp_path, rows, template=STATUS, **options):
    path = save_workbook(tmp_path / "sheet.xlsx", template, rows)
    return validate_workbook(path, template.id, today=TODAY, **options)


def forms(report):
    return [(f.severity, f.cell) for f in report.findings if f.code == "hospital_form"]


def test_a_number_unlike_most_of_the_sheet_is_a_warning_on_its_cell(tmp_path):
    rows = [status_row(i) for i in range(1, 7)] + [status_row(7, **{HOSPITAL: STRAY})]
    report = check(tmp_path, rows)
    assert forms(report) == [(Severity.WARNING, "B8")]
    [warning] = report.warnings
    assert warning.message == (
        "This hospital number (8 digits) does not have the form of most hospital numbers on "
        "this sheet: RR followed by 8 digits, for example RR12345678. Use the number exactly "
        "as Radiology (PACS) shows it, or the patient's images will not link.")
    assert STRAY not in warning.message and report.ok


def test_a_small_or_mixed_sheet_teaches_no_form(tmp_path):
    few = [status_row(1), status_row(2), status_row(3, **{HOSPITAL: STRAY})]
    assert forms(check(tmp_path, few)) == []
    mixed = [status_row(i, **{HOSPITAL: f"X{i}"}) for i in range(1, 4)] + [
        status_row(i) for i in range(4, 7)]
    assert forms(check(tmp_path, mixed)) == []


def test_the_images_patient_ids_teach_the_form(tmp_path):
    rows = [main_row(1, **{HOSPITAL: STRAY}), main_row(2, **{HOSPITAL: "RR00000002"})]
    report = check(tmp_path, rows, MAIN, hospital_examples=["RR00000002", "RR00001234"])
    assert forms(report) == [(Severity.WARNING, "B2")]
    assert "does not have the form of the images' patient IDs: RR followed by 8 digits" in \
        report.warnings[0].message


def test_a_site_pattern_replaces_the_learnt_form(tmp_path):
    rows = [status_row(i) for i in range(1, 7)] + [status_row(7, **{HOSPITAL: STRAY})]
    report = check(tmp_path, rows, hospital_pattern=r"\d{8}|RR\d{8}")
    assert forms(report) == [] and report.warnings == []
    strict = check(tmp_path, rows, hospital_pattern=r"RR\d{8}")
    assert [(f.code, f.cell) for f in strict.warnings] == [("hospital_pattern", "B8")]


def test_the_patients_of_every_row_are_kept_for_later_checks(tmp_path):
    rows = [status_row(1), status_row(2, SwabStatus=7), status_row(3, **{HOSPITAL: None})]
    report = check(tmp_path, rows)
    assert [(p.row, p.hospital_number) for p in report.patients] == [
        (2, "RR00000001"), (3, "RR00000002"), (4, None)]
    assert "RR0000000" not in repr(report.patients)
