"""A patient on both sheets: by pseudonym, within one check and against the service."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from nccid_desktop.pseudonym import pseudonym_for
from nccid_desktop.sheets.cross_check import (
    HeldRecord,
    check_together,
    held_from_windows,
    sheet_patients,
)
from nccid_desktop.sheets.definitions import MAIN, STATUS
from nccid_desktop.sheets.findings import Severity
from nccid_desktop.sheets.validator import validate_workbook
from tests.sheets.builders import (
    HOSPITAL,
    NHS,
    TODAY,
    hospital_number,
    main_row,
    nhs_number,
    save_workbook,
    status_row,
)


def _reports(tmp_path, main_rows, status_rows):
    main = save_workbook(tmp_path / "main.xlsx", MAIN, main_rows)
    status = save_workbook(tmp_path / "status.xlsx", STATUS, status_rows)
    return (validate_workbook(main, "main", today=TODAY),
            validate_workbook(status, "status", today=TODAY))


def _found(report):
    return [(f.severity, f.code, f.cell, f.message) for f in report.findings]


def test_a_patient_on_both_sheets_is_an_error_on_both_rows_naming_the_other(tmp_path, site_keys):
    main, status = _reports(tmp_path, [main_row(1), main_row(2)],
                            [status_row(5), status_row(6), status_row(2)])
    check_together(main, status, site_keys)
    assert _found(main) == [(
        Severity.ERROR, "on_both_sheets", "B3",
        "This patient is also on the Covid Status sheet (row 4, cell B4). A patient with a "
        "positive swab is never a negative: remove them from the Covid Status sheet.")]
    assert _found(status) == [(
        Severity.ERROR, "on_both_sheets", "B4",
        "This patient is also on the Main sheet (row 3, cell B3), so they have had a positive "
        "swab. The Covid Status sheet is only for patients who never had one: remove them "
        "from this sheet.")]
    assert [r.row for r in main.valid_rows] == [2]
    assert [r.row for r in status.valid_rows] == [2, 3]
    assert (main.error_count, status.error_count) == (1, 1)
    assert not main.ok and not status.ok


def test_patients_meet_by_the_sites_linking_identifier(tmp_path, site_keys):
    """Same NHS number, hospital numbers written differently: one patient only when PACS keys
    on the NHS number."""
    main, status = _reports(tmp_path, [main_row(1)],
                            [status_row(9, **{NHS: nhs_number(1), HOSPITAL: "XX9"})])
    check_together(main, status, site_keys)
    assert main.findings == [] and status.findings == []
    check_together(main, status, site_keys, linking="nhs")
    assert [f.cell for f in main.findings] == ["A2"]
    assert [f.cell for f in status.findings] == ["A2"]


def test_rows_with_other_errors_are_still_compared(tmp_path, site_keys):
    main, status = _reports(tmp_path, [main_row(1, Sex=9)], [status_row(1, SwabStatus=1)])
    check_together(main, status, site_keys)
    assert [f.code for f in main.errors] == ["on_both_sheets", "bad_code"]
    assert [f.code for f in status.errors] == ["on_both_sheets", "negative_marked_positive"]


def _held(site_keys, seed, kind, day=None):
    return HeldRecord(pseudonym_for(site_keys, hospital_number=hospital_number(seed)), kind, day)


def test_an_older_negative_record_on_the_service_is_a_warning_saying_how_to_withdraw_it(
        tmp_path, site_keys):
    main, _ = _reports(tmp_path, [main_row(1), main_row(2)], [status_row(3)])
    check_together(main, None, site_keys,
                   held=[_held(site_keys, 2, "negative", date(2020, 3, 2))])
    [(severity, code, cell, message)] = _found(main)
    assert (severity, code, cell) == (Severity.WARNING, "negative_record_held", "B3")
    assert message.startswith("The collection service already holds an older Covid Status "
                              "(negative) record for this patient (test on 02/03/2020).")
    assert "withdraw the patient's Covid Status record" in message
    assert main.ok and len(main.valid_rows) == 2


def test_a_negative_row_for_a_patient_held_as_positive_is_an_error(tmp_path, site_keys):
    _, status = _reports(tmp_path, [main_row(1)], [status_row(3), status_row(4)])
    check_together(None, status, site_keys, held=[_held(site_keys, 4, "positive"),
                                                  _held(site_keys, 3, "negative")])
    [(severity, code, cell, message)] = _found(status)
    assert (severity, code, cell) == (Severity.ERROR, "positive_record_held", "B3")
    assert "remove them from this sheet" in message
    assert [r.row for r in status.valid_rows] == [2]


def test_records_of_the_same_kind_on_the_service_are_corrections_not_findings(tmp_path,
                                                                            site_keys):
    main, status = _reports(tmp_path, [main_row(1)], [status_row(3)])
    check_together(main, status, site_keys, held=[_held(site_keys, 1, "positive"),
                                                  _held(site_keys, 3, "negative")])
    assert main.findings == [] and status.findings == []


def test_what_the_service_reports_is_read_from_its_windows_answer(site_keys):
    pseudonym = pseudonym_for(site_keys, hospital_number="RR1")
    answer = [{"pseudonym": pseudonym, "windows": [{"kind": "negative", "test_date": "2020-03-02"},
                                                   {"kind": "positive", "test_date": "bad"}]},
              {"pseudonym": "RR1", "windows": [{"kind": "negative", "test_date": "2020-03-02"}]},
              {"pseudonym": pseudonym, "windows": [{"kind": "other"}, "junk"]},
              {"pseudonym": pseudonym, "windows": []}]
    assert held_from_windows(answer) == [HeldRecord(pseudonym, "negative", date(2020, 3, 2)),
                                         HeldRecord(pseudonym, "positive", None)]


def test_sheet_patients_carry_pseudonyms_and_cells_never_identifiers(tmp_path, site_keys):
    main, _ = _reports(tmp_path, [main_row(1), main_row(2, **{HOSPITAL: None})], [])
    [patient] = sheet_patients(main, site_keys)
    assert (patient.template, patient.row, patient.cell) == ("main", 2, "B2")
    assert patient.pseudonym == pseudonym_for(site_keys, hospital_number=hospital_number(1))
    assert patient.test_date == datetime(2020, 3, 2).date()
    assert hospital_number(1) not in repr(patient) and patient.pseudonym not in repr(patient)


def test_two_sheets_are_compared_without_the_site_keys(tmp_path):
    main, status = _reports(tmp_path, [main_row(1)], [status_row(1)])
    check_together(main, status, None)
    assert [f.cell for f in main.errors] == ["B2"] and [f.cell for f in status.errors] == ["B2"]
    with pytest.raises(ValueError, match="site keys"):
        check_together(main, None, None, held=[HeldRecord("Covid1", "negative")])


def test_an_opted_out_patient_is_never_compared(tmp_path, site_keys):
    """An opted-out row is never pseudonymised, so it meets neither the other sheet nor what
    the service holds: no finding for it, the rest compared as before."""
    from nccid_desktop.optouts import OptOutList

    main, status = _reports(tmp_path, [main_row(1), main_row(2)], [status_row(1), status_row(2)])
    opted = OptOutList("opt-outs.txt", frozenset({nhs_number(1)}))
    check_together(main, status, site_keys, opt_outs=opted,
                   held=[_held(site_keys, 1, "positive"), _held(site_keys, 2, "positive")])
    assert {f.cell for f in main.findings} == {"B3"}, "patient 1 (row 2) is not looked at"
    assert {f.cell for f in status.findings} == {"B3"}
    assert {f.code for f in status.findings} == {"on_both_sheets", "positive_record_held"}
    check_together(main, status, site_keys, held=[_held(site_keys, 1, "positive")])
    assert "B2" in {f.cell for f in status.findings}, "without the list, patient 1 is compared"
