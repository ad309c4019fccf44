"""Several ``nccid-collector serve`` processes on one PostgreSQL database and one S3 bucket.

Real processes, real PostgreSQL, real SeaweedFS: what a national deployment behind a load
balancer does. No lost, duplicated or torn write: the same instance through two replicas at
once is stored once; a clinical batch re-sent to another replica after a timeout is answered
from the first; sessions, lock-outs and the audit trail are the database's, so every replica
sees the same; and a replica killed with -9 in the middle of an upload loses nothing while the
others keep serving.
"""

from __future__ import annotations

import hashlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path

import pydicom
import pytest
import requests
from sqlalchemy import func, select

from nccid_collector import ServiceSettings, accounts, audit, open_service
from nccid_collector.db import clinical_records, images
from nccid_collector.objectstore import parse_s3_address
from nccid_collector.objectstore.s3 import S3Store
from nccid_desktop.pseudonym import pseudonym_for
from tests.collector.client import Api, signed_in
from tests.collector.payloads import batch, dicom_file, envelope, large_dicom_file, stow_body
from tests.collector.replicas import Replica, start_replicas
from tests.collector.service_setup import PASSWORD, cached_hash, keys_of, populate
from tests.collector.warehouse_view import WarehouseView

MIB = 1024 * 1024


class Deployment:
    """One database, one bucket prefix, one master key; replicas started on demand."""

    def __init__(self, root: Path, db_url: str, storage: str, server) -> None:
        self.root, self.db_url, self.storage, self.server = root, db_url, storage, server
        self.master_key = root / "master.key"
        self.replicas: list[Replica] = []
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(accounts, "hash_password", cached_hash)
            self.admin = open_service(ServiceSettings(
                data_dir=root / "admin", db_url=db_url, storage=storage,
                master_key_file=self.master_key))
            populate(self.admin)
        self.view = WarehouseView.of(storage, server.client())

    def start(self, *names: str) -> list[Replica]:
        started = start_replicas(list(names), self.root, self.db_url, self.storage,
                                 self.master_key, self.server.env())
        self.replicas += started
        return started

    def close(self) -> None:
        for replica in self.replicas:
            replica.stop()
        self.admin.close()


@pytest.fixture(scope="module")
def deployment(pg_cluster, s3_server, tmp_path_factory):
    made = Deployment(tmp_path_factory.mktemp("replicas"), pg_cluster.new_database(),
                      s3_server.new_address(), s3_server)
    made.start("a", "b")
    yield made
    made.close()


def _stow(url: str, token: str, paths: list[Path], timeout: float = 120) -> requests.Response:
    body, headers = stow_body([p.read_bytes() for p in paths])
    return requests.post(url + "/dicom-web/studies", data=body, timeout=timeout,
                         headers={**headers, "Authorization": f"Bearer {token}"})


def _uid(path: Path) -> str:
    return pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID


def test_the_same_instances_through_two_replicas_at_once_are_stored_once(deployment,
                                                                          tmp_path) -> None:
    a, b = deployment.replicas[:2]
    pseudonym = pseudonym_for(keys_of(deployment.admin, "RSH"), hospital_number="RR91000001")
    files = [dicom_file(tmp_path / f"{n}.dcm", pseudonym) for n in range(10)]
    files.append(large_dicom_file(tmp_path / "large.dcm", pseudonym, 20 * MIB))
    tokens = {r.url: signed_in(r.url, "imager1").token for r in (a, b)}
    senders = [a, b, a, b, a, b]
    start = threading.Barrier(len(senders))

    def send(replica: Replica) -> requests.Response:
        start.wait()
        return _stow(replica.url, tokens[replica.url], files)

    with ThreadPoolExecutor(len(senders)) as pool:
        answers = list(pool.map(send, senders))
    assert [r.status_code for r in answers] == [200] * len(senders), answers[0].text
    uids = sorted(_uid(f) for f in files)
    stored = deployment.view.keys("raw-RSH/*/images/*.dcm")
    assert sorted(key.rsplit("/", 1)[1][:-4] for key in stored) == uids
    by_uid = {_uid(f): f.read_bytes() for f in files}
    assert all(deployment.view.read(key) == by_uid[key.rsplit("/", 1)[1][:-4]] for key in stored)
    assert deployment.view.unfinished_uploads() == []
    with deployment.admin.db.connect() as conn:
        rows = conn.execute(select(images.c.sop_instance_uid, images.c.complete)
                            .where(images.c.sop_instance_uid.in_(uids))).all()
    assert sorted(rows) == [(uid, True) for uid in uids]


