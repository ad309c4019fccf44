"""Chest imaging as NCCID means it: CTPA and CT coronary angiography included, by data."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from nccid_desktop.dicom.scan.model import Patient, ScannedFile, ScanResult, Series, Study
from nccid_desktop.dicom.scan.scanner import scan
from nccid_desktop.dicom.scan.sources import SourceFile
from nccid_desktop.dicom.select.policy import DEFAULT_POLICY, SelectionPolicy
from nccid_desktop.dicom.select.rules import SelectionInputs, select
from tests.dicom._scan_builders import SOP_CLASSES, make_dataset, write_dicom

CT = SOP_CLASSES["CT"]
NOT_RECORDED = "Body part is not recorded: check that these are chest images."
UNCHECKED = "Not yet checked against clinical records."


def _decide(modality: str = "CT", body_part: str = "", series: str = "", protocol: str = "",
            study: str = "", sop_class: str = CT):
    files = (ScannedFile(SourceFile(Path("/x/1"), None, 10), "1.2.3.1", sop_class,
                         "1.2.840.10008.1.2.1", date(2020, 3, 1)),)
    one = Series("1.2.3", modality, 1, series, body_part, files, protocol)
    result = ScanResult((Patient("RR0001", "DOE^JANE", "F",
                                 (Study("1.2", date(2020, 3, 1), study, (one,)),)),))
    (decision,) = select(result, SelectionInputs()).decisions
    return decision


@pytest.mark.parametrize("body_part", ["HEART", "CARDIAC", "THORAX", "CHEST_TO_PELVIS",
                                       "CHEST", "CHESTABDPELVIS", "CORONARYARTERY",
                                       "Thoracic Aorta", "pulmonary artery", "MEDIASTINUM"])
def test_chest_body_part_codes_include_ctpa_and_coronary_angiography(body_part):
    decision = _decide(body_part=body_part)
    assert (decision.included, decision.code, decision.warnings) == (True, "will_send",
                                                                     (UNCHECKED,))


@pytest.mark.parametrize(("where", "text"), [
    ("series", "CTPA"), ("series", "CT Pulmonary Angiogram"), ("protocol", "CT CORONARY ANGIO"),
    ("study", "CT CHEST ABDO PELVIS"), ("protocol", "HRCT"), ("series", "CT PA 1.0 B31f"),
    ("study", "CT TAP"), ("series", "Cardiac 75% 0.6"), ("protocol", "Thorax_Routine")])
def test_an_empty_body_part_with_a_chest_description_is_chest(where, text):
    decision = _decide(**{where: text})
    assert decision.included and NOT_RECORDED not in decision.warnings


@pytest.mark.parametrize("text", ["CT ABDOMEN", "SCOUT", "CAPTURE", "PAEDIATRIC HEAD", ""])
def test_an_empty_body_part_without_a_chest_word_is_sent_with_a_warning(text):
    decision = _decide(series=text)
    assert decision.included and NOT_RECORDED in decision.warnings


@pytest.mark.parametrize("body_part", ["HEAD", "KNEE", "ABDOMEN", "PELVIS"])
def test_another_named_body_part_is_left_out_even_with_a_chest_description(body_part):
    decision = _decide(body_part=body_part, series="CHEST")
    assert (decision.included, decision.code, decision.detail) == (
        False, "not_chest_body_part", f"Body part {body_part}")


def test_the_sop_class_decides_when_the_modality_says_nothing():
    for modality in ("OT", ""):
        decision = _decide(modality=modality, body_part="CHEST")
        assert decision.included
        assert decision.warnings[0] == (f"Modality is {modality or 'not recorded'}, but the "
                                        "images are stored as CT images: treated as CT.")
    mr = _decide(modality="MR", body_part="CHEST", sop_class=SOP_CLASSES["MR"])
    assert (mr.included, mr.code) == (False, "not_chest_modality")
    secondary = _decide(modality="OT", body_part="CHEST", sop_class=SOP_CLASSES["SC"])
    assert (secondary.included, secondary.code) == (False, "not_chest_modality")


def test_the_words_are_data():
    assert not DEFAULT_POLICY.says_chest("CT ANGIO RUNOFF")
    policy = SelectionPolicy(chest_words=DEFAULT_POLICY.chest_words | {"RUNOFF"})
    assert policy.says_chest("CT ANGIO RUNOFF")
    assert policy.chest_verdict("", ["CT ANGIO RUNOFF"]) == "described"


def test_real_files_ctca_ctpa_and_a_blank_modality_are_chosen(tmp_path):
    """An OT object stays quarantined whatever its SOP class: the de-identifier refuses it."""
    common = {"modality": "CT", "study_date": "20200310", "study_description": "CT"}
    write_dicom(tmp_path / "ctca", make_dataset(**common, series="1", body_part="HEART",
                                                series_description="CTCA 75%"))
    write_dicom(tmp_path / "ctpa", make_dataset(**common, series="2", series_number=2,
                                                body_part=None, series_description="Recon 1",
                                                ProtocolName="CTPA"))
    write_dicom(tmp_path / "blank", make_dataset(**common, series="3", series_number=3,
                                                 body_part="CHEST", Modality=""))
    write_dicom(tmp_path / "head", make_dataset(**common, series="4", series_number=4,
                                                body_part="HEAD", series_description="HEAD"))
    write_dicom(tmp_path / "ot", make_dataset(**common, series="5", series_number=5,
                                              body_part="CHEST", Modality="OT"))
    decisions = select(scan([tmp_path], workers=1)).decisions
    assert [(d.series.number, d.included, d.code) for d in decisions] == [
        (1, True, "will_send"), (2, True, "will_send"), (3, True, "will_send"),
        (4, False, "not_chest_body_part"), (5, False, "quarantined")]
    assert decisions[1].series.protocol == "CTPA"
    assert decisions[1].warnings == (UNCHECKED,)
