"""Selection rules: every reason, the date windows at their edges, links, uploads, overrides."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from nccid_desktop.dicom.risk import Risk
from nccid_desktop.dicom.scan.model import Patient, ScannedFile, ScanResult, Series, Study
from nccid_desktop.dicom.scan.scanner import scan
from nccid_desktop.dicom.scan.sources import SourceFile
from nccid_desktop.dicom.select.rules import (
    REASONS,
    ClinicalWindow,
    SelectionInputs,
    SelectionPolicy,
    select,
    window_from_record,
    windows_from_records,
)
from nccid_desktop.errors import ConfigError
from nccid_desktop.keys import SiteKeys
from nccid_desktop.pseudonym import pseudonym_for, remap_uid
from nccid_desktop.records import ClinicalEnvelope
from tests.conftest import VALID_NHS_NUMBERS
from tests.dicom._scan_builders import make_dataset, write_dicom

HOSPITAL_NUMBER = "RR0001"
BURNED_IN = Risk("burned_in_annotation", "The image is marked as having text burned into its "
                                         "pixels.")


SOP_CLASSES = {"CR": "1.2.840.10008.5.1.4.1.1.1", "DX": "1.2.840.10008.5.1.4.1.1.1.1",
               "CT": "1.2.840.10008.5.1.4.1.1.2", "MR": "1.2.840.10008.5.1.4.1.1.4",
               "NM": "1.2.840.10008.5.1.4.1.1.20"}


def _series(modality: str = "CR", body_part: str = "CHEST", day: date | None = date(2020, 3, 1),
            files: int = 1, risks: tuple[Risk | None, ...] = (), uid: str = "1.2.3",
            description: str = "CHEST PA", protocol: str = "", sop_class: str | None = None
            ) -> Series:
    scanned = tuple(
        ScannedFile(SourceFile(Path(f"/export/{uid}/{n}"), None, 1000), f"{uid}.{n}",
                    sop_class or SOP_CLASSES.get(modality, ""), "1.2.840.10008.1.2.1", day,
                    risks[n] if n < len(risks) else None)
        for n in range(files)
    )
    return Series(uid, modality, 1, description, body_part, scanned, protocol)


def _scan_of(*series: Series, patient_id: str = HOSPITAL_NUMBER,
             study_description: str = "XR CHEST") -> ScanResult:
    study = Study("1.2.9", date(2020, 3, 1), study_description, series)
    return ScanResult((Patient(patient_id, "DOE^JOHN", "M", (study,)),), (), 1)


def _pseudonym(keys: SiteKeys, hospital_number: str = HOSPITAL_NUMBER) -> str:
    return pseudonym_for(keys, hospital_number=hospital_number)


def _only(result: ScanResult, inputs: SelectionInputs):
    (decision,) = select(result, inputs).decisions
    return decision


def test_a_chest_xray_with_no_clinical_records_yet_is_sent_with_a_note() -> None:
    decision = _only(_scan_of(_series()), SelectionInputs())
    assert (decision.included, decision.reason) == (True, "Will be sent")
    assert decision.warnings == ("Not yet checked against clinical records.",)
    assert decision.pseudonym is None


@pytest.mark.parametrize(("series", "code", "reason"), [
    (_series(modality="MR"), "not_chest_modality", "Not a chest X-ray (CR/DX) or CT"),
    (_series(modality="NM"), "not_chest_modality", "Not a chest X-ray (CR/DX) or CT"),
    (_series(body_part="KNEE"), "not_chest_body_part", "Body part is not chest"),
    (_series(modality="CT", risks=(BURNED_IN, BURNED_IN), files=2), "quarantined",
     "Quarantined: The image is marked as having text burned into its pixels."),
])
def test_exclusions_carry_a_reason_a_person_understands(series: Series, code: str,
                                                        reason: str) -> None:
    decision = _only(_scan_of(series), SelectionInputs())
    assert (decision.included, decision.code, decision.reason) == (False, code, reason)
    assert decision.files == ()


@pytest.mark.parametrize("body_part", ["CHEST", "Thorax", "LUNG", "CHEST_ABDOMEN", "chest-abdo",
                                       "TORAX"])
def test_chest_body_parts_are_recognised(body_part: str) -> None:
    assert _only(_scan_of(_series(modality="DX", body_part=body_part)), SelectionInputs()).included


def test_missing_body_part_is_a_warning_not_an_exclusion() -> None:
    series = _series(modality="CT", body_part="", description="SCOUT")
    decision = _only(_scan_of(series, study_description="CT"), SelectionInputs())
    assert decision.included
    assert "Body part is not recorded: check that these are chest images." in decision.warnings


def test_some_files_at_risk_keep_the_series_with_a_warning() -> None:
    decision = _only(_scan_of(_series(files=3, risks=(None, BURNED_IN))), SelectionInputs())
    assert decision.included and decision.images_to_send == 2
    assert decision.warnings[0] == ("1 of 3 images will be quarantined and not sent: "
                                    + BURNED_IN.message)


def test_the_policy_is_data() -> None:
    policy = SelectionPolicy(modalities=frozenset({"CR", "DX", "CT", "MR"}))
    assert _only(_scan_of(_series(modality="MR")), SelectionInputs(policy=policy)).included


def _window_case(site_keys: SiteKeys, window: ClinicalWindow, day: date):
    inputs = SelectionInputs(keys=site_keys, windows={_pseudonym(site_keys): (window,)})
    return _only(_scan_of(_series(day=day)), inputs)


@pytest.mark.parametrize(("day", "included"), [
    (date(2017, 3, 15), True), (date(2017, 3, 14), False), (date(2020, 3, 15), True),
    (date(2024, 1, 1), True)])
def test_positive_window_is_three_years_before_the_swab_onwards(
        site_keys: SiteKeys, day: date, included: bool) -> None:
    decision = _window_case(site_keys, ClinicalWindow("positive", date(2020, 3, 15)), day)
    assert decision.included is included
    if not included:
        assert decision.reason == "Outside the date window"
        assert decision.detail == "Images from 14 Mar 2017; wanted 15 Mar 2017 onwards"


@pytest.mark.parametrize(("day", "included"), [
    (date(2020, 2, 16), True), (date(2020, 2, 15), False), (date(2020, 3, 15), True),
    (date(2020, 3, 16), False), (date(2020, 4, 12), False)])
def test_negative_window_is_the_four_weeks_before_the_test(site_keys: SiteKeys, day: date,
                                                           included: bool) -> None:
    """The guidance asks for a negative patient's chest imaging of the previous 4 weeks."""
    decision = _window_case(site_keys, ClinicalWindow("negative", date(2020, 3, 15)), day)
    assert decision.included is included
    assert decision.code == ("will_send" if included else "outside_window")
    if not included:
        assert decision.detail.endswith("wanted 16 Feb 2020 to 15 Mar 2020")


