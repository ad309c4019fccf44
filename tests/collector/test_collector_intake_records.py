"""Clinical batches over real HTTP: each record is checked with the templates' own rules.

Each case is a record a hand-made client sent with a signed-in nurse account, which the
service stored before: rejected now, naming the field and the rule (never the value), nothing
written, the refusal audited with route, reason and address; the rest of the batch stored.
"""

from __future__ import annotations

import json

from nccid_collector import audit
from nccid_collector.intake import set_hospital_pattern
from tests.collector.client import signed_in
from tests.collector.payloads import batch, envelope
from tests.collector.service_setup import keys_of

NHS = "9434765919"
FULL_WIDTH_NHS = "".join(chr(0xFF10 + int(d)) for d in NHS)
ARABIC_INDIC = "".join(chr(0x0660 + int(d)) for d in "1234567890123456")

#: case -> (record kind, fields changed, code, field named, planted values)
CASES = {
    "NHS number in SwabStatus": ("status", {"SwabStatus": f"NHS {NHS}"}, "identifier_value",
                                 "SwabStatus", [NHS]),
    "full-width NHS number": ("status", {"SwabStatus": FULL_WIDTH_NHS}, "identifier_value",
                              "SwabStatus", [FULL_WIDTH_NHS]),
    "a name as a code": ("status", {"SwabStatus": "ZZTESTPATIENT"}, "bad_code", "SwabStatus",
                         ["ZZTESTPATIENT"]),
    "a hospital number as a code": ("status", {"SwabStatus": "HOSPX12345"}, "bad_code",
                                    "SwabStatus", ["HOSPX12345"]),
    "a date in the wrong order": ("status", {"SwabDate": "2020-04-03"}, "bad_date", "SwabDate",
                                  []),
    "a date in the future": ("data", {"Date of admission": "01/01/2099"}, "date_future",
                             "Date of admission", []),
    "an age out of range": ("data", {"Age": "140"}, "out_of_range", "Age", []),
    "a number in another script": ("data", {"Age": "\u0665\u0664"}, "bad_format", "Age", []),
    "another site as SubmittingCentre": ("data", {"SubmittingCentre": "OTH"},
                                         "submitting_centre", "SubmittingCentre", []),
    "a rule between fields": ("data", {"If CKD, stage": "3", "PMH CKD": "0"}, "only_when",
                              "If CKD, stage", []),
    "a rule of meaning": ("status", {"SwabStatus": "1"}, "negative_marked_positive",
                          "SwabStatus", []),
}


def _results(api, payload) -> list[dict]:
    response = api.post("/api/v1/clinical/batches", json=payload)
    assert response.status_code == 200, response.text
    return response.json()["results"]


def test_each_bad_record_is_rejected_named_and_audited_the_rest_stored(live, service,
                                                                       warehouse) -> None:
    keys = keys_of(service, "RSH")
    good = envelope(keys, "RR10000001", "status")
    bad = []
    for number, (kind, fields, _code, _field, _planted) in enumerate(CASES.values()):
        record = envelope(keys, f"RR2000{number:04d}", kind)
        record.record.update(fields)
        bad.append(record)
    results = _results(signed_in(live.url, "nurse1"), batch(good, *bad))
    assert [r["status"] for r in results] == ["stored"] + ["rejected"] * len(CASES)
    expected = []
    for result, record, (case, (_, _, code, field, planted)) in zip(
            results[1:], bad, CASES.items(), strict=True):
        assert (result["code"], result["field"]) == (code, field), case
        assert field in result["message"] and result["pseudonym"] == record.pseudonym, case
        for value in planted:
            assert value not in json.dumps(results, ensure_ascii=False), case
        expected.append(("nurse1", "clinical_upload", "POST /api/v1/clinical/batches",
                         f"{code}:{field}", "127.0.0.1"))
    assert warehouse.names("raw-RSH/*/data/*.json") == [f"{good.pseudonym}_status.json"]
    refused = audit.entries(service.db, "RSH", kind="refused")
    repeats = {row: expected.count(row) for row in expected}  # the same refusal: one row
    assert [((r["username"], r["action"], r["route"], r["reason"], r["address"]),
             r["occurrences"]) for r in refused] == list(repeats.items())


def test_a_pseudonym_in_other_digits_is_rejected_and_names_no_file(live, service,
                                                                  warehouse) -> None:
    keys = keys_of(service, "RSH")
    forged = envelope(keys, "RR10000003", "status").to_json()
    forged["pseudonym"] = forged["record"]["Pseudonym"] = "Covid" + ARABIC_INDIC
    result = _results(signed_in(live.url, "nurse1"), {"batch_id": "b1",
                                                      "envelopes": [forged]})[0]
    assert (result["status"], result["code"], result["pseudonym"]) == (
        "rejected", "bad_pseudonym", None)
    assert list(live.settings.data_dir.rglob("*.json")) == [] and warehouse.keys() == []
    names = [p.name for p in live.settings.data_dir.rglob("*")] + warehouse.keys()
    assert all(name.isascii() for name in names)


def test_the_sites_hospital_pattern_is_refused_in_free_text(live, service) -> None:
    keys = keys_of(service, "RSH")
    record = envelope(keys, "RR10000004", "data", Hospital="HOSPX12345 ward")
    nurse = signed_in(live.url, "nurse1")
    set_hospital_pattern(service.db, "RSH", r"^HOSPX\d{5}$")
    result = _results(nurse, batch(record))[0]
    assert (result["status"], result["code"], result["field"]) == (
        "rejected", "identifier_value", "Hospital")
    set_hospital_pattern(service.db, "RSH", None)
    assert _results(nurse, batch(record))[0]["status"] == "stored"


def test_a_replayed_batch_is_answered_again_without_a_second_refusal_row(live, service) -> None:
    keys = keys_of(service, "RSH")
    bad = envelope(keys, "RR10000005", "status", SwabStatus="7")
    nurse = signed_in(live.url, "nurse1")
    payload = batch(bad, batch_id="same-batch")
    assert _results(nurse, payload) == _results(nurse, payload)
    refused = audit.entries(service.db, "RSH", kind="refused")
    assert [(r["reason"], r["occurrences"]) for r in refused] == [("bad_code:SwabStatus", 1)]
