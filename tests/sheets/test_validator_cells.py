"""Cell-level rules: one test per rule, each on a real workbook built in code."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from openpyxl.utils import column_index_from_string

from nccid_desktop.errors import CancelledError
from nccid_desktop.sheets.definitions import MAIN, STATUS
from nccid_desktop.sheets.findings import Severity
from nccid_desktop.sheets.validator import validate_workbook
from nccid_desktop.tasks import CancelToken
from tests.sheets.builders import (
    HOSPITAL,
    NHS,
    TODAY,
    build_workbook,
    hospital_number,
    main_row,
    nhs_number,
    row_values,
    save_workbook,
    status_row,
)


def check(tmp_path, rows, template=MAIN, **options):
    path = save_workbook(tmp_path / "sheet.xlsx", template, rows)
    return validate_workbook(path, template.id, today=TODAY, **options)


def only(report, severity=Severity.ERROR):
    found = [(f.code, f.cell) for f in report.findings if f.severity is severity]
    return found


def test_a_valid_row_has_no_findings_and_becomes_a_valid_row(tmp_path):
    report = check(tmp_path, [main_row(1)])
    assert report.ok and report.findings == [] and report.rows == 1
    [valid] = report.valid_rows
    assert valid.row == 2 and valid.nhs_number == nhs_number(1)
    assert valid.hospital_number == hospital_number(1)
    assert "nhs_number" not in repr(valid) and nhs_number(1) not in repr(valid)


def test_finding_has_row_column_header_cell_and_plain_message(tmp_path):
    report = check(tmp_path, [main_row(1), main_row(2, Sex=7)])
    [finding] = report.errors
    assert (finding.row, finding.column, finding.cell) == (3, "E", "E3")
    assert finding.header == "Sex (Male = 1, Female = 0)"
    assert finding.code == "bad_code"
    assert finding.message == "Sex must be one of 0 (Female) or 1 (Male)."
    assert finding.to_json() == {"row": 3, "column": "E", "header": finding.header,
                                 "cell": "E3", "code": "bad_code", "message": finding.message}


@pytest.mark.parametrize("field, value, code", [
    ("Age", "forty", "not_a_number"),
    ("Age", 12, "out_of_range"),
    ("Age", 104, "out_of_range"),
    ("Age", 45.5, "not_whole"),
    ("Pack year history", -1, "out_of_range"),
    ("Smoking status", 4, "bad_code"),
    ("PMH Lung disease", "COPD", "bad_code"),
    ("Ethnicity", "Q", "bad_ethnicity"),
    ("FiO2", 20, "out_of_range"),
    ("O2 saturation", 101, "out_of_range"),
    ("Temperature on admission", 98.6, "out_of_range"),
    ("NEWS2 score on arrival", 18, "out_of_range"),
    ("Troponin T", 1.5, "out_of_range"),
    ("Duration of symptoms", 0, "out_of_range"),
    ("CRP on admission", "<5", "not_a_number"),
    ("CXR severity", 0, "bad_code"),
    ("COVID CODE 2", 4, "bad_code"),
    ("APACHE score on ITU arrival", 72, "out_of_range"),
    ("Date of admission", "03/25/2020", "bad_date"),
    ("Date of admission", "soon", "bad_date"),
    ("Date of admission", datetime(2027, 1, 1), "date_future"),
    ("Date of admission", "01/01/1960", "date_too_old"),
    ("Sex", True, "bad_code"),
])
def test_types_codes_ranges_and_dates(tmp_path, field, value, code):
    changes = {field: value}
    if field == "APACHE score on ITU arrival":
        changes["ITU admission"] = 1
    report = check(tmp_path, [main_row(1, **changes)])
    assert [f.code for f in report.errors] == [code]
    assert report.valid_rows == []


@pytest.mark.parametrize("field, value, text", [
    ("Age", "45", "45"),
    ("Age", 45.0, "45"),
    ("Temperature on admission", " 37.5 ", "37.5"),
    ("Sex", "1", "1"),
    ("Sex", 1.0, "1"),
    ("Hospital", 1234, "1234"),
    ("Ethnicity", "ca", "CA"),
    ("Date of admission", "05/03/2020", "03/05/2020"),
    ("Date of admission", datetime(2020, 3, 5), "03/05/2020"),
    ("Date of admission", "2020-03-05", "03/05/2020"),
])
def test_numbers_as_text_and_text_as_numbers_are_read(tmp_path, field, value, text):
    report = check(tmp_path, [main_row(1, **{field: value})])
    assert report.ok, report.findings
    assert report.valid_rows[0].values[MAIN.record_keys.index(field)] == text


def test_date_warnings(tmp_path):
    report = check(tmp_path, [main_row(1, **{"Date of 1st CXR": "01/06/2019"}),
                              main_row(2, **{"Date of admission": 43891})])
    assert report.ok
    assert only(report, Severity.WARNING) == [("date_before_covid", "AV2"),
                                              ("date_serial", "Z3")]
    assert MAIN.columns[column_index_from_string("AV") - 1].key == "Date of 1st CXR"
    assert len(report.valid_rows) == 2


def test_today_is_a_parameter(tmp_path):
    path = save_workbook(tmp_path / "s.xlsx", MAIN, [main_row(1, **{
        "Date of admission": datetime(2026, 1, 2)})])
    assert validate_workbook(path, today=date(2026, 1, 2)).ok
    assert not validate_workbook(path, today=date(2026, 1, 1)).ok


@pytest.mark.parametrize("earlier, later, severity", [
    ("Date of acquisition of 1st RT-PCR", "Date of result of 1st RT-PCR", Severity.ERROR),
    ("Date of admission", "Date of death", Severity.ERROR),
    ("Date of 1st CXR", "Date of 2nd CXR", Severity.ERROR),
    ("Date of admission", "Date of ITU admission", Severity.WARNING),
])
def test_dates_in_order(tmp_path, earlier, later, severity):
    changes = {earlier: "10/04/2020", later: "09/04/2020", "Death": 1, "ITU admission": 1,
               "Date last known alive": "08/04/2020"}
    report = check(tmp_path, [main_row(1, **changes)])
    orders = [f for f in report.findings if f.code == "date_order"]
    assert [(f.severity, f.header) for f in orders] == [
        (severity, MAIN.column(later).header)]
    assert earlier in orders[0].message


def test_conditional_fields(tmp_path):
    report = check(tmp_path, [
        main_row(1, **{"PMH CKD": 0, "If CKD, stage": 3}),
        main_row(2, **{"Death": 0, "Date of death": "10/04/2020"}),
        main_row(3, **{"Death": 1}),
        main_row(4, **{"PMH CKD": 1, "If CKD, stage": None}),
        main_row(5, **{"ITU admission": 1, "Date of ITU admission": "02/04/2020",
                       "Intubation": 1, "Date of intubation": "03/04/2020"}),
    ])
    assert only(report) == [("only_when", "L2"), ("only_when", "BH3")]
    assert only(report, Severity.WARNING) == [("expected_when", "BH4"),
                                              ("expected_when", "L5")]
    errors = {f.cell: f.message for f in report.errors}
    assert errors["L2"] == "If CKD, stage should be filled in only when PMH CKD is Yes (1)."
    assert errors["BH3"] == "Date of death should be filled in only when Death is Yes (1)."
    assert [r.row for r in report.valid_rows] == [4, 5, 6]


@pytest.mark.parametrize("raw, code", [
    ("9434765918", "nhs_check_digit"),
    ("943476591", "nhs_length"),
    ("943 476 591X", "nhs_not_digits"),
    ("1111111111", "nhs_placeholder"),
    (None, "nhs_missing"),
])
def test_nhs_numbers_must_pass_modulus_11(tmp_path, raw, code):
    report = check(tmp_path, [main_row(1, **{NHS: raw})])
    [finding] = report.errors
    assert (finding.code, finding.cell) == (code, "A2")
    assert report.valid_rows == []


def test_nhs_numbers_as_people_write_them(tmp_path):
    report = check(tmp_path, [main_row(1, **{NHS: "943 476 5919"}),
                              main_row(2, **{NHS: "401-023-2137"}),
                              main_row(3, **{NHS: 123456789})])  # lost its leading zero
    assert report.ok
    assert [r.nhs_number for r in report.valid_rows] == ["9434765919", "4010232137",
                                                         "0123456789"]


def test_hospital_numbers_required_normalised_and_pattern_warnings(tmp_path):
    report = check(tmp_path, [main_row(1, **{HOSPITAL: " rr00000001 "}),
                              main_row(2, **{HOSPITAL: "XX123"}),
                              main_row(3, **{HOSPITAL: None})],
                   hospital_pattern=r"^RR\d{8}$")
    assert only(report) == [("hospital_missing", "B4")]
    assert only(report, Severity.WARNING) == [("hospital_pattern", "B3")]
    assert [r.hospital_number for r in report.valid_rows] == ["RR00000001", "XX123"]


def test_duplicate_patients_are_errors_on_both_rows(tmp_path):
    report = check(tmp_path, [main_row(1), main_row(2), main_row(3, **{NHS: nhs_number(1)}),
                              main_row(4, **{HOSPITAL: hospital_number(2).lower()})])
    assert only(report) == [("duplicate_patient", "A2"), ("duplicate_patient", "B3"),
                            ("duplicate_patient", "A4"), ("duplicate_patient", "B5")]
    messages = {f.cell: f.message for f in report.errors}
    assert messages["A4"].startswith("This patient (same NHS/CHI number) is also on row 2.")
    assert messages["A2"].startswith("This patient (same NHS/CHI number) appears again on row 4")
    assert report.valid_rows == []


def test_identifier_typed_into_a_text_column(tmp_path):
    report = check(tmp_path, [
        main_row(1, Hospital=f"Royal Sussex {nhs_number(5)}"),
        main_row(2, Hospital=f"ward 3 ({hospital_number(2)})"),
        main_row(3, Hospital="Royal Sussex County Hospital 2020"),
    ])
    assert only(report) == [("identifier_in_cell", "C2"), ("identifier_in_cell", "C3")]
    assert [r.row for r in report.valid_rows] == [4]


def test_identifier_shaped_values_in_any_column_as_the_service_refuses_them(tmp_path):
    full_width = "".join(chr(0xFF10 + int(d)) for d in nhs_number(5))
    report = check(tmp_path, [
        main_row(1, Ferritin=4010232137),
        main_row(2, Hospital=f"Royal Sussex {full_width}"),
        main_row(3, Hospital="Seen at HOSPX12345"),
    ], hospital_pattern=r"^HOSPX\d{5}$")
    assert only(report) == [("identifier_in_cell", "AQ2"), ("identifier_in_cell", "C3"),
                            ("identifier_in_cell", "C4")]


def test_status_sheet_required_fields(tmp_path):
    report = check(tmp_path, [status_row(1), status_row(2, SwabDate=None, SwabStatus=None),
                              status_row(3, SwabStatus=2)], template=STATUS)
    assert only(report) == [("missing", "C3"), ("missing", "D3"), ("bad_code", "D4")]
    missing = next(f for f in report.errors if f.cell == "C3")
    assert missing.message == "Date of RT-PCR is required. Enter a date as dd/mm/yyyy."
    assert [r.row for r in report.valid_rows] == [2]


def test_every_problem_at_once_capped_per_column_but_counted(tmp_path):
    rows = [main_row(i, Age="?", Sex=9) for i in range(1, 31)]
    path = save_workbook(tmp_path / "many.xlsx", MAIN, rows)
    report = validate_workbook(path, today=TODAY, max_findings_per_column=5)
    assert report.error_count == 60 and report.rows == 30
    assert len([f for f in report.errors if f.column == "D"]) == 5
    assert report.counts[("D", Severity.ERROR)] == 30
    assert report.to_json()["error_count"] == 60
    everything = validate_workbook(path, today=TODAY, max_findings_per_column=None)
    assert len(everything.errors) == 60


def test_findings_are_ordered_by_row_then_column(tmp_path):
    report = check(tmp_path, [main_row(1, Sex=5, Age=1), main_row(2, Age=1)])
    assert [f.cell for f in report.findings] == ["D2", "E2", "D3"]


def test_progress_and_cancel(tmp_path):
    path = save_workbook(tmp_path / "p.xlsx", STATUS, [status_row(i) for i in range(1, 601)])
    seen = []
    report = validate_workbook(path, today=TODAY, progress=seen.append)
    assert report.rows == 600 and report.ok
    assert [p.done for p in seen[:2]] == [250, 500]
    assert seen[-1].message == "Checked" and seen[-1].fraction == 1.0
    token = CancelToken()

    def cancel_at_first_report(_):
        token.cancel()

    with pytest.raises(CancelledError):
        validate_workbook(path, today=TODAY, progress=cancel_at_first_report, cancel=token)


def test_row_numbers_are_excel_rows_across_gaps(tmp_path):
    workbook = build_workbook(STATUS, [status_row(1)])
    sheet = workbook.worksheets[0]
    for column, value in enumerate(row_values(STATUS, status_row(2, SwabStatus=4)), start=1):
        sheet.cell(row=9, column=column, value=value)  # rows 3 to 8 do not exist in the file
    workbook.save(tmp_path / "gaps.xlsx")
    report = validate_workbook(tmp_path / "gaps.xlsx", today=TODAY)
    assert report.rows == 2
    assert [(f.row, f.cell) for f in report.errors] == [(9, "D9")]


def test_a_date_that_does_not_exist_is_reported_as_not_real_not_as_a_bad_format(tmp_path):
    report = check(tmp_path, [main_row(1, **{"Date of admission": "31/02/2026"})])
    [finding] = report.errors
    assert finding.code == "bad_date"
    assert finding.message.startswith("31/02/2026 is not a real date")
    assert "Date of admission" in finding.message and "dd/mm/yyyy" in finding.message
    assert "must be a date as" not in finding.message
