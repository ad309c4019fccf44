"""The NCCID profile: compiled from Table E.1-1 with the NCCID options, and its value rules."""

from __future__ import annotations

import json

import pytest
from pydicom.datadict import tag_for_keyword
from pydicom.dataset import Dataset

from nccid_desktop.dicom.deid._annex_e import ROWS
from nccid_desktop.dicom.deid.profile import (
    BASIC_ACTIONS,
    METHOD_CODES,
    METHOD_TEXT,
    Action,
    compile_profile,
    is_removed_group,
    removed_tags,
    row_action,
)
from nccid_desktop.dicom.deid.values import (
    DUMMY_VALUES,
    birth_year,
    contains_identifier,
    identifying_strings,
    patient_age,
    shift_date,
    shift_dates,
)
from tools import make_annex_e as _make_annex_e


def action(keyword: str) -> Action:
    tag = tag_for_keyword(keyword)
    assert tag is not None, keyword
    return compile_profile().actions[tag]


def test_generated_table_matches_a_fresh_render_of_the_standard_json():
    source = json.loads(_make_annex_e.DEFAULT_SOURCE.read_text(encoding="utf-8"))
    assert len(source) == 621 == len(ROWS)
    assert _make_annex_e.render(source) == _make_annex_e.TARGET.read_text(encoding="utf-8")
    assert "Innolitics" in _make_annex_e.TARGET.read_text(encoding="utf-8")


