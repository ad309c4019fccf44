"""The two templates as data: the order, headers and JSON keys the spec fixes."""

from __future__ import annotations

import re

from nccid_desktop.sheets.definitions import MAIN, STATUS, TEMPLATES, template_by_id

SPEC_MAIN_KEYS = (
    "Hospital", "Age", "Sex", "Smoking status", "Pack year history", "PMH hypertension",
    "PMH CVS disease", "PMH Lung disease", "PMH CKD", "If CKD, stage",
    "PMH diabetes mellitus type II", "Current ACEi use",
    "Current Angiotension receptor blocker use", "Current NSAID used", "Ethnicity",
    "Date of Positive Covid Swab", "Date of acquisition of 1st RT-PCR",
    "Date of result of 1st RT-PCR", "1st RT-PCR result", "Date of acquisition of 2nd RT-PCR",
    "Date of result of 2nd RT-PCR", "2nd RT-PCR result", "Final COVID Status",
    "Date of admission", "Duration of symptoms", "Respiratory rate on admission",
    "Heart rate on admission", "FiO2", "O2 saturation", "PaO2", "Systolic BP", "Diastolic BP",
    "Temperature on admission", "NEWS2 score on arrival", "WCC on admission",
    "Lymphocyte count on admission", "Platelet count on admission", "CRP on admission",
    "D-dimer on admission", "Fibrinogen  if d-dimer not performed", "Ferritin",
    "Urea on admission", "Creatinine on admission", "Troponin I", "Troponin T",
    "Date of 1st CXR", "CXR severity", "COVID CODE", "Date of 2nd CXR", "CXR severity 3",
    "COVID CODE 2", "ITU admission", "Date of ITU admission", "APACHE score on ITU arrival",
    "Intubation", "Date of intubation", "Death", "Date of death", "Date last known alive",
)


def test_main_keys_follow_the_spec_in_order_quirks_included():
    assert MAIN.record_keys == SPEC_MAIN_KEYS
    assert "Fibrinogen  if d-dimer not performed" in MAIN.record_keys  # two spaces


def test_identifiers_come_first_and_are_never_record_keys():
    for template in TEMPLATES.values():
        first_two = [c.header for c in template.columns[:2]]
        assert first_two == ["NHS/CHI Number", "Hospital (Internal) Number"]
        assert all(c.key is None for c in template.columns[:2])
        assert not any(c.is_identifier for c in template.columns[2:])


def test_status_header_row_is_exactly_the_spec():
    assert [c.header for c in STATUS.columns] == [
        "NHS/CHI Number",
        "Hospital (Internal) Number",
        "Date of RT-PCR",
        "RT-PCR result (COVID-19 negative = 0, COVID-19 positive = 1)",
    ]
    assert STATUS.record_keys == ("SwabDate", "SwabStatus")


def test_main_headers_carry_their_coding_or_unit():
    headers = {c.key: c.header for c in MAIN.columns if c.key}
    assert headers["Sex"] == "Sex (Male = 1, Female = 0)"
    assert headers["Smoking status"] == (
        "Smoking status (Never = 0, Ex-smoker = 1, Current = 2, Unknown = 3)")
    assert headers["If CKD, stage"] == "If CKD, stage (2, 3, 4, 5)"
    assert headers["Temperature on admission"] == "Temperature on admission (°C)"
    assert headers["CXR severity 3"] == (
        "CXR severity of 2nd CXR (Mild = 1, Moderate = 2, Severe = 3)")
    assert headers["COVID CODE 2"] == "COVID CODE of 2nd CXR (same coding)"
    assert headers["Fibrinogen  if d-dimer not performed"] == (
        "Fibrinogen if d-dimer not performed (g/L)")


def test_codes_in_headers_agree_with_the_allowed_codes():
    for template in TEMPLATES.values():
        for column in template.columns:
            written = {int(n) for n in re.findall(r"= (\d+)", column.header)}
            if written:
                assert written == set(column.allowed_codes), column.header


def test_rules_refer_to_existing_keys():
    for template in TEMPLATES.values():
        for rule in template.only_when:
            template.column(rule.field)
            assert template.column(rule.parent).kind == "code"
        for order in template.date_orders:
            assert template.column(order.earlier).kind == "date"
            assert template.column(order.later).kind == "date"


def test_record_date_formats_and_kinds():
    assert (MAIN.record_kind, MAIN.record_date_format) == ("data", "%m/%d/%Y")
    assert (STATUS.record_kind, STATUS.record_date_format) == ("status", "%d/%m/%Y")
    assert template_by_id("status") is STATUS
