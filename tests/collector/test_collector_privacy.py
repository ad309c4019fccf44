"""No identifier reaches the service's logs, database, audit trail or files.

Planted values (an NHS number, a hospital number, a patient name) are sent the ways a
mistake could send them: in a record field, as a sign-in name, in a query string, in a
DICOM header with a forged PatientID. Every one is refused, and then nothing the service
wrote anywhere may contain them.
"""

from __future__ import annotations

import logging
from pathlib import Path

import requests
from sqlalchemy import select

from nccid_collector import audit
from nccid_collector.db import metadata
from tests.collector.client import Api, signed_in
from tests.collector.payloads import batch, dicom_file, envelope, stow_body
from tests.collector.service_setup import keys_of

NHS = "9434765919"
NHS_SPACED = "943 476 5919"
HOSPITAL = "RR99887766"
NAME = "Zebedee Quartermain"
PLANTED = (NHS, NHS_SPACED, HOSPITAL, NAME, NAME.upper().replace(" ", "^"))


def _database_text(service) -> str:
    rows = []
    with service.db.connect() as conn:
        for table in metadata.sorted_tables:
            rows += [repr(tuple(row)) for row in conn.execute(select(table))]
    return "\n".join(rows)


def _files_bytes(root: Path) -> list[tuple[Path, bytes]]:
    return [(p, p.read_bytes()) for p in root.rglob("*") if p.is_file()]


def test_planted_identifiers_appear_nowhere(live, service, tmp_path, caplog, warehouse) -> None:
    caplog.set_level(logging.DEBUG)
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    keys = keys_of(service, "RSH")
    nurse = signed_in(live.url, "nurse1")
    leaky = [envelope(keys, "RR11110001", Ethnicity=NHS),
             envelope(keys, "RR11110002", **{"Heart rate on admission": NHS_SPACED})]
    results = nurse.post("/api/v1/clinical/batches", json=batch(*leaky)).json()["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected"]
    good = envelope(keys, "RR11110003", nhs=NHS)
    assert nurse.post("/api/v1/clinical/batches", json=batch(good)).json()["results"][0][
        "status"] == "stored"

    assert Api(live.url).sign_in(HOSPITAL, NHS).status_code == 401
    assert Api(live.url).sign_in(NAME).status_code == 401
    requests.get(f"{live.url}/api/v1/summary?nhs={NHS}&name={NAME}",
                 headers={"Authorization": f"Bearer {nurse.token}"}, timeout=10)
    requests.get(f"{live.url}/api/v1/{HOSPITAL}", timeout=10)

    imager = signed_in(live.url, "imager1")
    forged = dicom_file(inputs / "forged.dcm", HOSPITAL, patient_name=NAME.upper().replace(" ", "^"))
    body, headers = stow_body([forged.read_bytes()])
    assert imager.post("/dicom-web/studies", data=body, headers=headers).status_code == 409

    database = _database_text(service)
    assert good.nhs_index in database  # the keyed hash is what the checker needs
    found = [value for value in PLANTED if value in database]
    assert found == []
    service_log = "\n".join(caplog.handler.format(r) for r in caplog.records
                            if r.name.startswith(("nccid_desktop", "nccid_collector", "uvicorn")))
    assert [value for value in PLANTED if value in service_log] == []
    assert "audit user=" in service_log and "GET /api/v1/summary 200" in service_log
    written = _files_bytes(live.settings.data_dir)
    if live.settings.database_url.startswith("sqlite:"):
        written += _files_bytes(Path(live.settings.database_url.removeprefix("sqlite:///")).parent)
    written += [(Path(key), data) for key, data in warehouse.contents().items()]
    assert any(path.name == f"{good.pseudonym}_data.json" for path, _ in written)
    leaks = [(path.name, value) for path, data in written for value in PLANTED
             if value.encode() in data and inputs not in path.parents]
    assert leaks == []
    entries = audit.entries(service.db)
    assert {"(unknown)"} <= {e["username"] for e in entries}
    assert {e["action"] for e in entries} >= {"sign_in", "clinical_upload", "stow"}
