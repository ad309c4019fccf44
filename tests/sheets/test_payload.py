"""Valid rows become warehouse records in envelopes: shape, strings, dates, keys, tokens."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from nccid_desktop.errors import IdentifierError, NccidError
from nccid_desktop.pseudonym import nhs_index, open_linkage_token, pseudonym_for
from nccid_desktop.records import ClinicalEnvelope
from nccid_desktop.sheets.definitions import MAIN, STATUS
from nccid_desktop.sheets.findings import ValidRow
from nccid_desktop.sheets.payload import build_envelopes, warehouse_json, write_warehouse_files
from nccid_desktop.sheets.validator import validate_workbook
from tests.sheets.builders import (
    HOSPITAL,
    NHS,
    TODAY,
    hospital_number,
    main_row,
    nhs_number,
    plain_workbook,
    row_values,
    save_workbook,
    status_row,
)


def report_for(tmp_path, template, rows):
    path = save_workbook(tmp_path / f"{template.id}.xlsx", template, rows)
    return validate_workbook(path, template.id, today=TODAY)


def test_main_record_has_every_key_as_strings_with_us_dates(tmp_path, site_keys):
    row = main_row(3, **{"Date of admission": "05/03/2020", "Age": 45.0, "FiO2": "28",
                         "Temperature on admission": 37.5, "Date of death": None})
    [envelope] = build_envelopes(report_for(tmp_path, MAIN, [row]), site_keys)
    record = envelope.record
    assert list(record) == [*MAIN.record_keys, "Pseudonym", "SubmittingCentre"]
    assert all(isinstance(v, str) for v in record.values())
    assert record["Date of admission"] == "03/05/2020"  # MM/DD/YYYY
    assert record["Age"] == "45" and record["FiO2"] == "28"
    assert record["Temperature on admission"] == "37.5"
    assert record["Date of death"] == "" and record["Fibrinogen  if d-dimer not performed"] == ""
    assert record["Sex"] == "1" and record["Ethnicity"] == "A"
    assert record["SubmittingCentre"] == "RSH"
    assert envelope.kind == "data" and envelope.row == 2 and envelope.site == "RSH"
    assert envelope.warehouse_name == f"{envelope.pseudonym}_data.json"


def test_status_record_swab_date_is_day_first(tmp_path, site_keys):
    rows = [status_row(1, SwabDate=datetime(2020, 4, 7), SwabStatus="0")]
    [envelope] = build_envelopes(report_for(tmp_path, STATUS, rows), site_keys,
                                 centre="Royal Sussex")
    assert envelope.record == {"SwabDate": "07/04/2020", "SwabStatus": "0",
                               "Pseudonym": envelope.pseudonym,
                               "SubmittingCentre": "Royal Sussex"}
    assert envelope.kind == "status"


def test_pseudonym_index_and_token_come_from_the_identifiers(tmp_path, site_keys,
                                                             controller_private_pem):
    row = status_row(1, **{HOSPITAL: " rr00000001", NHS: "943 476 5919"})
    [envelope] = build_envelopes(report_for(tmp_path, STATUS, [row]), site_keys)
    assert envelope.pseudonym == pseudonym_for(site_keys, hospital_number="RR00000001")
    assert envelope.record["Pseudonym"] == envelope.pseudonym
    assert envelope.nhs_index == nhs_index(site_keys, "9434765919")
    assert open_linkage_token(controller_private_pem, envelope.linkage_token, "RSH") == \
        "9434765919"
    [by_nhs] = build_envelopes(report_for(tmp_path, STATUS, [row]), site_keys, linking="nhs")
    assert by_nhs.pseudonym == pseudonym_for(site_keys, nhs_number="9434765919", linking="nhs")
    assert ClinicalEnvelope.from_json(json.loads(json.dumps(envelope.to_json()))) == envelope


def test_no_identifier_in_the_warehouse_file(tmp_path, site_keys):
    rows = [main_row(i) for i in range(1, 6)]
    envelopes = build_envelopes(report_for(tmp_path, MAIN, rows), site_keys)
    for envelope, row in zip(envelopes, rows, strict=True):
        content = warehouse_json(envelope).decode()
        assert row[NHS] not in content and row[HOSPITAL] not in content
        assert envelope.nhs_index not in content and "linkage" not in content
        assert set(json.loads(content)) == {*MAIN.record_keys, "Pseudonym", "SubmittingCentre"}


def test_errors_block_unless_partial_and_sheet_errors_always_block(tmp_path, site_keys):
    report = report_for(tmp_path, STATUS, [status_row(1), status_row(2, SwabStatus=5)])
    with pytest.raises(NccidError, match="1 problem"):
        build_envelopes(report, site_keys)
    partial = build_envelopes(report, site_keys, allow_partial=True)
    assert [e.row for e in partial] == [2]
    headers = [c.header for c in STATUS.columns] + ["Notes"]
    path = plain_workbook(tmp_path / "added.xlsx",
                          [headers, row_values(STATUS, status_row(1))])
    added = validate_workbook(path, today=TODAY)
    with pytest.raises(NccidError, match="sheet itself"):
        build_envelopes(added, site_keys, allow_partial=True)
    wrong = validate_workbook(tmp_path / "status.xlsx", "main", today=TODAY)
    with pytest.raises(NccidError, match="Upload Covid Status"):
        build_envelopes(wrong, site_keys, allow_partial=True)


def test_fails_closed_if_an_nhs_number_reached_a_value(tmp_path, site_keys):
    report = report_for(tmp_path, STATUS, [status_row(1)])
    nhs = nhs_number(1)
    report.valid_rows[0] = ValidRow(2, ("01/04/2020", f"x{nhs}"), nhs, hospital_number(1))
    with pytest.raises(IdentifierError) as caught:
        build_envelopes(report, site_keys)
    assert nhs not in str(caught.value)


def test_progress_and_cancel(tmp_path, site_keys):
    from nccid_desktop.errors import CancelledError
    from nccid_desktop.tasks import CancelToken

    report = report_for(tmp_path, STATUS, [status_row(i) for i in range(1, 4)])
    seen = []
    build_envelopes(report, site_keys, progress=seen.append)
    assert (seen[-1].done, seen[-1].total) == (3, 3)
    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        build_envelopes(report, site_keys, cancel=token)


def test_warehouse_files_are_written_once_and_never_overwritten(tmp_path, site_keys):
    report = report_for(tmp_path, STATUS, [status_row(1), status_row(2)])
    envelopes = build_envelopes(report, site_keys)
    out = tmp_path / "records"
    written = write_warehouse_files(envelopes, out)
    assert sorted(p.name for p in out.iterdir()) == sorted(e.warehouse_name for e in envelopes)
    assert len(written) == 2
    assert json.loads(written[0].read_text()) == envelopes[0].record
    assert write_warehouse_files(envelopes, out) == []  # same content: left as it is
    changed = ClinicalEnvelope(**{**envelopes[0].__dict__,
                                  "record": {**envelopes[0].record, "SwabStatus": "1"}})
    with pytest.raises(NccidError, match="already exists"):
        write_warehouse_files([changed], out)
