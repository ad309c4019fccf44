"""When the object store is down, uploads are refused as retryable and nothing is lost.

The service reaches the real S3 store (SeaweedFS) through a loopback proxy that can answer
503 to everything, as a store in trouble does. While it does (after boto3's own retries), a
clinical batch is answered ``503 storage_unavailable`` and each instance of a STOW request
fails with "processing failure, send again": never a traceback, never a lost record. Once the
store is back, the same uploads, re-sent as the desktop re-sends them, are stored in full.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pydicom
import pytest

from nccid_collector import ServiceSettings, accounts, open_service, start_embedded
from nccid_desktop.pseudonym import pseudonym_for
from tests.collector.client import signed_in
from tests.collector.payloads import batch, dicom_file, envelope, stow_body
from tests.collector.service_setup import Clock, cached_hash, keys_of, populate
from tests.collector.warehouse_view import WarehouseView
from tests.faults.proxy import Fault, FaultProxy, RequestHead


@pytest.fixture
def store_behind_a_proxy(s3_server, monkeypatch: pytest.MonkeyPatch):
    down = threading.Event()

    def plan(_head: RequestHead) -> Fault:
        return Fault.STATUS_503 if down.is_set() else Fault.PASS

    port = int(s3_server.endpoint.rsplit(":", 1)[1])
    with FaultProxy(("127.0.0.1", port), plan) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")  # the standard setting; fewer waits here
        yield down


def test_a_store_outage_refuses_uploads_as_retryable_and_loses_nothing(
        store_behind_a_proxy, s3_server, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    down = store_behind_a_proxy
    monkeypatch.setattr(accounts, "hash_password", cached_hash)
    settings = ServiceSettings(data_dir=tmp_path / "svc", db_url=f"sqlite:///{tmp_path}/s.db",
                               storage=s3_server.new_address(),
                               clock=Clock(datetime(2026, 11, 25, 10, 0, tzinfo=UTC)))
    service = open_service(settings)
    populate(service)
    live = start_embedded(settings.data_dir, settings=settings)
    try:
        keys = keys_of(service, "RSH")
        records = batch(envelope(keys, "RR96000001"), envelope(keys, "RR96000002", "status"),
                        batch_id="outage-1")
        image = dicom_file(tmp_path / "a.dcm", pseudonym_for(keys, hospital_number="RR96000001"))
        body, headers = stow_body([image.read_bytes()])
        nurse, imager = signed_in(live.url, "nurse1"), signed_in(live.url, "imager1")

        down.set()
        refused = nurse.post("/api/v1/clinical/batches", json=records)
        assert refused.status_code == 503 and refused.json()["code"] == "storage_unavailable"
        failed = imager.post("/dicom-web/studies", data=body, headers=headers)
        assert failed.status_code == 409
        assert failed.json()["00081198"]["Value"][0]["00081197"]["Value"] == [0x0110]
        assert "send it again" in failed.json()["nccid:failures"][0]["message"]
        assert imager.post("/api/v1/images/known", json={"sop_instance_uids": [
            pydicom.dcmread(image).SOPInstanceUID]}).json() == {"known": []}

        down.clear()  # the store is back: the client's retries succeed
        again = nurse.post("/api/v1/clinical/batches", json=records)
        assert again.status_code == 200
        assert {r["status"] for r in again.json()["results"]} <= {"stored", "unchanged"}
        assert all(r["message"] == "" for r in again.json()["results"])
        assert imager.post("/dicom-web/studies", data=body, headers=headers).status_code == 200
        view = WarehouseView.of(settings.storage_address, s3_server.client())
        assert sorted(name.rsplit("_", 1)[-1] for name in view.names("raw-RSH/*/data/*")) == [
            "data.json", "status.json"]
        assert view.names("raw-RSH/*/images/*") == [f"{pydicom.dcmread(image).SOPInstanceUID}.dcm"]
    finally:
        live.stop()
        service.close()
