"""Clinical batches: raw layout, idempotency, corrections, server-side refusals, isolation."""

from __future__ import annotations

import json

from sqlalchemy import select

from nccid_collector.db import clinical_records
from tests.collector.client import signed_in
from tests.collector.payloads import batch, envelope
from tests.collector.service_setup import keys_of
from tests.conftest import VALID_NHS_NUMBERS

TODAY = "2026-11-25"


def _post(api, payload):
    response = api.post("/api/v1/clinical/batches", json=payload)
    assert response.status_code == 200, response.text
    return response.json()["results"]


def test_records_land_in_the_raw_layout_without_the_nhs_index(live, service, warehouse) -> None:
    keys = keys_of(service, "RSH")
    data = envelope(keys, "RR10000001", "data", nhs=VALID_NHS_NUMBERS[0])
    status = envelope(keys, "RR10000002", "status", nhs=VALID_NHS_NUMBERS[1])
    results = _post(signed_in(live.url, "nurse1"), batch(data, status))
    assert [r["status"] for r in results] == ["stored", "stored"]
    assert results[0] == {"index": 0, "pseudonym": data.pseudonym, "kind": "data",
                          "status": "stored", "message": "", "code": None, "field": None}
    folder = f"raw-RSH/{TODAY}/data"
    assert warehouse.keys() == sorted(
        [f"{folder}/{data.pseudonym}_data.json", f"{folder}/{status.pseudonym}_status.json"])
    text = warehouse.read(f"{folder}/{data.pseudonym}_data.json").decode("utf-8")
    assert json.loads(text) == data.record
    assert data.nhs_index not in text and data.linkage_token not in text
    with service.db.connect() as conn:
        row = conn.execute(select(clinical_records).where(
            clinical_records.c.pseudonym == data.pseudonym)).one()
    assert row.nhs_index == data.nhs_index and row.linkage_token == data.linkage_token


def test_the_same_batch_twice_stores_nothing_twice(live, warehouse) -> None:
    api = signed_in(live.url, "nurse1")
    keys = keys_of(live.service, "RSH")
    payload = batch(*(envelope(keys, f"RR2000{i:04d}") for i in range(20)), batch_id="batch-A")
    first = _post(api, payload)
    again = _post(api, payload)
    assert first == again and {r["status"] for r in first} == {"stored"}
    resent = _post(api, {**payload, "batch_id": "batch-B"})
    assert {r["status"] for r in resent} == {"unchanged"}
    assert len(warehouse.keys("raw-RSH/*/data/*.json")) == len(warehouse.keys()) == 20
    with live.service.db.connect() as conn:
        assert len(conn.execute(select(clinical_records.c.id)).all()) == 20


def test_a_correction_on_a_later_day_is_written_at_once(live, clock, warehouse) -> None:
    api = signed_in(live.url, "nurse1")
    keys = keys_of(live.service, "RSH")
    _post(api, batch(envelope(keys, "RR40000001", Age="54")))
    clock.advance(days=3)
    api = signed_in(live.url, "nurse1")
    result = _post(api, batch(envelope(keys, "RR40000001", Age="56")))[0]
    assert result == {**result, "status": "stored", "message": ""}
    assert len(warehouse.keys("raw-RSH/*/data/*_data.json")) == 2


def test_refusals_are_per_row_and_explain_without_echoing(live, warehouse) -> None:
    api = signed_in(live.url, "nurse1")
    keys = keys_of(live.service, "RSH")
    other_keys = keys_of(live.service, "OTH")
    good = envelope(keys, "RR50000001")
    nhs_in_field = envelope(keys, "RR50000002", Ethnicity=VALID_NHS_NUMBERS[2])
    spaced_nhs = envelope(keys, "RR50000003", **{"Heart rate on admission": "943 476 5919"})
    wrong_site = envelope(other_keys, "RR50000004")
    extra_key = envelope(keys, "RR50000005")
    extra_key.record["Patient name"] = "Jane Smith"
    missing_key = envelope(keys, "RR50000006")
    del missing_key.record["Ethnicity"]
    bad_shape = {"kind": "data", "pseudonym": "RR50000007", "record": {}}
    payload = batch(good, nhs_in_field, spaced_nhs, wrong_site, extra_key, missing_key)
    payload["envelopes"].append(bad_shape)
    payload["envelopes"].append("not an object")
    results = _post(api, payload)
    assert [r["status"] for r in results] == ["stored"] + ["rejected"] * 7
    messages = [r["message"] for r in results]
    assert "looks like an NHS/CHI number" in messages[1] and "'Ethnicity'" in messages[1]
    assert "looks like an NHS/CHI number" in messages[2]
    assert "another site" in messages[3]
    assert "not in the data template" in messages[4] and "Patient name" not in messages[4]
    assert "Ethnicity" in messages[5]
    assert "pseudonym" in messages[6] and results[6]["pseudonym"] is None
    answer = json.dumps(results)
    for planted in (VALID_NHS_NUMBERS[2], "943 476 5919", "Jane Smith", "RR50000007"):
        assert planted not in answer
    assert len(warehouse.keys("raw-*/*/data/*.json")) == len(warehouse.keys()) == 1


def test_a_malformed_batch_is_a_plain_422(live) -> None:
    api = signed_in(live.url, "nurse1")
    response = api.post("/api/v1/clinical/batches", json={"batch_id": "../etc", "envelopes": []})
    assert response.status_code == 422 and response.json()["code"] == "bad_request"
    assert "batch_id" in response.json()["detail"]


def test_one_sites_records_are_invisible_to_another(live, warehouse) -> None:
    rsh = signed_in(live.url, "nurse1")
    oth = signed_in(live.url, "other1")
    keys = keys_of(live.service, "RSH")
    record = envelope(keys, "RR60000001", nhs=VALID_NHS_NUMBERS[0])
    _post(rsh, batch(record, batch_id="shared-id"))
    # the same batch id from another site is a different batch, and its own envelopes only
    assert _post(oth, batch(record, batch_id="shared-id"))[0]["status"] == "rejected"
    oth_check = oth.post("/api/v1/checker", json={"nhs_indexes": [record.nhs_index]}).json()
    assert oth_check["results"][0]["clinical_data"] is None
    assert oth.get("/api/v1/summary").json()["patients_data"] == 0
    assert rsh.get("/api/v1/summary").json()["patients_data"] == 1
    assert warehouse.keys("raw-OTH/*/data/*") == [] and len(warehouse.keys()) == 1
