"""A series left out for a selection reason can be ticked in, with its reasons kept; a
quarantined one never can. The negative window may be widened by policy."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from nccid_desktop.dicom.risk import Risk
from nccid_desktop.dicom.scan.model import Patient, ScannedFile, ScanResult, Series, Study
from nccid_desktop.dicom.scan.sources import SourceFile
from nccid_desktop.dicom.select.clinical_windows import ClinicalWindow, WindowPolicy
from nccid_desktop.dicom.select.policy import SelectionPolicy
from nccid_desktop.dicom.select.rules import Exclusion, SelectionInputs, override_audit, select
from nccid_desktop.keys import SiteKeys
from nccid_desktop.pseudonym import pseudonym_for, remap_uid

UID = "1.2.826.0.1.3680043.10.1234.2.77"
RISK = Risk("burned_in_annotation", "The image is marked as having text burned into its pixels.")


def _scan(body_part: str = "CHEST", day: date = date(2020, 3, 1), risky: bool = False,
          modality: str = "CR", patient_id: str = "RR0001") -> ScanResult:
    files = tuple(ScannedFile(SourceFile(Path(f"/x/{n}"), None, 10), f"{UID}.{n}",
                              "1.2.840.10008.5.1.4.1.1.1", "1.2.840.10008.1.2.1", day,
                              RISK if risky else None) for n in range(2))
    series = Series(UID, modality, 1, "PA", body_part, files)
    return ScanResult((Patient(patient_id, "DOE^JANE", "F",
                               (Study("1.2", day, "XR", (series,)),)),))


def _one(result: ScanResult, inputs: SelectionInputs):
    (decision,) = select(result, inputs).decisions
    return decision


def _windows(keys: SiteKeys, *windows: ClinicalWindow):
    return {pseudonym_for(keys, hospital_number="RR0001"): windows}


def test_a_left_out_body_part_can_be_ticked_in_with_its_reason_kept():
    ticked = SelectionInputs(included_series=frozenset({UID}))
    decision = _one(_scan(body_part="ABDOMEN"), ticked)
    assert (decision.included, decision.code, decision.reason) == (
        True, "included_by_user", "Included by you")
    assert decision.detail == "left out as: Body part is not chest (Body part ABDOMEN)"
    assert decision.overridden == (Exclusion("not_chest_body_part", "Body part is not chest",
                                             "Body part ABDOMEN"),)
    assert decision.images_to_send == 2
    assert _one(_scan(body_part="ABDOMEN"), SelectionInputs()).included is False


def test_every_reason_against_a_ticked_series_is_kept(site_keys):
    inputs = SelectionInputs(keys=site_keys, included_series=frozenset({UID}),
                             windows=_windows(site_keys, ClinicalWindow("negative",
                                                                        date(2021, 1, 1))))
    decision = _one(_scan(body_part="KNEE"), inputs)
    assert decision.included
    assert [e.code for e in decision.overridden] == ["not_chest_body_part", "outside_window"]
    assert decision.detail == ("left out as: Body part is not chest (Body part KNEE); Outside "
                               "the date window (Images from 1 Mar 2020; wanted 4 Dec 2020 "
                               "to 1 Jan 2021)")


def test_unlinked_and_undated_series_can_be_ticked_in(site_keys):
    unlinked = SelectionInputs(keys=site_keys, windows={}, included_series=frozenset({UID}))
    assert _one(_scan(), unlinked).overridden[0].code == "not_linked"
    undated = SelectionInputs(keys=site_keys, windows=_windows(site_keys),
                              included_series=frozenset({UID}))
    assert _one(_scan(), undated).overridden[0].code == "no_window"


@pytest.mark.parametrize(("scan", "code"), [
    (_scan(risky=True), "quarantined"),
    (_scan(modality="MR"), "not_chest_modality"),
    (_scan(patient_id=""), "no_patient_id"),
])
def test_a_quarantined_or_unsendable_series_is_never_ticked_in(scan, code):
    decision = _one(scan, SelectionInputs(included_series=frozenset({UID})))
    assert (decision.included, decision.code, decision.files) == (False, code, ())
    if code != "no_patient_id":
        assert decision.warnings[0].startswith("This series cannot be ticked in: ")


def test_a_quarantine_behind_an_overridable_reason_still_blocks():
    decision = _one(_scan(body_part="KNEE", risky=True),
                    SelectionInputs(included_series=frozenset({UID})))
    assert (decision.included, decision.code) == (False, "quarantined")


def test_the_audit_keeps_warehouse_uids_and_reasons_only(site_keys):
    inputs = SelectionInputs(keys=site_keys, included_series=frozenset({UID}))
    selection = select(_scan(body_part="ABDOMEN"), inputs)
    [entry] = override_audit(selection, site_keys)
    assert entry == {"series_uid": remap_uid(site_keys, UID),
                     "pseudonym": pseudonym_for(site_keys, hospital_number="RR0001"),
                     "images": 2,
                     "left_out": [{"code": "not_chest_body_part",
                                   "reason": "Body part is not chest",
                                   "detail": "Body part ABDOMEN"}]}
    assert UID not in str(entry) and "RR0001" not in str(entry)
    assert override_audit(select(_scan(), inputs), site_keys) == []


def test_a_policy_may_widen_the_negative_window_past_the_test(site_keys):
    windows = _windows(site_keys, ClinicalWindow("negative", date(2020, 2, 20)))
    after = _scan(day=date(2020, 3, 1))
    assert _one(after, SelectionInputs(keys=site_keys, windows=windows)).code == \
        "outside_window"
    wider = SelectionPolicy(windows=WindowPolicy(negative_days_after=14))
    decision = _one(after, SelectionInputs(keys=site_keys, windows=windows, policy=wider))
    assert decision.included
    too_late = _one(_scan(day=date(2020, 3, 6)),
                    SelectionInputs(keys=site_keys, windows=windows, policy=wider))
    assert too_late.detail == "Images from 6 Mar 2020; wanted 23 Jan 2020 to 5 Mar 2020"


def test_the_deidentification_audit_carries_the_overrides(site_keys):
    from datetime import UTC, datetime

    from nccid_desktop.dicom.deid.audit import audit_record
    from nccid_desktop.dicom.deid.pipeline import BatchReport

    selection = select(_scan(body_part="ABDOMEN"),
                       SelectionInputs(keys=site_keys, included_series=frozenset({UID})))
    when = datetime(2026, 11, 25, tzinfo=UTC)
    record = audit_record(BatchReport.from_outcomes([]), site="RSH", linking="hospital",
                          started=when, finished=when,
                          overrides=override_audit(selection, site_keys))
    assert record["selection_overrides"] == override_audit(selection, site_keys)
    assert audit_record(BatchReport.from_outcomes([]), site="RSH", linking="hospital",
                        started=when, finished=when)["selection_overrides"] == []
