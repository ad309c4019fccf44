"""Sheet-level checks: which template, and what was done to its columns."""

from __future__ import annotations

import pytest

from nccid_desktop.errors import SheetError
from nccid_desktop.sheets.definitions import MAIN, STATUS
from nccid_desktop.sheets.layout import recognise
from nccid_desktop.sheets.validator import validate_workbook
from tests.sheets.builders import (
    TODAY,
    build_workbook,
    main_row,
    plain_workbook,
    row_values,
    save_workbook,
    status_row,
)

MAIN_HEADERS = [c.header for c in MAIN.columns]


def _codes(report):
    return sorted((f.code, f.column) for f in report.findings)


def test_recognised_by_header_row_alone(tmp_path):
    path = plain_workbook(tmp_path / "hand-made.xlsx",
                          [MAIN_HEADERS, row_values(MAIN, main_row(1))])
    report = validate_workbook(path, today=TODAY)
    assert (report.template, report.template_version, report.rows) == ("main", None, 1)
    assert report.findings == []


def test_headers_match_ignoring_case_spacing_and_coding():
    assert recognise(["nhs/chi number", "HOSPITAL (INTERNAL)  NUMBER", "Date of RT-PCR",
                      "RT-PCR result"])[0] is STATUS
    bare_names = ["NHS/CHI Number", "Hospital (Internal) Number"] + [
        c.name for c in MAIN.columns[2:]]
    assert recognise(bare_names)[0] is MAIN
    assert recognise(["Name", "Date of birth", "Address"]) == (None, 0.0)


def test_header_below_title_rows(tmp_path):
    path = plain_workbook(tmp_path / "titled.xlsx", [
        ["Covid negatives, week 12"], [], [c.header for c in STATUS.columns],
        row_values(STATUS, status_row(1)),
    ])
    report = validate_workbook(path, today=TODAY)
    assert (report.template, report.rows, report.header_row) == ("status", 1, 3)
    assert report.findings == []


def test_wrong_template_says_which_upload_to_use(tmp_path):
    status = save_workbook(tmp_path / "status.xlsx", STATUS, [status_row(1)])
    main = save_workbook(tmp_path / "main.xlsx", MAIN, [main_row(1)])
    report = validate_workbook(status, "main", today=TODAY)
    assert report.template == "status" and not report.ok
    assert [f.message for f in report.errors] == [
        "This is the Covid Status sheet: use Upload Covid Status."]
    report = validate_workbook(main, "status", today=TODAY)
    assert [f.code for f in report.errors] == ["wrong_template"]
    assert "This is the Main sheet: use Upload Main sheet" in report.errors[0].message


def test_not_a_template_at_all_is_a_sheet_error(tmp_path):
    path = plain_workbook(tmp_path / "other.xlsx", [["Name", "Ward"], ["x", "y"]])
    with pytest.raises(SheetError, match="does not look like the Main"):
        validate_workbook(path, "main")
    with pytest.raises(SheetError, match="Covid Status"):
        validate_workbook(path)


def test_removed_column_is_named_with_its_letter(tmp_path):
    headers = [h for h in MAIN_HEADERS if not h.startswith("Smoking status")]
    values = [v for c, v in zip(MAIN.columns, row_values(MAIN, main_row(1)), strict=True)
              if c.key != "Smoking status"]
    path = plain_workbook(tmp_path / "removed.xlsx", [headers, values])
    report = validate_workbook(path, today=TODAY)
    [finding] = report.errors
    assert finding.code == "column_missing" and finding.row is None
    assert "“Smoking status (Never = 0, Ex-smoker = 1, Current = 2, Unknown = 3)” is missing" \
        in finding.message and "column F" in finding.message
    assert "Do not add, remove" in finding.message
    assert len(report.valid_rows) == 1  # cells are still checked; the sheet error blocks upload


def test_added_renamed_moved_and_duplicated_columns(tmp_path):
    headers = list(MAIN_HEADERS)
    headers[3] = "Age in years"  # renamed in place (column D)
    headers[4], headers[5] = headers[5], headers[4]  # Sex and Smoking status swapped
    headers.append("Notes")  # added (column BJ)
    headers.append(MAIN_HEADERS[2])  # "Hospital" twice (column BK)
    path = plain_workbook(tmp_path / "changed.xlsx", [headers, [None] * len(headers)])
    report = validate_workbook(path, today=TODAY)
    codes = _codes(report)
    assert ("column_renamed", "D") in codes
    assert ("column_added", "BJ") in codes
    assert ("column_duplicated", "BK") in codes
    moved = [c for c in codes if c[0] == "column_moved"]
    assert len(moved) == 1 and moved[0][1] in ("E", "F")
    assert ("no_rows", None) in codes
    renamed = next(f for f in report.findings if f.code == "column_renamed")
    assert renamed.header == "Age" and "should be headed “Age”" in renamed.message
    added = next(f for f in report.findings if f.code == "column_added")
    assert "Notes" not in added.message  # headers nobody expects are never echoed


def test_reordered_columns_are_still_checked_by_header(tmp_path):
    headers = list(MAIN_HEADERS)
    values = row_values(MAIN, main_row(1, Age=150))
    headers[3], headers[4] = headers[4], headers[3]
    values[3], values[4] = values[4], values[3]
    path = plain_workbook(tmp_path / "moved.xlsx", [headers, values])
    report = validate_workbook(path, today=TODAY)
    assert ("out_of_range", "E") in _codes(report)  # Age now sits in column E
    assert any(f.code == "column_moved" for f in report.errors)


def test_values_in_a_column_without_header(tmp_path):
    workbook = build_workbook(MAIN, [main_row(1)])
    workbook.worksheets[0].cell(row=2, column=len(MAIN.columns) + 2, value="stray note")
    workbook.save(tmp_path / "stray.xlsx")
    report = validate_workbook(tmp_path / "stray.xlsx", today=TODAY)
    [finding] = report.errors
    assert (finding.code, finding.column, finding.row) == ("column_without_header", "BK", None)
    assert "stray" not in finding.message


def test_hidden_sheets_notes_sheets_and_trailing_blank_rows(tmp_path):
    workbook = build_workbook(MAIN, [main_row(1), main_row(2)])
    sheet = workbook.worksheets[0]
    for row in range(3, 40):  # stray formatting below the data
        sheet.cell(row=row + 1, column=5).number_format = "0.00"
    sheet.append([None, "  ", None])
    old = workbook.create_sheet("Old copy", 0)
    old.sheet_state = "hidden"
    old.append([c.header for c in STATUS.columns])
    workbook.create_sheet("Notes", 0).append(["Ward list for week 12"])
    workbook.save(tmp_path / "busy.xlsx")
    report = validate_workbook(tmp_path / "busy.xlsx", today=TODAY)
    assert (report.template, report.sheet, report.rows) == ("main", "Main", 2)
    assert report.findings == []


def test_no_patient_rows(tmp_path):
    path = save_workbook(tmp_path / "empty.xlsx", STATUS, [])
    report = validate_workbook(path)
    assert [(f.code, f.message) for f in report.errors] == [
        ("no_rows", "The sheet has no patient rows below the header row.")]
