"""The service fuzzed as an attacker would: planted identifiers in every element the profile
covers, malformed and ambiguous STOW bodies, records with identifiers in any field, in any
digits. Real service on loopback, SQLite and PostgreSQL: 0 server errors, 0 identifiers stored.
"""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nccid_collector import audit
from nccid_desktop.dicom.verify.conformance import check_conformance
from nccid_desktop.pseudonym import pseudonym_for
from nccid_desktop.sheets.meaning import template_for_kind
from tests.collector.client import signed_in
from tests.collector.payloads import batch, dicom_file, envelope, stow_body
from tests.collector.planted import NHS_FORMS, cases, planted_file
from tests.collector.service_setup import keys_of
from tests.collector.warehouse_view import WarehouseView

PLANTED_CASES = list(cases())
FUZZ = settings(max_examples=30, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))


def _written(root: Path, warehouse: WarehouseView) -> list[tuple[str, bytes]]:
    """Every file in the service's folder and every object in its warehouse (S3 or folder)."""
    return ([(p.name, p.read_bytes()) for p in root.rglob("*") if p.is_file()]
            + list(warehouse.contents().items()))


def _identifiers_in(root: Path, warehouse: WarehouseView) -> list[tuple[str, str]]:
    """Planted NHS numbers (any form, UTF-8 or UTF-16 free) in anything the service wrote."""
    return [(name, form) for name, data in _written(root, warehouse) for form in NHS_FORMS
            if form.encode("utf-8") in data]


@pytest.fixture
def pseudonym(service) -> str:
    return pseudonym_for(keys_of(service, "RSH"), hospital_number="RR70000001")


def test_every_element_the_profile_covers_is_refused_when_planted(live, service, pseudonym,
                                                                  tmp_path, warehouse) -> None:
    assert len(PLANTED_CASES) > 700
    api = signed_in(live.url, "imager1")
    files = [planted_file(tmp_path, pseudonym, case, n) for n, case in enumerate(PLANTED_CASES)]
    refused: dict[str, tuple[str, str]] = {}
    for start in range(0, len(files), 120):
        chunk = files[start:start + 120]
        body, headers = stow_body([f.read_bytes() for f in chunk])
        response = api.post("/dicom-web/studies", data=body, headers=headers)
        assert response.status_code == 409, response.text[:500]
        refused.update({f["sop_instance_uid"]: (f["code"], f["keyword"])
                        for f in response.json()["nccid:failures"]})
    sent = {pydicom.dcmread(f).SOPInstanceUID: case for f, case in zip(files, PLANTED_CASES,
                                                                         strict=True)}
    assert set(refused) == set(sent)
    assert all(code in {"identifying_attribute", "identifier_value", "not_pseudonymised"}
               for code, _ in refused.values())
    assert warehouse.keys("raw-*/*/images/*") == []
    assert list(service.store.spool.iterdir()) == []
    assert _identifiers_in(live.settings.data_dir, warehouse) == []
    reasons = {r["reason"] for r in audit.entries(service.db, kind="refused")}
    assert len(reasons) > 100, "each rule and attribute has its audit row"


def _body_variants(parts: list[bytes], variant: str) -> tuple[bytes, dict[str, str]]:
    body, headers = stow_body(parts)
    content_type = headers["Content-Type"]
    if variant == "duplicated boundary":
        headers["Content-Type"] = content_type.replace("boundary=", "boundary=ZZZ; boundary=")
    elif variant == "no type":
        headers["Content-Type"] = content_type.replace('type="application/dicom"; ', "")
    elif variant == "quoted boundary":
        headers["Content-Type"] = content_type.replace("boundary=nccid-test-boundary",
                                                       'boundary="nccid-test-boundary"')
    elif variant == "cut short":
        body = body[:max(1, len(body) * 2 // 3)]
    elif variant == "oversized part header":
        body = body.replace(b"Content-Type: application/dicom\r\n",
                            b"Content-Type: application/dicom\r\nX-Pad: " + b"p" * 17000 + b"\r\n",
                            1)
    elif variant == "part header twice":
        body = body.replace(b"Content-Type: application/dicom\r\n",
                            b"Content-Type: application/dicom\r\nContent-Type: text/plain\r\n", 1)
    return body, headers


def test_malformed_and_planted_stow_bodies_never_cause_a_server_error(live, service, pseudonym,
                                                                     tmp_path, warehouse) -> None:
    api = signed_in(live.url, "imager1")
    counter = iter(range(10**6))

    def part(kind: str, case_index: int) -> bytes:
        n = next(counter)
        if kind == "conforming":
            return dicom_file(tmp_path / f"ok-{n}.dcm", pseudonym).read_bytes()
        if kind == "planted":
            case = PLANTED_CASES[case_index % len(PLANTED_CASES)]
            return planted_file(tmp_path, pseudonym, case, 10**6 + n).read_bytes()
        data = dicom_file(tmp_path / f"cut-{n}.dcm", pseudonym).read_bytes()
        return data[:case_index % len(data)] if kind == "truncated" else bytes(
            (b * 31 + case_index) % 256 for b in data[:300])

    @FUZZ
    @given(kinds=st.lists(st.tuples(st.sampled_from(["conforming", "planted", "truncated",
                                                     "garbage"]),
                                    st.integers(0, 10**6)), min_size=1, max_size=5),
           variant=st.sampled_from(["plain", "duplicated boundary", "no type",
                                    "quoted boundary", "cut short", "oversized part header",
                                    "part header twice"]))
    def run(kinds, variant) -> None:
        body, headers = _body_variants([part(k, i) for k, i in kinds], variant)
        response = api.post("/dicom-web/studies", data=body, headers=headers)
        assert response.status_code < 500, response.text[:300]

    run()
    for key in warehouse.keys("raw-*/*/images/*.dcm"):
        assert check_conformance(warehouse.read(key)).problems == []
    assert _identifiers_in(live.settings.data_dir, warehouse) == []
    assert list(service.store.spool.iterdir()) == []


def test_records_with_identifiers_in_any_field_in_any_digits_are_never_stored(
        live, service, warehouse) -> None:
    keys = keys_of(service, "RSH")
    nurse = signed_in(live.url, "nurse1")
    counter = iter(range(10**6))
    fields = {kind: [*template.record_keys, "SubmittingCentre"] for kind in ("data", "status")
              if (template := template_for_kind(kind)) is not None}

    @FUZZ
    @given(kind=st.sampled_from(["data", "status"]), pick=st.integers(0, 10**6),
           form=st.sampled_from(NHS_FORMS), before=st.sampled_from(["", "NHS ", "id:", "x "]),
           after=st.sampled_from(["", " ", ".", " checked"]))
    def run(kind, pick, form, before, after) -> None:
        record = envelope(keys, f"RR{next(counter):08d}", kind)
        field = fields[kind][pick % len(fields[kind])]
        record.record[field] = before + form + after
        response = nurse.post("/api/v1/clinical/batches", json=batch(record))
        assert response.status_code == 200, response.text[:300]
        result = response.json()["results"][0]
        assert result["status"] == "rejected" and result["field"] == field, result

    run()
    assert warehouse.keys("raw-*/*/data/*") == []
    assert _identifiers_in(live.settings.data_dir, warehouse) == []
