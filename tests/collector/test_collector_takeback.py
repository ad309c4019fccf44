"""Taking data back over real HTTP: withdrawal, study removal, image replacement, same-day
corrections; on SQLite and PostgreSQL, with the warehouse in a folder and in S3."""

from __future__ import annotations

import json
from pathlib import Path

import pydicom
from sqlalchemy import select

from nccid_collector.db import audit, clinical_batches, clinical_records, images, withdrawals
from nccid_desktop.pseudonym import nhs_index, pseudonym_for
from tests.collector.client import signed_in
from tests.collector.payloads import batch, dicom_file, envelope, stow_body
from tests.collector.service_setup import keys_of
from tests.conftest import VALID_NHS_NUMBERS

TODAY = "2026-11-25"


def _post(api, payload):
    response = api.post("/api/v1/clinical/batches", json=payload)
    assert response.status_code == 200, response.text
    return response.json()["results"]


def _stow(api, paths: list[Path]):
    body, headers = stow_body([p.read_bytes() for p in paths])
    return api.post("/dicom-web/studies", data=body, headers=headers)


def _rows(service, table, **where):
    with service.db.connect() as conn:
        query = select(table)
        for name, value in where.items():
            query = query.where(table.c[name] == value)
        return conn.execute(query).all()


def _actions(service) -> list[tuple[str, str]]:
    return [(r.action, r.outcome) for r in _rows(service, audit)]


def _send_patient(live, clock, tmp_path, hospital: str, nhs: str, study: str) -> str:
    """Records on two days (a correction) and images on two days, for one patient."""
    keys = keys_of(live.service, "RSH")
    nurse, imager = signed_in(live.url, "nurse1"), signed_in(live.url, "imager1")
    pseudonym = pseudonym_for(keys, hospital_number=hospital)
    assert _post(nurse, batch(envelope(keys, hospital, nhs=nhs, Age="50")))[0]["status"] == "stored"
    first = dicom_file(tmp_path / f"{hospital}-1.dcm", pseudonym, study_uid=study)
    assert _stow(imager, [first]).status_code == 200
    clock.advance(days=1)
    nurse, imager = signed_in(live.url, "nurse1"), signed_in(live.url, "imager1")
    assert _post(nurse, batch(envelope(keys, hospital, nhs=nhs, Age="51")))[0]["status"] == "stored"
    assert _post(nurse, batch(envelope(keys, hospital, "status", nhs=nhs)))[0]["status"] == "stored"
    second = dicom_file(tmp_path / f"{hospital}-2.dcm", pseudonym, study_uid=study + ".1")
    assert _stow(imager, [second]).status_code == 200
    return pseudonym


def test_withdrawal_removes_every_trace_keeps_a_tombstone_and_refuses_later_uploads(
        live, clock, tmp_path, warehouse) -> None:
    service = live.service
    keys = keys_of(service, "RSH")
    gone = _send_patient(live, clock, tmp_path, "RR40000001", VALID_NHS_NUMBERS[0], "1.2.40.1")
    kept = _send_patient(live, clock, tmp_path, "RR40000002", VALID_NHS_NUMBERS[1], "1.2.40.2")
    before = warehouse.contents()
    assert sum(gone in key or _holds(warehouse, key, gone) for key in before) == 5
    nurse = signed_in(live.url, "nurse1")
    index = nhs_index(keys, VALID_NHS_NUMBERS[0])
    preview = nurse.post("/api/v1/withdrawals/preview", json={"nhs_index": index}).json()
    assert preview == {"pseudonyms": 1, "records": 2, "studies": 2, "images": 2,
                       "withdrawn_on": None}
    unconfirmed = nurse.post("/api/v1/withdrawals", json={"nhs_index": index,
                                                         "reason": "opt-out"})
    assert unconfirmed.status_code == 400
    assert unconfirmed.json()["code"] == "confirmation_required"
    assert warehouse.contents() == before
    imager = signed_in(live.url, "imager1")
    assert imager.post("/api/v1/withdrawals", json={
        "nhs_index": index, "reason": "opt-out", "confirmed": True}).status_code == 403
    done = nurse.post("/api/v1/withdrawals", json={"nhs_index": index, "reason": "opt-out",
                                                   "confirmed": True})
    assert done.status_code == 200, done.text
    assert done.json()["pseudonyms"] == 1 and done.json()["images"] == 2
    after = warehouse.contents()
    assert {k: v for k, v in before.items() if k in after} == after  # nothing else touched
    assert not any(gone in key or _holds(warehouse, key, gone) for key in after)
    assert len(after) == len(before) - 5
    assert any(kept in key for key in after)
    assert not _rows(service, clinical_records, pseudonym=gone)
    assert not _rows(service, images, pseudonym=gone)
    assert _rows(service, clinical_records, pseudonym=kept)
    assert all(gone not in r.results for r in _rows(service, clinical_batches))
    (tomb,) = _rows(service, withdrawals)
    assert (tomb.pseudonym, tomb.nhs_index, tomb.reason, tomb.username) == (
        gone, index, "opt-out", "nurse1")
    assert ("withdrawal", "ok") in _actions(service)
    # later uploads for that patient are refused, by pseudonym and by NHS/CHI index
    again = _post(nurse, batch(envelope(keys, "RR40000001", Age="52")))[0]
    assert again["status"] == "rejected" and again["code"] == "withdrawn"
    assert "withdrawn on 27 Nov 2026" in again["message"]
    image = dicom_file(tmp_path / "late.dcm", gone)
    late = _stow(imager, [image])
    assert late.status_code == 409
    assert late.json()["nccid:failures"][0]["code"] == "withdrawn"
    assert warehouse.contents() == after
    preview = nurse.post("/api/v1/withdrawals/preview", json={"pseudonym": gone}).json()
    assert preview["withdrawn_on"] == "2026-11-27" and preview["images"] == 0