def test_generator_check_mode_reports_up_to_date(capsys):
    assert _make_annex_e.main(["--check"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_every_exact_row_of_the_table_has_an_action():
    profile = compile_profile()
    exact = [int(r[0], 16) for r in ROWS if len(r[0]) == 8 and "x" not in r[0]]
    assert len(exact) == 617
    assert all(tag in profile.actions for tag in exact)


@pytest.mark.parametrize(("code", "expected"), [
    ("X", Action.REMOVE), ("Z", Action.EMPTY), ("D", Action.DUMMY), ("U", Action.REMAP_UID),
    ("X/Z", Action.EMPTY), ("X/D", Action.DUMMY), ("X/Z/D", Action.EMPTY),
    ("Z/D", Action.EMPTY), ("X/Z/U*", Action.REMAP_UID),
])
def test_combined_basic_actions_resolve_to_the_valid_conservative_choice(code, expected):
    assert BASIC_ACTIONS[code] is expected
    assert row_action("LO", code, {}) is expected


@pytest.mark.parametrize(("keyword", "expected"), [
    # Basic Profile
    ("AccessionNumber", Action.EMPTY),
    ("ReferringPhysicianName", Action.EMPTY),
    ("OtherPatientIDs", Action.REMOVE),
    ("OtherPatientIDsSequence", Action.REMOVE),
    ("PatientAddress", Action.REMOVE),
    ("OperatorsName", Action.EMPTY),            # X/Z/D
    ("InstitutionName", Action.EMPTY),          # X/Z/D, Retain Institution not applied
    ("AcquisitionDeviceProcessingDescription", Action.DUMMY),  # X/D
    ("ReferencedImageSequence", Action.REMAP_UID),  # X/Z/U*
    ("StudyInstanceUID", Action.REMAP_UID),
    ("SOPInstanceUID", Action.REMAP_UID),
    ("AffectedSOPInstanceUID", Action.REMOVE),
    # Retain Patient Characteristics
    ("PatientSex", Action.KEEP), ("PatientAge", Action.KEEP), ("PatientSize", Action.KEEP),
    ("PatientWeight", Action.KEEP), ("EthnicGroup", Action.KEEP),
    ("Allergies", Action.REMOVE),               # option C: falls back to the Basic action
    # Retain Device Identity
    ("DeviceSerialNumber", Action.KEEP), ("StationName", Action.KEEP),
    ("DetectorID", Action.KEEP), ("DateOfManufacture", Action.SHIFT_DATE),
    ("StationAETitle", Action.REMOVE),          # option C: falls back
    # Retain Longitudinal Temporal Information with Modified Dates
    ("InstanceCreationDate", Action.SHIFT_DATE), ("AdmittingDate", Action.SHIFT_DATE),
    ("InstanceCreationTime", Action.KEEP),      # TM: whole-day shift leaves it unchanged
    # NCCID decisions
    ("StudyDate", Action.KEEP), ("SeriesDate", Action.KEEP), ("AcquisitionDate", Action.KEEP),
    ("ContentDate", Action.KEEP), ("StudyTime", Action.KEEP),
    ("AcquisitionDateTime", Action.KEEP),
    ("PatientID", Action.PSEUDONYM), ("PatientName", Action.PSEUDONYM),
    ("PatientBirthDate", Action.BIRTH_YEAR),
    ("StudyDescription", Action.CLEAN_DESCRIPTION),
    ("SeriesDescription", Action.CLEAN_DESCRIPTION),
    ("ProtocolName", Action.CLEAN_DESCRIPTION),
    ("ImageComments", Action.REMOVE),           # other cleanDescOpt rows follow Basic
])
def test_nccid_actions_per_attribute(keyword, expected):
    assert action(keyword) is expected


def test_date_option_on_a_row_that_is_not_a_date_falls_back_to_basic():
    assert row_action("SH", "X", {"rtnLongModifDatesOpt": "C"}) is Action.REMOVE
    assert row_action("DT", "X", {"rtnLongModifDatesOpt": "C"}) is Action.SHIFT_DATE


def test_attributes_outside_the_table_act_by_their_vr():
    profile = compile_profile()
    manufacturer = tag_for_keyword("Manufacturer")
    assert profile.action_for(manufacturer, "LO") is Action.KEEP
    assert profile.action_for(tag_for_keyword("SOPClassUID"), "UI") is Action.KEEP
    assert profile.action_for(tag_for_keyword("TransferSyntaxUID"), "UI") is Action.KEEP
    assert profile.action_for(0x00080416, "DT") is Action.SHIFT_DATE  # ExpirationDateTime
    assert profile.action_for(0x00143076, "DA") is Action.SHIFT_DATE  # DateOfGainCalibration
    assert profile.action_for(0x00209161, "UI") is Action.REMAP_UID   # ConcatenationUID
    assert profile.action_for(0x00400A12, "UI") is Action.REMAP_UID   # unknown to the table


@pytest.mark.parametrize("tag", [0x00140104, 0x00142006, 0x00771010 - 0x00010000])
def test_a_person_name_outside_the_table_is_emptied_never_kept(tag):
    # SecondaryReviewerName, EvaluatorName (not in Table E.1-1), an unknown public tag
    assert tag not in compile_profile().actions
    assert compile_profile().action_for(tag, "PN") is Action.EMPTY


@pytest.mark.parametrize(("group", "removed"), [
    (0x0009, True), (0x0029, True), (0x7FE1, True), (0x5000, True), (0x501E, True),
    (0x6000, True), (0x601E, True), (0x0008, False), (0x0010, False), (0x0028, False),
    (0x5200, False), (0x6100, False), (0x7FE0, False),
])
def test_private_overlay_and_curve_groups_are_removed_whole(group, removed):
    assert is_removed_group(group) is removed


def test_removed_tags_are_what_no_option_keeps():
    removed = removed_tags()
    for keyword in ("OtherPatientIDs", "PatientAddress", "PerformingPhysicianName",
                    "PatientTelephoneNumbers", "InstitutionalDepartmentName"):
        assert tag_for_keyword(keyword) in removed
    for keyword in ("PatientSex", "PatientAge", "StudyDate", "PatientID", "AccessionNumber"):
        assert tag_for_keyword(keyword) not in removed


def test_method_markers_fit_their_value_representations():
    assert all(len(text) <= 64 for text in METHOD_TEXT)
    assert all(len(meaning) <= 64 for _, meaning in METHOD_CODES)
    assert [code for code, _ in METHOD_CODES] == ["113100", "113105", "113107", "113108",
                                                    "113109"]


# --- value rules --------------------------------------------------------------------------

def test_dates_shift_by_whole_days_and_keep_time_and_offset():
    assert shift_date("20201103", -30, "DA") == "20201004"
    assert shift_date("20200301", -1, "DA") == "20200229"
    assert shift_date("20201103101530.123+0100", -3, "DT") == "20201031101530.123+0100"
    assert shift_dates(["20201103", "20210101"], -1, "DA") == ["20201102", "20201231"]


@pytest.mark.parametrize("bad", ["", "2020", "20201340", "2020-11-03", "not a date", "202011"])
def test_unparsable_dates_are_dropped_not_passed_through(bad):
    assert shift_dates([bad], -5, "DA") == []


def test_birth_date_keeps_only_its_year():
    assert birth_year("19630412") == "19630101"
    assert birth_year("garbage") == ""


@pytest.mark.parametrize(("birth", "on", "age"), [
    ("19630412", "20201103", "057Y"), ("19630412", "20200411", "056Y"),
    ("20190301", "20200315", "012M"), ("20200101", "20200120", "002W"),
    ("20200101", "20200103", "002D"), ("20200101", "20190101", None), ("", "20200101", None),
])
def test_patient_age_from_birth_and_study_date(birth, on, age):
    assert patient_age(birth, on) == age


def test_identifying_strings_cover_names_parts_ids_and_birth_date_forms():
    ds = Dataset()
    ds.PatientName = "FAKENHAM^JOSEPHINE^ANNE^^MS"
    ds.PatientID = "RR12345678"
    ds.AccessionNumber = "ACC77"
    ds.PatientBirthDate = "19630412"
    ds.InstitutionName = "Royal Surrey"
    ds.ReferringPhysicianName = "WHITTLESEA^GERALD"
    strings = identifying_strings(ds)
    for expected in ("FAKENHAM", "JOSEPHINE", "ANNE", "RR12345678", "ACC77", "ROYAL SURREY",
                     "WHITTLESEA", "12/04/1963", "1963-04-12"):
        assert expected in strings
    assert "MS" not in strings  # shorter than three characters: matches by chance
    assert contains_identifier("CT chest for Fakenham", strings)
    assert not contains_identifier("CT CHEST", strings)


def test_every_dummy_value_is_valid_for_its_vr():
    from pydicom.dataelem import DataElement
    from pydicom.valuerep import validate_value

    for vr, value in DUMMY_VALUES.items():
        if vr in ("AT",):
            continue
        validate_value(vr, value, "raise")
        DataElement(0x00100010 if vr == "PN" else 0x00080050, vr, value)
