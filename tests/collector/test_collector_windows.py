"""GET /api/v1/clinical/windows: each patient's test dates, newest version, own site only."""

from __future__ import annotations

from tests.collector.client import signed_in
from tests.collector.payloads import batch, envelope
from tests.collector.service_setup import keys_of


def _upload(live, *envelopes) -> None:
    response = signed_in(live.url, "nurse1").post("/api/v1/clinical/batches",
                                                  json=batch(*envelopes))
    assert response.status_code == 200, response.text
    assert {r["status"] for r in response.json()["results"]} <= {"stored", "unchanged"}


def _windows(live, username="imager1") -> dict[str, list[dict]]:
    response = signed_in(live.url, username).get("/api/v1/clinical/windows")
    assert response.status_code == 200, response.text
    return {p["pseudonym"]: p["windows"] for p in response.json()["patients"]}


def test_windows_follow_the_newest_record_of_each_kind(live) -> None:
    keys = keys_of(live.service, "RSH")
    positive = envelope(keys, "RR30000001", "data",
                        **{"Date_of_Positive_Covid_Swab": "04/02/2020"})
    negative = envelope(keys, "RR30000002", "status", SwabDate="15/06/2020", SwabStatus="0")
    undated = envelope(keys, "RR30000003", "data")
    _upload(live, positive, negative, undated)
    assert _windows(live) == {
        positive.pseudonym: [{"kind": "positive", "test_date": "2020-04-02"}],
        negative.pseudonym: [{"kind": "negative", "test_date": "2020-06-15"}],
        undated.pseudonym: [],
    }
    # (a Covid Status record is never positive: the templates' rule of meaning, re-checked
    # by the service, refuses SwabStatus 1 there)
    corrected = envelope(keys, "RR30000002", "status", SwabDate="20/06/2020", SwabStatus="0")
    also_tested = envelope(keys, "RR30000001", "status", SwabDate="01/04/2020", SwabStatus="0")
    _upload(live, corrected, also_tested)
    windows = _windows(live)
    assert windows[negative.pseudonym] == [{"kind": "negative", "test_date": "2020-06-20"}]
    assert sorted(w["test_date"] for w in windows[positive.pseudonym]) == ["2020-04-01",
                                                                           "2020-04-02"]


def test_windows_are_the_callers_site_only_and_need_the_imaging_role(live) -> None:
    keys = keys_of(live.service, "RSH")
    _upload(live, envelope(keys, "RR30000009", "status"))
    assert _windows(live, "other1") == {}
    assert len(_windows(live, "admin1")) == 1
    refused = signed_in(live.url, "nurse1").get("/api/v1/clinical/windows")
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