def test_a_batch_resent_to_another_replica_after_a_timeout_is_answered_from_the_first(
        deployment) -> None:
    a, b = deployment.replicas[:2]
    keys = keys_of(deployment.admin, "RSH")
    records = [envelope(keys, f"RR92{n:06d}", Age=str(20 + n % 60)) for n in range(600)]
    payload = batch(*records, batch_id="timeout-resend-1")
    nurse_a, nurse_b = signed_in(a.url, "nurse1"), signed_in(b.url, "nurse1")
    with pytest.raises(requests.Timeout):  # the first replica is still working on it
        requests.post(a.url + "/api/v1/clinical/batches", json=payload, timeout=0.3,
                      headers={"Authorization": f"Bearer {nurse_a.token}"})
    resent = nurse_b.post("/api/v1/clinical/batches", json=payload)
    assert resent.status_code == 200, resent.text
    results = resent.json()["results"]
    assert [r["status"] for r in results] == ["stored"] * len(records)  # the first answer
    assert nurse_a.post("/api/v1/clinical/batches", json=payload).json()["results"] == results
    pseudonyms = [r.pseudonym for r in records]
    with deployment.admin.db.connect() as conn:
        versions = conn.execute(select(func.count()).select_from(clinical_records).where(
            clinical_records.c.pseudonym.in_(pseudonyms))).scalar()
    assert versions == len(records)
    written = deployment.view.names("raw-RSH/*/data/*.json")
    assert sorted(n for n in written if n.split("_")[0] in set(pseudonyms)) == sorted(
        f"{p}_data.json" for p in pseudonyms)
    replays = [e for e in audit.entries(deployment.admin.db, "RSH")
               if e["action"] == "clinical_upload" and e["outcome"] == "replayed"]
    assert len(replays) >= 2


def test_the_same_record_in_two_batches_at_once_is_recorded_once(deployment) -> None:
    a, b = deployment.replicas[:2]
    keys = keys_of(deployment.admin, "RSH")
    records = [envelope(keys, f"RR93{n:06d}") for n in range(60)]
    nurses = [signed_in(r.url, "nurse1") for r in (a, b, a, b)]
    start = threading.Barrier(len(nurses))

    def send(nurse: Api) -> list[str]:
        start.wait()
        answer = nurse.post("/api/v1/clinical/batches", json=batch(*records))
        assert answer.status_code == 200, answer.text
        return [r["status"] for r in answer.json()["results"]]

    with ThreadPoolExecutor(len(nurses)) as pool:
        statuses = list(pool.map(send, nurses))
    assert [column.count("stored") for column in zip(*statuses, strict=True)] == [1] * 60
    pseudonyms = [r.pseudonym for r in records]
    with deployment.admin.db.connect() as conn:
        versions = conn.execute(select(func.count()).select_from(clinical_records).where(
            clinical_records.c.pseudonym.in_(pseudonyms))).scalar()
    assert versions == 60


def test_sessions_lockouts_and_the_audit_are_shared_by_every_replica(deployment) -> None:
    a, b = deployment.replicas[:2]
    nurse = signed_in(a.url, "nurse1")
    on_b = Api(b.url, nurse.token)
    assert on_b.get("/api/v1/summary").status_code == 200  # a session opened on a, used on b
    assert on_b.delete("/api/v1/session").status_code == 204
    assert nurse.get("/api/v1/summary").status_code == 401  # ended on b, gone on a

    wrong = [Api(r.url) for r in (a, b, a, b, a)]
    start = threading.Barrier(len(wrong))

    def guess(api: Api) -> int:
        start.wait()
        return api.sign_in("other1", "Not-The-Password-1!").status_code

    with ThreadPoolExecutor(len(wrong)) as pool:
        assert sorted(pool.map(guess, wrong)) == [401] * 5
    for replica in (a, b):  # five wrong passwords in all: locked on every replica
        refused = Api(replica.url).sign_in("other1", PASSWORD)
        assert refused.status_code == 423, refused.text
    reasons = [e["reason"] for e in audit.entries(deployment.admin.db, "OTH", kind="refused")
               if e["action"] == "sign_in" for _ in range(e["occurrences"])]  # repeats: 1 row
    assert reasons.count("bad_credentials") == 4 and reasons.count("locked_out") == 1, reasons
    assert reasons.count("locked") == 2, reasons


