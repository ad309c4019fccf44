"""The annotated copy and the text report: what a nurse reads to fix the sheet."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from nccid_desktop.errors import NccidError
from nccid_desktop.sheets.annotate import ERROR_FILL, PROBLEMS_SHEET, WARNING_FILL, annotate_copy
from nccid_desktop.sheets.definitions import MAIN, STATUS
from nccid_desktop.sheets.render import render_text
from nccid_desktop.sheets.validator import validate_workbook
from tests.sheets.builders import TODAY, main_row, plain_workbook, save_workbook, status_row


@pytest.fixture
def checked(tmp_path):
    rows = [main_row(1, Sex=3, Age="old"), main_row(2, **{"Date of Positive Covid Swab": None}),
            main_row(3)]
    path = save_workbook(tmp_path / "main.xlsx", MAIN, rows)
    return path, validate_workbook(path, today=TODAY, max_findings_per_column=None)


def test_annotated_copy_highlights_and_comments_problem_cells(tmp_path, checked):
    source, report = checked
    copy = annotate_copy(source, report, tmp_path / "checked.xlsx")
    workbook = load_workbook(copy)
    sheet = workbook["Main"]
    assert sheet["E2"].fill.fgColor.rgb.endswith(ERROR_FILL.fgColor.rgb[-6:])
    assert sheet["E2"].comment.text == "Error: Sex must be one of 0 (Female) or 1 (Male)."
    assert sheet["D2"].comment is not None
    assert sheet["R3"].fill.fgColor.rgb.endswith(WARNING_FILL.fgColor.rgb[-6:])
    assert sheet["R3"].comment.text.startswith("Warning: Date of Positive Covid Swab is blank")
    assert sheet["E4"].comment is None
    assert sheet["A2"].value == main_row(1)["NHS/CHI Number"]  # the nurse's own data is kept
    problems = list(workbook[PROBLEMS_SHEET].iter_rows(values_only=True))
    assert problems[0] == ("Severity", "Cell", "Row", "Column", "Header", "Problem")
    assert len(problems) == 1 + len(report.findings)
    assert load_workbook(source).sheetnames == ["Main", "Instructions", "_nccid"]


def test_annotated_copy_is_recognised_again(tmp_path, checked):
    source, report = checked
    copy = annotate_copy(source, report, tmp_path / "checked.xlsx")
    again = validate_workbook(copy, today=TODAY)
    assert [(f.code, f.cell) for f in again.findings] == [
        (f.code, f.cell) for f in report.findings]


def test_column_problems_are_marked_on_the_header(tmp_path):
    headers = [c.header for c in STATUS.columns] + ["Notes"]
    path = plain_workbook(tmp_path / "s.xlsx", [headers, [None, None, None, None]])
    report = validate_workbook(path, today=TODAY)
    copy = annotate_copy(path, report, tmp_path / "copy.xlsx")
    assert "not part of the Covid Status" in load_workbook(copy)["Sheet1"]["E1"].comment.text


def test_annotated_copy_never_replaces_the_original(tmp_path, checked):
    source, report = checked
    with pytest.raises(NccidError, match="must not replace"):
        annotate_copy(source, report, source)
    with pytest.raises(NccidError, match=r"\.xlsx"):
        annotate_copy(source, report, tmp_path / "copy.csv")


def test_text_report_groups_by_column_with_counts(tmp_path):
    rows = [main_row(i, Sex=9) for i in range(1, 14)] + [main_row(20, Age=7)]
    path = save_workbook(tmp_path / "m.xlsx", MAIN, rows)
    text = render_text(validate_workbook(path, today=TODAY))
    assert text.startswith("Main (PCR-positive) template v1.0: 14 patient rows.\n")
    assert "There is a problem: 14 errors (must be fixed) and 0 warnings" in text
    assert "14 rows with errors, 0 without." in text
    assert "Column D “Age”: 1 error\n  error   D15 (row 15): Age must be" in text
    assert "Column E “Sex (Male = 1, Female = 0)”: 13 errors\n" in text
    assert "  ... and 3 more in this column" in text
    assert text.index("Column D") < text.index("Column E")


def test_text_report_for_a_clean_sheet(tmp_path):
    path = save_workbook(tmp_path / "s.xlsx", STATUS, [status_row(1)])
    assert render_text(validate_workbook(path, today=TODAY)) == (
        "Covid Status (PCR-negative) template v1.0: 1 patient row.\n"
        "This Covid Status sheet has 1 patient; NCCID asks for 50 per upload, twice a week.\n"
        "No problems found: the sheet is ready to upload.\n")


def test_text_report_lists_sheet_problems_first(tmp_path):
    path = save_workbook(tmp_path / "s.xlsx", STATUS, [status_row(1)])
    text = render_text(validate_workbook(path, "main", today=TODAY))
    assert "Whole sheet and columns: 1 error\n  error   sheet: This is the Covid Status sheet" \
        in text
