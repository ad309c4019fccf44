"""The per-record check over warehouse JSON: what the validator writes passes, nothing else does.

The collection service runs this check on every record it receives; here it is proven on the
desktop side: every record built from a valid sheet passes it, each kind of bad value is
refused with the field and the rule named (never the value), and a rule added to the template
definitions is enforced by the sheet validator and by the record check alike.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nccid_desktop.identifier_shapes import IdentifierShapes
from nccid_desktop.sheets import definitions
from nccid_desktop.sheets.definitions import MAIN, STATUS, DateOrder
from nccid_desktop.sheets.meaning import template_for_kind
from nccid_desktop.sheets.payload import build_envelopes
from nccid_desktop.sheets.record_check import RecordCheck
from nccid_desktop.sheets.validator import validate_workbook
from tests.conftest import VALID_NHS_NUMBERS
from tests.sheets.builders import TODAY, main_row, save_workbook, status_row

NHS = VALID_NHS_NUMBERS[0]
FULL_WIDTH_NHS = "".join(chr(0xFF10 + int(d)) for d in NHS)
ARABIC_INDIC_NHS = "".join(chr(0x0660 + int(d)) for d in NHS)


def _records(tmp_path, template, rows, site_keys) -> list[dict[str, str]]:
    path = save_workbook(tmp_path / f"{template.id}.xlsx", template, rows)
    report = validate_workbook(path, template.id, today=TODAY)
    assert report.error_count == 0, [f.message for f in report.errors]
    return [e.record for e in build_envelopes(report, site_keys)]


def _check(kind: str, record: dict[str, str], site: str | None = "RSH",
           shapes: IdentifierShapes | None = None) -> list[tuple[str | None, str]]:
    template = template_for_kind(kind)
    assert template is not None
    check = RecordCheck(template, today=TODAY, shapes=shapes or IdentifierShapes())
    return [(p.field, p.code) for p in check.problems(record, site=site)]


@pytest.fixture
def main_record(tmp_path, site_keys) -> dict[str, str]:
    return _records(tmp_path, MAIN, [main_row(7)], site_keys)[0]


@pytest.fixture
def status_record(tmp_path, site_keys) -> dict[str, str]:
    return _records(tmp_path, STATUS, [status_row(7)], site_keys)[0]


def test_every_record_the_validator_writes_passes(tmp_path, site_keys) -> None:
    main = [main_row(seed, **({"PMH CKD": 0, "If CKD, stage": None} if seed % 3 else {}))
            for seed in range(1, 41)]
    main.append(main_row(400, **{"ITU admission": 1, "Date of ITU admission": "04/03/2020",
                                "Death": 1, "Date of death": datetime(2020, 3, 20),
                                "Date last known alive": None, "Ethnicity": "cz",
                                "Hospital": "  Royal   Surrey ", "Troponin T": 2.25}))
    status = [status_row(seed, SwabStatus=0) for seed in range(1, 21)]
    for kind, records in (("data", _records(tmp_path, MAIN, main, site_keys)),
                          ("status", _records(tmp_path, STATUS, status, site_keys))):
        assert len(records) in (41, 20)
        for record in records:
            assert _check(kind, record) == []


@pytest.mark.parametrize(("value", "code"), [
    (f"NHS {NHS}", "identifier_value"),
    (FULL_WIDTH_NHS, "identifier_value"),
    (ARABIC_INDIC_NHS, "identifier_value"),
    ("943-476-5919", "identifier_value"),
    ("ZZTESTPATIENT", "bad_code"),
    ("HOSPX12345", "bad_code"),
    ("2", "bad_code"),
    ("1.0", "bad_format"),
    (" 1", "bad_format"),
    ("\u0661", "bad_format"),  # an Arabic-Indic one: the value, not the warehouse's form
    ("0\n", "control_characters"),
    ("", "missing"),
    ("1", "negative_marked_positive"),  # a rule of meaning: this sheet is the negatives'
])
def test_a_bad_swab_status_is_refused_naming_field_and_rule(status_record, value, code) -> None:
    assert _check("status", {**status_record, "SwabStatus": value}) == [("SwabStatus", code)]


def test_the_sites_hospital_pattern_is_refused_in_any_field(main_record) -> None:
    shapes = IdentifierShapes.for_site(r"^HOSPX\d{5}$")
    record = {**main_record, "Hospital": "HOSPX12345 ward"}
    assert _check("data", record, shapes=shapes) == [("Hospital", "identifier_value")]
    assert _check("data", record) == []  # without the site's pattern it is plain text


@pytest.mark.parametrize(("change", "expected"), [
    ({"Age": "200"}, [("Age", "out_of_range")]),
    ({"Age": "54.5"}, [("Age", "not_whole")]),
    ({"Age": "054"}, [("Age", "bad_format")]),
    ({"Ethnicity": "a"}, [("Ethnicity", "bad_format")]),
    ({"Ethnicity": "Q"}, [("Ethnicity", "bad_ethnicity")]),
    ({"Temperature on admission": "37.50"}, [("Temperature on admission", "bad_format")]),
    ({"Temperature on admission": "hot"}, [("Temperature on admission", "not_a_number")]),
    ({"Date of admission": "2020-03-05"}, [("Date of admission", "bad_date")]),
    ({"Date of admission": "13/05/2020"}, [("Date of admission", "bad_date")]),
    ({"Date of admission": "05/03/2099"}, [("Date of admission", "date_future")]),
    ({"Date of admission": "05/03/1970"}, [("Date of admission", "date_too_old")]),
    ({"Hospital": " Royal"}, [("Hospital", "bad_format")]),
    ({"Heart rate on admission": NHS}, [("Heart rate on admission", "identifier_value")]),
    ({"If CKD, stage": "3", "PMH CKD": "0"}, [("If CKD, stage", "only_when")]),
    ({"Date of death": "03/01/2020", "Death": "1", "Date last known alive": ""},
     [("Date of death", "date_order")]),
    ({"Pseudonym": "Covid" + "\u0661" * 16}, [("Pseudonym", "bad_pseudonym")]),
    ({"SubmittingCentre": "OTH"}, [("SubmittingCentre", "submitting_centre")]),
    ({"Final COVID Status": "0"}, [("Final COVID Status", "positive_marked_negative")]),
])
def test_main_record_refusals(main_record, change, expected) -> None:
    assert _check("data", {**main_record, **change}) == expected


def test_the_shape_of_a_record_is_checked_first_and_stray_keys_are_not_named(
        main_record) -> None:
    extra = {**main_record, "Jane Smith": ""}
    assert _check("data", extra) == [(None, "unexpected_field")]
    template = template_for_kind("data")
    assert template is not None
    message = RecordCheck(template, today=TODAY).problems(extra)[0].message
    assert "Jane" not in message
    missing = dict(main_record)
    del missing["Ethnicity"]
    assert _check("data", missing) == [("Ethnicity", "missing_field")]
    assert _check("data", {**main_record, "Age": 54}) == [("Age", "not_text")]  # type: ignore[dict-item]


def test_without_a_site_the_centre_is_not_judged(main_record) -> None:
    assert _check("data", {**main_record, "SubmittingCentre": "Royal Sussex"}, site=None) == []


def test_no_problem_message_repeats_a_value(main_record) -> None:
    template = template_for_kind("data")
    assert template is not None
    planted = {**main_record, "Hospital": f"NHS {NHS}", "Ethnicity": FULL_WIDTH_NHS,
               "Age": ARABIC_INDIC_NHS, "Ferritin": "ZZTESTPATIENT"}
    text = json.dumps([dataclasses.asdict(p) for p in
                       RecordCheck(template, today=TODAY).problems(planted, site="RSH")])
    for value in (NHS, FULL_WIDTH_NHS, ARABIC_INDIC_NHS, "ZZTESTPATIENT"):
        assert value not in text


def test_a_rule_added_to_the_definitions_is_enforced_on_both_sides(
        tmp_path, site_keys, monkeypatch) -> None:
    """Admission after the first chest X-ray becomes an error in the definitions only."""
    row = main_row(5, **{"Date of 1st CXR": datetime(2020, 3, 1),
                         "Date of admission": datetime(2020, 3, 9)})
    record = _records(tmp_path, MAIN, [row], site_keys)[0]
    stricter = dataclasses.replace(MAIN, date_orders=(
        *MAIN.date_orders, DateOrder("Date of admission", "Date of 1st CXR")))
    monkeypatch.setitem(definitions.TEMPLATES, "main", stricter)
    path = save_workbook(tmp_path / "again.xlsx", MAIN, [row])
    report = validate_workbook(path, "main", today=TODAY)
    assert [(f.code, f.column) for f in report.errors] == [("date_order", "AV")]
    assert _check("data", record) == [("Date of 1st CXR", "date_order")]


@settings(max_examples=150, deadline=None)
@given(day=st.dates(min_value=date(1989, 12, 1), max_value=TODAY + timedelta(days=40)),
       order=st.sampled_from(["%m/%d/%Y", "%d/%m/%Y", "%Y-%m-%d", "%d/%m/%y"]))
def test_a_status_date_passes_only_in_the_warehouse_form_within_the_window(
        day: date, order: str) -> None:
    record = {"SwabDate": day.strftime(order), "SwabStatus": "0",
              "Pseudonym": "Covid" + "1" * 16, "SubmittingCentre": "RSH"}
    text = record["SwabDate"]
    try:
        read = datetime.strptime(text, "%d/%m/%Y").date()
    except ValueError:
        read = None
    expected = (read is not None and read.strftime("%d/%m/%Y") == text
                and date(1990, 1, 1) <= read <= TODAY)
    assert (_check("status", record) == []) is expected