def _holds(warehouse, key: str, pseudonym: str) -> bool:
    return key.endswith(".dcm") and pseudonym.encode() in warehouse.read(key)


def test_removing_a_study_takes_out_its_images_only(live, tmp_path, warehouse) -> None:
    keys = keys_of(live.service, "RSH")
    pseudonym = pseudonym_for(keys, hospital_number="RR41000001")
    imager = signed_in(live.url, "imager1")
    wrong = [dicom_file(tmp_path / f"w{i}.dcm", pseudonym, study_uid="1.2.41.1") for i in range(2)]
    right = dicom_file(tmp_path / "r.dcm", pseudonym, study_uid="1.2.41.2")
    assert _stow(imager, [*wrong, right]).status_code == 200
    other = signed_in(live.url, "other1")
    assert other.post("/api/v1/images/remove", json={"study_uid": "1.2.41.1"}).status_code == 404
    nurse = signed_in(live.url, "nurse1")
    assert nurse.post("/api/v1/images/remove", json={"study_uid": "1.2.41.1"}).status_code == 403
    answer = imager.post("/api/v1/images/remove", json={"study_uid": "1.2.41.1"})
    assert answer.status_code == 200 and answer.json()["images"] == 2
    uid = pydicom.dcmread(right).SOPInstanceUID
    assert warehouse.keys() == [f"raw-RSH/{TODAY}/images/{uid}.dcm"]
    assert [r.study_uid for r in _rows(live.service, images)] == ["1.2.41.2"]
    assert ("study_remove", "ok") in _actions(live.service)
    # a removed study may be sent again (it was a link, not a patient, that was wrong)
    assert _stow(imager, wrong).status_code == 200


def test_a_resent_image_with_changed_content_replaces_the_held_file(live, tmp_path,
                                                                    warehouse) -> None:
    keys = keys_of(live.service, "RSH")
    pseudonym = pseudonym_for(keys, hospital_number="RR42000001")
    imager = signed_in(live.url, "imager1")
    original = dicom_file(tmp_path / "a.dcm", pseudonym, study_uid="1.2.42.1", pixels=64)
    assert _stow(imager, [original]).status_code == 200
    uid = pydicom.dcmread(original).SOPInstanceUID
    key = f"raw-RSH/{TODAY}/images/{uid}.dcm"
    assert _stow(imager, [original]).status_code == 200  # identical: nothing rewritten
    assert ("image_replace", "ok") not in _actions(live.service)
    corrected = pydicom.dcmread(original)
    corrected.BodyPartExamined = "THORAX"
    corrected.save_as(tmp_path / "b.dcm", enforce_file_format=True)
    assert _stow(imager, [tmp_path / "b.dcm"]).status_code == 200
    assert warehouse.keys() == [key]
    assert warehouse.read(key) == (tmp_path / "b.dcm").read_bytes()
    assert ("image_replace", "ok") in _actions(live.service)
    (row,) = _rows(live.service, images)
    assert row.size == len((tmp_path / "b.dcm").read_bytes())


def test_a_same_day_correction_is_current_as_soon_as_it_is_acknowledged(live, clock,
                                                                        warehouse) -> None:
    api = signed_in(live.url, "nurse1")
    keys = keys_of(live.service, "RSH")
    original = envelope(keys, "RR43000001", Age="54")
    corrected = envelope(keys, "RR43000001", Age="45")
    assert _post(api, batch(original))[0]["status"] == "stored"
    answer = _post(api, batch(corrected))[0]
    assert answer == {"index": 0, "pseudonym": original.pseudonym, "kind": "data",
                      "status": "stored", "message": "", "code": None, "field": None}
    key = f"raw-RSH/{TODAY}/data/{original.pseudonym}_data.json"
    assert warehouse.keys() == [key]
    assert json.loads(warehouse.read(key))["Age"] == "45"
    assert ("clinical_correction", "ok") in _actions(live.service)
    assert _post(api, batch(original))[0]["status"] == "stored"  # back again, also at once
    assert json.loads(warehouse.read(key))["Age"] == "54"
    clock.advance(days=1)
    api = signed_in(live.url, "nurse1")
    _post(api, batch())  # nothing was held back, so nothing is released the next day
    assert warehouse.keys() == [key]
