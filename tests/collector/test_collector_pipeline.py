"""The real workstation pipeline against the real service over loopback HTTP.

A workbook is validated and pseudonymised by ``nccid_desktop.sheets``; PACS-like images
(names, NHS number, private tags, nested sequences) are de-identified by
``nccid_desktop.dicom``; both go to the service, which must accept exactly what the app
produces, store it in the raw layout with matching pseudonyms, and report it in the checker.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pydicom

from nccid_desktop.dicom.deid.one_file import deidentify_file
from nccid_desktop.dicom.deid.pydicom_reference import DeidContext
from nccid_desktop.keys import SiteKeys
from nccid_desktop.pseudonym import nhs_index
from nccid_desktop.sheets.definitions import MAIN
from nccid_desktop.sheets.payload import build_envelopes
from nccid_desktop.sheets.validator import validate_workbook
from tests.collector.client import signed_in
from tests.collector.payloads import stow_body
from tests.dicom.builders import PATIENT, add_nested_sequences, add_private_tags, cr_image, write
from tests.sheets.builders import hospital_number, main_row, nhs_number, save_workbook


def test_sheet_and_images_from_the_app_pipeline_meet_in_the_warehouse(live, tmp_path,
                                                                      warehouse) -> None:
    nurse = signed_in(live.url, "nurse1")
    keys = SiteKeys.from_json(nurse.get("/api/v1/site/keys").json())
    workbook = save_workbook(tmp_path / "main.xlsx", MAIN, [main_row(seed) for seed in (1, 2, 3)])
    report = validate_workbook(workbook, "main", today=date(2026, 11, 25))
    envelopes = build_envelopes(report, keys)
    answer = nurse.post("/api/v1/clinical/batches",
                        json={"batch_id": "sheet-1", "envelopes": [e.to_json() for e in envelopes]})
    assert [r["status"] for r in answer.json()["results"]] == ["stored"] * 3, answer.text

    patient = replace(PATIENT, hospital_number=hospital_number(1), nhs_number=nhs_number(1))
    source = cr_image(patient=patient)
    add_private_tags(source, text=patient.name)
    add_nested_sequences(source, patient=patient)
    outcome = deidentify_file(write(source, tmp_path / "pacs" / "IM0001"), tmp_path / "staged",
                              DeidContext(keys))
    assert outcome.status == "deidentified", outcome.message
    imager = signed_in(live.url, "imager1")
    body, headers = stow_body([outcome.output.read_bytes()])
    stored = imager.post("/dicom-web/studies", data=body, headers=headers)
    assert stored.status_code == 200, stored.text

    [image_key] = warehouse.keys("raw-RSH/*/images/*.dcm")
    image = tmp_path / "from-warehouse.dcm"
    image.write_bytes(warehouse.read(image_key))
    record = json.loads(warehouse.read(f"raw-RSH/2026-11-25/data/{envelopes[0].pseudonym}"
                                       "_data.json"))
    assert pydicom.dcmread(image).PatientID == record["Pseudonym"] == envelopes[0].pseudonym
    checked = nurse.post("/api/v1/checker",
                         json={"nhs_indexes": [nhs_index(keys, nhs_number(1))]}).json()
    assert checked["results"][0] == {"nhs_index": nhs_index(keys, nhs_number(1)),
                                     "clinical_data": "2026-11-25", "status": None,
                                     "studies": 1, "images": 1, "study_list": [
                                         {"study_uid": pydicom.dcmread(image).StudyInstanceUID,
                                          "images": 1, "received": "2026-11-25"}]}
    for identifier in (patient.name.encode(), patient.nhs_number.encode(),
                       patient.hospital_number.encode()):
        assert identifier not in image.read_bytes()