def test_replicas_start_together_on_an_empty_database(pg_cluster, s3_server, tmp_path) -> None:
    deployment = Deployment(tmp_path, pg_cluster.new_database(empty=True),
                            s3_server.new_address(), s3_server)
    try:
        started = deployment.start("c", "d", "e")
        assert all(signed_in(r.url, "nurse1").get("/api/v1/summary").status_code == 200
                   for r in started)
    finally:
        deployment.close()


def _wait_for_a_part(store: S3Store, key: str, replica: Replica, timeout: float = 60) -> bool:
    """True once ``replica`` has an unfinished multipart upload of ``key`` with a part in it."""
    deadline = time.monotonic() + timeout
    full = f"{store.prefix}/{key}"
    while time.monotonic() < deadline and replica.alive():
        for upload_key, upload_id, _started in store.unfinished_uploads():
            if upload_key == full and store.client.list_parts(
                    Bucket=store.bucket, Key=full, UploadId=upload_id).get("Parts"):
                return True
        if store.exists(key):
            return False  # finished before it could be caught
        time.sleep(0.01)
    return False


def test_a_replica_killed_mid_upload_loses_nothing_while_another_keeps_serving(
        pg_cluster, s3_server, tmp_path) -> None:
    deployment = Deployment(tmp_path, pg_cluster.new_database(), s3_server.new_address(),
                            s3_server)
    try:
        victim, survivor = deployment.start("victim", "survivor")
        keys = keys_of(deployment.admin, "RSH")
        pseudonym = pseudonym_for(keys, hospital_number="RR94000001")
        store = S3Store(*parse_s3_address(deployment.storage), client=s3_server.client())
        imager = signed_in(survivor.url, "imager1")
        nurse = signed_in(survivor.url, "nurse1")
        served: list[int] = []
        stop = threading.Event()

        def keep_serving() -> None:  # the other replica's users never notice
            n = 0
            while not stop.is_set():
                n += 1
                small = dicom_file(tmp_path / f"s{n}.dcm", pseudonym)
                served.append(_stow(survivor.url, imager.token, [small]).status_code)
                served.append(nurse.post("/api/v1/clinical/batches", json=batch(
                    envelope(keys, f"RR95{n:06d}"))).status_code)

        background = threading.Thread(target=keep_serving)
        background.start()
        try:
            for attempt in range(3):
                large = large_dicom_file(tmp_path / f"large{attempt}.dcm", pseudonym, 96 * MIB)
                day = time.strftime("%Y-%m-%d", time.gmtime())
                key = f"raw-RSH/{day}/images/{_uid(large)}.dcm"
                token = signed_in(victim.url, "imager1").token
                with ThreadPoolExecutor(1) as pool:
                    sending = pool.submit(_stow, victim.url, token, [large])
                    caught = _wait_for_a_part(store, key, victim)
                    if caught:
                        victim.kill()
                    with pytest.raises(requests.ConnectionError) if caught else nullcontext():
                        sending.result()
                if caught:
                    break
                victim = deployment.start(f"victim{attempt}")[0]
            assert caught, "the upload finished three times before it could be interrupted"
            assert not store.exists(key)
            assert deployment.view.keys(f"raw-RSH/*/images/{_uid(large)}.dcm") == []
            assert any(k == key for k in deployment.view.unfinished_uploads())
            time.sleep(1)  # the survivor keeps serving after the kill
        finally:
            stop.set()
            background.join()
        assert served and set(served) == {200}

        retried = _stow(survivor.url, imager.token, [large])  # the client's retry
        assert retried.status_code == 200, retried.text
        again = _stow(survivor.url, imager.token, [large])
        assert again.status_code == 200
        assert deployment.view.keys(f"raw-RSH/*/images/{_uid(large)}.dcm") == [key]
        assert deployment.view.read(key) == large.read_bytes()
        with deployment.admin.db.connect() as conn:
            rows = conn.execute(select(images.c.complete).where(
                images.c.sop_instance_uid == _uid(large))).scalars().all()
        assert rows == [True]
        # the killed replica's unfinished upload is swept (at start-up once an hour old)
        assert store.sweep(time.time() + 7200, 3600) >= 1
        assert deployment.view.unfinished_uploads() == []
        assert deployment.view.read(key) == large.read_bytes()
    finally:
        deployment.close()


