"""Uploads through a misbehaving network and a restarting service store every item exactly once."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from nccid_desktop.tasks import Progress
from nccid_desktop.transport.client import CollectorClient
from nccid_desktop.transport.http import HttpSettings
from nccid_desktop.transport.outbox import Outbox
from nccid_desktop.transport.uploader import Uploader
from tests.faults.proxy import Fault, FaultProxy, random_plan
from tests.transport.collector_fixture import running_collector
from tests.transport.orthanc import free_port
from tests.transport.payloads import pseudonym_of, status_envelope, write_instances

PATIENTS, INSTANCES = 500, 200
PATIENT_SETTINGS = HttpSettings(connect_timeout=2, read_timeout=3, max_attempts=15, backoff_base=0.05,
                                backoff_cap=0.5)


def _stage(outbox: Outbox, keys, folder: Path, patients: int, instances: int) -> None:
    for n in range(patients):
        outbox.stage_record(status_envelope(keys, n))
    for uid, path in write_instances(folder, keys, instances, patients=patients).items():
        outbox.stage_image(uid, "", path, move=True)


@pytest.mark.slow
def test_500_rows_and_200_instances_through_faults_are_stored_once(tmp_path: Path) -> None:
    with running_collector(tmp_path / "service") as collector:
        host, port = collector.url.removeprefix("http://").split(":")
        plan = random_plan(seed=11, rate=0.3, only=lambda head: head.method == "POST")
        with FaultProxy((host, int(port)), plan, retry_after=1, stall_seconds=4) as proxy:
            client = CollectorClient(proxy.url, PATIENT_SETTINGS, interactive=PATIENT_SETTINGS)
            client.sign_in(collector.account.username, collector.account.password)
            outbox = Outbox()
            _stage(outbox, client.site_keys(), tmp_path / "staged", PATIENTS, INSTANCES)
            report = Uploader(client, outbox, record_batch_count=25, image_batch_count=10).run()
            applied = dict(proxy.applied)
            summary = client.summary()
        assert sum(n for f, n in applied.items() if f is not Fault.PASS) >= 8, applied
        assert {f for f in applied if f is not Fault.PASS} >= {Fault.RESET_MID_BODY, Fault.DROP_RESPONSE}
        assert report.failed == 0 and outbox.count_pending() == 0
        assert report.records_stored + report.records_unchanged == PATIENTS
        records, images = collector.raw_files("data"), collector.raw_files("images")
        assert len(records) == len({p.name for p in records}) == PATIENTS
        assert len(images) == len({p.name for p in images}) == INSTANCES
        assert (summary["patients_status"], summary["images"]) == (PATIENTS, INSTANCES)


@pytest.mark.slow
def test_service_restarted_mid_upload_loses_and_doubles_nothing(tmp_path: Path) -> None:
    port = free_port()
    data_dir = tmp_path / "service"
    with running_collector(data_dir, port=port) as collector:
        account = collector.account
        client = CollectorClient(collector.url, PATIENT_SETTINGS)
        client.sign_in(account.username, account.password)
        outbox = Outbox()
        _stage(outbox, client.site_keys(), tmp_path / "staged", 60, 120)
        first_answer = threading.Event()

        def progress(p: Progress) -> None:
            if p.done:
                first_answer.set()

        uploader = Uploader(client, outbox, record_batch_count=5, image_batch_count=4,
                            reauthenticate=lambda: client.sign_in(account.username, account.password))
        outcome: dict[str, object] = {}
        worker = threading.Thread(target=lambda: outcome.update(report=uploader.run(progress)))
        worker.start()
        assert first_answer.wait(60)
        collector.service.stop()
        assert outbox.count_pending() > 0, "the service went down with work still to send"
    time.sleep(0.5)
    with running_collector(data_dir, port=port) as restarted:
        worker.join(120)
        assert not worker.is_alive()
        report = outcome["report"]
        assert report.failed == 0 and outbox.count_pending() == 0  # type: ignore[attr-defined]
        assert len(restarted.raw_files("data")) == 60
        assert len(restarted.raw_files("images")) == 120
        assert {p.stem.split("_")[0] for p in restarted.raw_files("data")} == {
            pseudonym_of(client.site_keys(), n) for n in range(60)}