def test_leap_day_swab_window_starts_on_the_28th() -> None:
    assert ClinicalWindow("positive", date(2020, 2, 29)).start == date(2017, 2, 28)


def test_any_of_several_windows_admits_the_series(site_keys: SiteKeys) -> None:
    windows = (ClinicalWindow("negative", date(2020, 3, 15)),
               ClinicalWindow("negative", date(2021, 6, 1)))
    inputs = SelectionInputs(keys=site_keys, windows={_pseudonym(site_keys): windows})
    assert _only(_scan_of(_series(day=date(2021, 5, 20))), inputs).included


def test_patient_without_clinical_record_is_not_linked(site_keys: SiteKeys) -> None:
    inputs = SelectionInputs(keys=site_keys, windows={_pseudonym(site_keys, "RR9999"): ()})
    decision = _only(_scan_of(_series()), inputs)
    assert (decision.included, decision.reason) == (False, "Not linked to a clinical record")


def test_record_without_date_and_images_without_date_are_explained(site_keys: SiteKeys) -> None:
    no_window = SelectionInputs(keys=site_keys, windows={_pseudonym(site_keys): ()})
    assert _only(_scan_of(_series()), no_window).reason == REASONS["no_window"]
    window = SelectionInputs(keys=site_keys, windows={
        _pseudonym(site_keys): (ClinicalWindow("positive", date(2020, 3, 15)),)})
    assert _only(_scan_of(_series(day=None)), window).reason == REASONS["no_date"]


def test_pseudonym_from_patient_id_matches_the_spreadsheet_path(site_keys: SiteKeys) -> None:
    decision = _only(_scan_of(_series()), SelectionInputs(keys=site_keys))
    assert decision.pseudonym == pseudonym_for(site_keys, hospital_number=" rr0001 ")


def test_nhs_linking_uses_the_nhs_number_in_patient_id(site_keys: SiteKeys) -> None:
    nhs = VALID_NHS_NUMBERS[0]
    inputs = SelectionInputs(keys=site_keys, linking="nhs")
    decision = _only(_scan_of(_series(), patient_id=nhs), inputs)
    assert decision.pseudonym == pseudonym_for(site_keys, nhs_number=nhs, linking="nhs")
    unusable = _only(_scan_of(_series(), patient_id="RR0001"), inputs)
    assert (unusable.included, unusable.code) == (False, "no_patient_id")


def test_images_without_patient_id_cannot_be_linked() -> None:
    decision = _only(_scan_of(_series(), patient_id=""), SelectionInputs())
    assert (decision.included, decision.reason) == (False, REASONS["no_patient_id"])


