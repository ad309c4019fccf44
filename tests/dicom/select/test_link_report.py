"""The link report: the sheet's patients without images, and studies without a patient."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from nccid_desktop.dicom.scan.model import Patient, ScannedFile, ScanResult, Series, Study
from nccid_desktop.dicom.scan.report import report_json, report_text
from nccid_desktop.dicom.scan.sources import SourceFile
from nccid_desktop.dicom.select.links import ListedPatient, link_report
from nccid_desktop.dicom.select.rules import SelectionInputs, select
from nccid_desktop.pseudonym import pseudonym_for


def _patient(patient_id: str, name: str, *study_labels: str) -> Patient:
    studies = []
    for n, label in enumerate(study_labels):
        files = (ScannedFile(SourceFile(Path(f"/x/{patient_id}/{n}"), None, 10),
                             f"1.2.3.{patient_id[-1]}.{n}.1", "1.2.840.10008.5.1.4.1.1.1",
                             "1.2.840.10008.1.2.1", date(2020, 3, 1)),)
        series = Series(f"1.2.3.{patient_id[-1]}.{n}", "CR", 1, "PA", "CHEST", files)
        studies.append(Study(f"1.2.{patient_id[-1]}.{n}", date(2020, 3, 1 + n), label,
                             (series,)))
    return Patient(patient_id, name, "F", tuple(studies))


def _case(site_keys):
    result = ScanResult((_patient("RR0001", "ALDER^ANN", "XR CHEST", "CT CHEST"),
                         _patient("RR0009", "BIRCH^BEN", "XR CHEST")))
    selection = select(result, SelectionInputs(keys=site_keys))

    def listed(number: str, row: int) -> ListedPatient:
        return ListedPatient(pseudonym_for(site_keys, hospital_number=number), "Main sheet",
                             row, number)

    sheet = [listed("RR0001", 2), listed("RR0002", 3), listed("RR0003", 4)]
    return result, selection, sheet


def test_patients_without_images_and_studies_without_patient(site_keys):
    result, selection, sheet = _case(site_keys)
    links = link_report(selection, sheet)
    assert [(p.row, p.hospital_number) for p in links.without_images] == [
        (3, "RR0002"), (4, "RR0003")]
    assert [(s.patient.patient_id, s.study.description) for s in links.without_patient] == [
        ("RR0009", "XR CHEST")]
    assert links.text_lines() == [
        "2 patients on the sheet have no images in this export:",
        "  Main sheet row 3: RR0002",
        "  Main sheet row 4: RR0003",
        "1 study belongs to no patient on the sheet:",
        "  Patient BIRCH BEN, ID RR0009: study 1 Mar 2020 XR CHEST"]
    text = report_text(result, selection, links)
    assert "2 patients on the sheet have no images in this export:" in text
    assert text[-1].startswith("Will send")


def test_a_fully_linked_scan_says_so(site_keys):
    _, selection, sheet = _case(site_keys)
    sheet = [sheet[0], ListedPatient(pseudonym_for(site_keys, hospital_number="RR0009"),
                                     "Covid Status sheet", 7, "RR0009")]
    assert link_report(selection, sheet).text_lines() == [
        "0 patients on the sheet have no images in this export.",
        "0 studies belong to no patient on the sheet."]


def test_json_carries_both_lists_without_identifiers_unless_asked(site_keys):
    result, selection, sheet = _case(site_keys)
    links = link_report(selection, sheet)
    plain = report_json(result, selection, keys=site_keys, links=links)["links"]
    assert [(p["source"], p["row"]) for p in plain["patients_without_images"]] == [
        ("Main sheet", 3), ("Main sheet", 4)]
    [study] = plain["studies_without_patient"]
    assert (study["patient"], study["label_kind"], study["date"], study["description"]) == (
        pseudonym_for(site_keys, hospital_number="RR0009"), "pseudonym", "2020-03-01",
        "XR CHEST")
    for secret in ("RR0002", "RR0003", "RR0009", "BIRCH", "1.2.9"):
        assert secret not in str(plain)
    shown = report_json(result, selection, keys=site_keys, links=links,
                        show_identifiers=True)["links"]
    assert [p["hospital_number"] for p in shown["patients_without_images"]] == [
        "RR0002", "RR0003"]
    assert shown["studies_without_patient"][0]["patient"] == "RR0009"
    assert "links" not in report_json(result, selection, keys=site_keys)


def test_the_same_patient_listed_twice_is_counted_once(site_keys):
    _, selection, sheet = _case(site_keys)
    twice = [*sheet, ListedPatient(sheet[1].pseudonym, "records file r.json")]
    assert len(link_report(selection, twice).without_images) == 2
