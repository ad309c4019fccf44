"""The NHS/CHI checker and the summary reflect clinical records and images together."""

from __future__ import annotations

from nccid_desktop.pseudonym import nhs_index
from tests.collector.client import signed_in
from tests.collector.payloads import batch, dicom_file, envelope, stow_body
from tests.collector.service_setup import keys_of
from tests.conftest import VALID_NHS_NUMBERS


def test_checker_and_summary_count_records_studies_and_images(live, clock, tmp_path) -> None:
    keys = keys_of(live.service, "RSH")
    nurse, imager = signed_in(live.url, "nurse1"), signed_in(live.url, "imager1")
    positive = envelope(keys, "RR80000001", "data", nhs=VALID_NHS_NUMBERS[0])
    negative = envelope(keys, "RR80000002", "status", nhs=VALID_NHS_NUMBERS[1])
    assert nurse.post("/api/v1/clinical/batches", json=batch(positive, negative)).ok
    files = [dicom_file(tmp_path / f"{i}.dcm", positive.pseudonym, study_uid=f"1.2.3.{i // 2}")
             for i in range(3)]
    files.append(dicom_file(tmp_path / "n.dcm", negative.pseudonym))
    files.append(dicom_file(tmp_path / "early.dcm", "Covid0000000000000001"))  # no record yet
    body, headers = stow_body([f.read_bytes() for f in files])
    assert imager.post("/dicom-web/studies", data=body, headers=headers).status_code == 200

    clock.advance(days=1)
    nurse = signed_in(live.url, "nurse1")
    later = envelope(keys, "RR80000001", "status", nhs=VALID_NHS_NUMBERS[0])
    assert nurse.post("/api/v1/clinical/batches", json=batch(later)).ok
    unknown = nhs_index(keys, VALID_NHS_NUMBERS[2])
    asked = [negative.nhs_index, unknown, positive.nhs_index]
    answer = nurse.post("/api/v1/checker", json={"nhs_indexes": asked})
    assert answer.status_code == 200
    results = answer.json()["results"]
    held = [r.pop("study_list") for r in results]
    assert held[2] == [{"study_uid": "1.2.3.0", "images": 2, "received": "2026-11-25"},
                       {"study_uid": "1.2.3.1", "images": 1, "received": "2026-11-25"}]
    assert [len(h) for h in held] == [1, 0, 2] and held[0][0]["images"] == 1
    assert results == [
        {"nhs_index": negative.nhs_index, "clinical_data": None, "status": "2026-11-25",
         "studies": 1, "images": 1},
        {"nhs_index": unknown, "clinical_data": None, "status": None, "studies": 0, "images": 0},
        {"nhs_index": positive.nhs_index, "clinical_data": "2026-11-25", "status": "2026-11-26",
         "studies": 2, "images": 3},
    ]
    summary = nurse.get("/api/v1/summary").json()
    assert summary == {
        "site": "RSH", "site_name": "Royal Surrey", "patients_data": 1, "patients_status": 2,
        "studies": 4, "images": 5,
        "recent": [{"date": "2026-11-26", "kind": "status", "count": 1},
                   {"date": "2026-11-25", "kind": "status", "count": 1},
                   {"date": "2026-11-25", "kind": "images", "count": 5},
                   {"date": "2026-11-25", "kind": "data", "count": 1}],
        "retention_days": None,
    }
    other = signed_in(live.url, "other1")
    assert other.post("/api/v1/checker", json={"nhs_indexes": asked}).json()["results"][2][
        "images"] == 0


def test_checker_refuses_anything_but_index_hashes(live) -> None:
    nurse = signed_in(live.url, "nurse1")
    response = nurse.post("/api/v1/checker", json={"nhs_indexes": [VALID_NHS_NUMBERS[0]]})
    assert response.status_code == 422 and response.json()["code"] == "bad_request"
    assert VALID_NHS_NUMBERS[0] not in response.text


def test_health_needs_no_sign_in(live) -> None:
    import requests

    assert requests.get(live.url + "/api/v1/health", timeout=10).json()["status"] == "ok"