def test_already_uploaded_series_and_files(site_keys: SiteKeys) -> None:
    series = _series(files=3)
    all_uploaded = frozenset(remap_uid(site_keys, uid) for uid in series.source_sop_instance_uids)
    decision = _only(_scan_of(series), SelectionInputs(keys=site_keys,
                                                       uploaded_uids=all_uploaded))
    assert (decision.included, decision.reason) == (False, "Already uploaded")
    one_uploaded = frozenset({remap_uid(site_keys, series.files[0].sop_instance_uid)})
    partial = _only(_scan_of(series), SelectionInputs(keys=site_keys, uploaded_uids=one_uploaded))
    assert partial.included
    assert partial.files == series.files[1:]
    assert "1 of 3 images were already uploaded and will not be sent again." in partial.warnings


def test_source_uids_in_the_uploaded_set_do_not_count(site_keys: SiteKeys) -> None:
    """The service only knows remapped UIDs; a source UID must never match by accident."""
    series = _series(files=2)
    inputs = SelectionInputs(keys=site_keys,
                             uploaded_uids=frozenset(series.source_sop_instance_uids))
    assert _only(_scan_of(series), inputs).files == series.files


def test_user_can_exclude_an_included_series() -> None:
    inputs = SelectionInputs(excluded_series=frozenset({"1.2.3"}))
    decision = _only(_scan_of(_series()), inputs)
    assert (decision.included, decision.reason) == (False, "Excluded by you")


def test_clinical_inputs_need_the_site_keys() -> None:
    with pytest.raises(ConfigError, match="site key file"):
        select(_scan_of(_series()), SelectionInputs(windows={}))


def _envelope(keys: SiteKeys, kind: str, record: dict[str, str]) -> ClinicalEnvelope:
    pseudonym = _pseudonym(keys)
    return ClinicalEnvelope(kind, pseudonym, "RSH",  # type: ignore[arg-type]
                            {"Pseudonym": pseudonym, **record})


def test_windows_from_sheet_records(site_keys: SiteKeys) -> None:
    positive = _envelope(site_keys, "data", {"Date of Positive Covid Swab": "03/15/2020"})
    negative = _envelope(site_keys, "status", {"SwabDate": "15/03/2021", "SwabStatus": "0"})
    status_positive = _envelope(site_keys, "status", {"SwabDate": "01/02/2022",
                                                      "SwabStatus": "1"})
    undated = _envelope(site_keys, "data", {"Date of Positive Covid Swab": ""})
    assert window_from_record(positive) == ClinicalWindow("positive", date(2020, 3, 15))
    assert window_from_record(negative) == ClinicalWindow("negative", date(2021, 3, 15))
    assert window_from_record(status_positive) == ClinicalWindow("positive", date(2022, 2, 1))
    assert window_from_record(undated) is None
    windows = windows_from_records([positive, undated, negative])
    assert windows == {_pseudonym(site_keys): (ClinicalWindow("positive", date(2020, 3, 15)),
                                               ClinicalWindow("negative", date(2021, 3, 15)))}


def test_scanned_folder_end_to_end(tmp_path: Path, site_keys: SiteKeys) -> None:
    """Real files in, the list of files to hand to the de-identifier out."""
    write_dicom(tmp_path / "cr", make_dataset(modality="CR", study_date="20200310"))
    write_dicom(tmp_path / "old", make_dataset(modality="CR", series="2", series_number=2,
                                               study="2", study_date="20150101"))
    write_dicom(tmp_path / "mr", make_dataset(modality="MR", series="3", series_number=3,
                                              study_date="20200310"))
    record = _envelope(site_keys, "data", {"Date of Positive Covid Swab": "03/15/2020"})
    inputs = SelectionInputs(keys=site_keys, windows=windows_from_records([record]))
    selection = select(scan([tmp_path]), inputs)
    assert [(d.series.modality, d.code) for d in selection.decisions] == [
        ("CR", "outside_window"), ("CR", "will_send"), ("MR", "not_chest_modality")]
    assert [s.path.name for s in selection.files_to_send()] == ["cr"]


def test_selected_files_deidentify_to_the_shown_pseudonym_and_count_as_uploaded(
        tmp_path: Path, site_keys: SiteKeys) -> None:
    """Scan, select, de-identify for real; the outputs' UIDs then mark the series uploaded."""
    from nccid_desktop.dicom.deid.one_file import DeidContext
    from nccid_desktop.dicom.deid.pipeline import deidentify_batch

    for n in (1, 2, 3):
        write_dicom(tmp_path / "in" / f"IM{n}", make_dataset(modality="CT", instance=n))
    result = scan([tmp_path / "in"])
    selection = select(result, SelectionInputs(keys=site_keys))
    (decision,) = selection.decisions
    report = deidentify_batch(selection.files_to_send(), tmp_path / "out",
                              DeidContext(site_keys), workers=1)
    assert [o.status for o in report.outcomes] == ["deidentified"] * 3
    assert {o.pseudonym for o in report.outcomes} == {decision.pseudonym}
    sent = frozenset(o.sop_instance_uid for o in report.outcomes)
    again = select(result, SelectionInputs(keys=site_keys, uploaded_uids=sent))
    assert again.decisions[0].reason == "Already uploaded"
