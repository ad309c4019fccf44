"""Checks on meaning: each rule names the cell it must name, in the words the service uses."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from nccid_desktop.sheets.definitions import MAIN, STATUS
from nccid_desktop.sheets.findings import Severity
from nccid_desktop.sheets.meaning import check_record_meaning
from nccid_desktop.sheets.validator import validate_workbook
from tests.sheets.builders import TODAY, main_row, save_workbook, status_row

SWAB = "Date of Positive Covid Swab"
FIRST = "1st RT-PCR result"
SECOND = "2nd RT-PCR result"
FINAL = "Final COVID Status"


def check(tmp_path, rows, template=MAIN):
    path = save_workbook(tmp_path / "sheet.xlsx", template, rows)
    return validate_workbook(path, template.id, today=TODAY)


def found(report):
    return [(f.severity, f.code, f.cell) for f in report.findings]


def rule(template, field):
    return next(r for r in template.result_rules if r.field == field)


def test_a_positive_marked_negative_in_final_status_is_an_error_on_its_cell(tmp_path):
    report = check(tmp_path, [main_row(1), main_row(2, **{FINAL: 0})])
    assert found(report) == [(Severity.ERROR, "positive_marked_negative", "Y3")]
    assert report.errors[0].message == rule(MAIN, FINAL).message
    assert "move them to the Covid Status (negative) sheet" in report.errors[0].message
    assert [r.row for r in report.valid_rows] == [2]


def test_a_first_negative_test_with_no_positive_result_is_an_error(tmp_path):
    report = check(tmp_path, [main_row(1, **{FIRST: 0, FINAL: None})])
    assert found(report) == [(Severity.ERROR, "positive_marked_negative", "U2")]
    assert report.errors[0].message.startswith("1st RT-PCR result is Negative (0) and no "
                                               "result on this row is Positive")


def test_both_results_negative_are_two_errors_each_on_its_cell(tmp_path):
    report = check(tmp_path, [main_row(1, **{FIRST: 0, FINAL: 0})])
    assert found(report) == [(Severity.ERROR, "positive_marked_negative", "U2"),
                             (Severity.ERROR, "positive_marked_negative", "Y2")]


@pytest.mark.parametrize("later", [{FINAL: 1}, {FINAL: None, SECOND: 1}])
def test_a_first_negative_test_followed_by_a_positive_is_a_warning(tmp_path, later):
    """NCCID's FAQ: patients may test negative several times before a positive result."""
    report = check(tmp_path, [main_row(1, **{FIRST: 0, **later})])
    assert found(report) == [(Severity.WARNING, "first_test_negative", "U2")]
    assert report.ok and len(report.valid_rows) == 1


def test_a_negative_marked_positive_is_an_error_on_the_result_cell(tmp_path):
    report = check(tmp_path, [status_row(1), status_row(2, SwabStatus=1)], STATUS)
    assert found(report) == [(Severity.ERROR, "negative_marked_positive", "D3")]
    assert "never had a positive swab" in report.errors[0].message
    assert "Main (PCR-positive) sheet" in report.errors[0].message


def _recent(days_ago: int, field: str = SWAB, **more):
    swab = datetime.combine(TODAY, datetime.min.time()) - timedelta(days=days_ago)
    values = {SWAB: None, "Date of acquisition of 1st RT-PCR": None,
              "Date of result of 1st RT-PCR": None, "Date of admission": swab,
              "Date of 1st CXR": swab, "Date last known alive": None, field: swab, **more}
    return main_row(1, **values)


@pytest.mark.parametrize("days_ago", [0, 1, 13])
def test_a_swab_under_14_days_old_is_a_warning_with_the_day_to_send(tmp_path, days_ago):
    report = check(tmp_path, [_recent(days_ago)])
    assert found(report) == [(Severity.WARNING, "recent_swab", "R2")]
    send_after = (TODAY - timedelta(days=days_ago) + timedelta(days=14)).strftime("%d/%m/%Y")
    assert f"outcomes may not be known yet: send after {send_after}." in \
        report.warnings[0].message
    assert report.ok


def test_a_swab_14_days_old_is_fine(tmp_path):
    assert check(tmp_path, [_recent(14)]).findings == []


def test_without_a_swab_date_the_first_test_date_counts(tmp_path):
    report = check(tmp_path, [_recent(3, "Date of acquisition of 1st RT-PCR")])
    assert found(report) == [(Severity.WARNING, "recommended", "R2"),
                             (Severity.WARNING, "recent_swab", "S2")]


def test_a_recent_negative_test_is_not_a_warning(tmp_path):
    row = status_row(1, SwabDate=datetime.combine(TODAY, datetime.min.time()))
    assert check(tmp_path, [row], STATUS).findings == []


def test_the_status_sheet_count_is_shown_against_the_50_requested(tmp_path):
    report = check(tmp_path, [status_row(i) for i in range(1, 4)], STATUS)
    assert [(n.code, n.message) for n in report.notes] == [
        ("requested_rows",
         "This Covid Status sheet has 3 patients; NCCID asks for 50 per upload, twice a week.")]
    assert report.to_json()["notes"] == [n.to_json() for n in report.notes]
    assert check(tmp_path, [main_row(1)]).notes == []


def test_a_record_gets_the_same_words_as_the_sheet(tmp_path):
    """The collection service checks warehouse records (all text) with the same rules."""
    report = check(tmp_path, [main_row(1, **{FINAL: 0})])
    record = {key: "" for key in MAIN.record_keys} | {FINAL: "0", FIRST: "1",
                                                       SWAB: "11/01/2026"}
    [problem] = check_record_meaning("data", record, TODAY)
    assert (problem.severity, problem.code, problem.field, problem.message) == (
        Severity.ERROR, "positive_marked_negative", FINAL, report.errors[0].message)
    status = {"SwabDate": "01/11/2026", "SwabStatus": "1"}
    [problem] = check_record_meaning("status", status, TODAY)
    assert problem.message == rule(STATUS, "SwabStatus").message


def test_a_record_swab_date_is_read_in_the_warehouse_order():
    record = {SWAB: (TODAY - timedelta(days=2)).strftime("%m/%d/%Y"), FINAL: "1"}
    [problem] = check_record_meaning("data", record, TODAY)
    assert (problem.code, problem.field) == ("recent_swab", SWAB)
    assert check_record_meaning("data", {SWAB: "not a date", FINAL: "x"}, TODAY) == []
