"""The S3 warehouse holds exactly what the folder warehouse holds, byte for byte.

The same uploads (clinical records of both kinds, a same-day correction released the next
day, refused rows, small instances and one large enough to go up in parts, a resent instance,
a refused instance) go through two real services on loopback, one writing to a folder and
one to SeaweedFS; the two warehouses, read without the service's code, must be identical.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from nccid_collector import ServiceSettings, accounts, open_service, start_embedded
from nccid_collector.objectstore.s3 import DEFAULT_MULTIPART_THRESHOLD
from nccid_desktop.pseudonym import pseudonym_for
from tests.collector.client import signed_in
from tests.collector.payloads import batch, dicom_file, envelope, large_dicom_file, stow_body
from tests.collector.service_setup import Clock, cached_hash, keys_of, populate
from tests.collector.warehouse_view import WarehouseView
from tests.conftest import VALID_NHS_NUMBERS


@pytest.fixture
def twin_services(tmp_path: Path, request: pytest.FixtureRequest,
                  monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(accounts, "hash_password", cached_hash)
    server = request.getfixturevalue("s3_server")
    clock = Clock(datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    running = []
    for name, storage in (("folder", None), ("s3", server.new_address())):
        settings = ServiceSettings(data_dir=tmp_path / name,
                                   db_url=f"sqlite:///{tmp_path / name}.sqlite3",
                                   storage=storage, clock=clock)
        service = open_service(settings)
        populate(service)
        running.append((start_embedded(settings.data_dir, settings=settings), service))
    yield running, clock, server
    for live, service in running:
        live.stop()
        service.close()


def test_both_back_ends_hold_the_same_bytes_under_the_same_names(twin_services,
                                                                 tmp_path) -> None:
    running, clock, server = twin_services
    (folder_live, folder_service), (s3_live, _s3_service) = running
    keys = keys_of(folder_service, "RSH")  # one set of pseudonyms, sent to both services
    pseudonym = pseudonym_for(keys, hospital_number="RR80000001")
    images = [dicom_file(tmp_path / f"i{n}.dcm", pseudonym) for n in range(4)]
    images.append(large_dicom_file(tmp_path / "large.dcm", pseudonym,
                                  DEFAULT_MULTIPART_THRESHOLD + 3 * 1024 * 1024))
    refused = dicom_file(tmp_path / "bad.dcm", pseudonym, private_tag=True)
    first = batch(envelope(keys, "RR80000001", nhs=VALID_NHS_NUMBERS[0], Age="61"),
                  envelope(keys, "RR80000002", "status"),
                  envelope(keys, "RR80000003", Ethnicity=VALID_NHS_NUMBERS[1]))
    correction = batch(envelope(keys, "RR80000001", nhs=VALID_NHS_NUMBERS[0], Age="62"))

    def day_one(url: str) -> None:
        nurse, imager = signed_in(url, "nurse1"), signed_in(url, "imager1")
        assert [r["status"] for r in nurse.post("/api/v1/clinical/batches", json=first)
                .json()["results"]] == ["stored", "stored", "rejected"]
        assert nurse.post("/api/v1/clinical/batches", json=correction).json()[
            "results"][0]["message"] == ""  # a same-day correction replaces at once
        body, headers = stow_body([p.read_bytes() for p in [*images[:3], refused]])
        assert imager.post("/dicom-web/studies", data=body, headers=headers).status_code == 202

    def day_two(url: str) -> None:
        nurse, imager = signed_in(url, "nurse1"), signed_in(url, "imager1")
        nurse.post("/api/v1/clinical/batches", json=batch())  # nothing held to release
        body, headers = stow_body([p.read_bytes() for p in images[2:]])
        assert imager.post("/dicom-web/studies", data=body, headers=headers).status_code == 200

    for live, _service in running:
        day_one(live.url)
    clock.advance(days=1)
    for live, _service in running:
        day_two(live.url)

    folder = WarehouseView.of(str(folder_live.settings.storage_address))
    bucket = WarehouseView.of(s3_live.settings.storage_address, server.client())
    assert bucket.is_s3 and not folder.is_s3
    in_folder, in_bucket = folder.contents(), bucket.contents()
    assert sorted(in_bucket) == sorted(in_folder)
    assert [key for key in in_folder if in_folder[key] != in_bucket[key]] == []
    names = {key.split("/", 2)[2] for key in in_folder}
    assert len(in_folder) == 2 + len(images)  # two day-one records (one corrected), images
    assert f"data/{pseudonym}_data.json" in names
    assert any(len(data) > DEFAULT_MULTIPART_THRESHOLD for data in in_bucket.values())
    assert bucket.unfinished_uploads() == []