def test_a_withdrawal_on_one_replica_while_another_receives_that_patient_leaves_nothing(
        deployment, tmp_path) -> None:
    a, b = deployment.replicas[:2]
    keys = keys_of(deployment.admin, "RSH")
    pseudonym = pseudonym_for(keys, hospital_number="RR94000001")
    nurse_a, imager_a = signed_in(a.url, "nurse1"), signed_in(a.url, "imager1")
    nurse_b = signed_in(b.url, "nurse1")
    bystander = envelope(keys, "RR94000002")
    assert nurse_a.post("/api/v1/clinical/batches", json=batch(bystander)).status_code == 200
    files = [dicom_file(tmp_path / f"w{n}.dcm", pseudonym) for n in range(24)]
    assert _stow(a.url, imager_a.token, files[:4]).status_code == 200
    started = threading.Event()

    def keep_sending() -> None:
        for round_ in range(10):
            nurse_a.post("/api/v1/clinical/batches",
                         json=batch(envelope(keys, "RR94000001", Age=str(30 + round_))))
            _stow(a.url, imager_a.token, files[4 + 2 * round_:6 + 2 * round_])
            started.set()

    sender = threading.Thread(target=keep_sending)
    sender.start()
    started.wait(60)
    answer = nurse_b.post("/api/v1/withdrawals", json={"pseudonym": pseudonym,
                                                       "reason": "opt-out", "confirmed": True})
    sender.join(120)
    assert answer.status_code == 200, answer.text
    held = deployment.view.contents()
    assert not [k for k in held if pseudonym in k or pseudonym.encode() in held[k]]
    with deployment.admin.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(images).where(
            images.c.pseudonym == pseudonym)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(clinical_records).where(
            clinical_records.c.pseudonym == pseudonym)).scalar() == 0
    assert any(bystander.pseudonym in key for key in held)  # nothing else touched
    late = nurse_a.post("/api/v1/clinical/batches", json=batch(envelope(keys, "RR94000001")))
    assert late.json()["results"][0]["code"] == "withdrawn"


def test_corrections_of_one_image_through_two_replicas_leave_one_whole_file_the_index_names(
        deployment, tmp_path) -> None:
    a, b = deployment.replicas[:2]
    pseudonym = pseudonym_for(keys_of(deployment.admin, "RSH"), hospital_number="RR95000001")
    original = dicom_file(tmp_path / "original.dcm", pseudonym)
    tokens = {r.url: signed_in(r.url, "imager1").token for r in (a, b)}
    assert _stow(a.url, tokens[a.url], [original]).status_code == 200
    versions = []
    for n in range(6):
        changed = pydicom.dcmread(original)
        changed.BodyPartExamined = f"CHEST{n}"
        changed.save_as(tmp_path / f"v{n}.dcm", enforce_file_format=True)
        versions.append(tmp_path / f"v{n}.dcm")
    start = threading.Barrier(len(versions))

    def send(n: int) -> int:
        replica = (a, b)[n % 2]
        start.wait()
        return _stow(replica.url, tokens[replica.url], [versions[n]]).status_code

    with ThreadPoolExecutor(len(versions)) as pool:
        assert list(pool.map(send, range(len(versions)))) == [200] * len(versions)
    uid = _uid(original)
    (key,) = [k for k in deployment.view.keys("raw-RSH/*/images/*.dcm") if uid in k]
    held = deployment.view.read(key)
    assert held in {v.read_bytes() for v in versions}
    with deployment.admin.db.connect() as conn:
        row = conn.execute(select(images).where(images.c.sop_instance_uid == uid)).one()
    assert row.content_hash == hashlib.sha256(held).hexdigest() and row.size == len(held)
