"""The collection service under national load: many sites at once, 1 and 2 replicas, folder and S3.

Why these baselines: the service's job is to put the bytes sites send into the warehouse, so
its image throughput is compared with a bare ``boto3`` put of the same instance bytes to the
same store (the floor for "store these objects in S3"), and the S3 back end with the folder
back end measured in the same run. Everything runs on this machine: a real PostgreSQL, a real
SeaweedFS (``weed server -s3``) and real ``nccid-collector serve`` processes.

Each simulated site is a thread with its own HTTP session (the generator's work is waiting on
sockets; bodies are built before the clock starts). Every site signs in, uploads its sheet the
way the desktop does (clinical batches of 100 records), then sends its small CT instances
(STOW-RS requests of up to 200 instances, as the desktop batches them). The three phases are
separated by barriers so that CPU can be charged to each: CPU seconds of every replica, of
PostgreSQL (postmaster and backends), of SeaweedFS and of the load generator itself. Requests
go round robin over the replicas (any load balancer does the same; sessions are shared through
the database).

    .venv/bin/python benchmarks/bench_service.py                       # 100 sites x 500 rows x 200 CT
    .venv/bin/python benchmarks/bench_service.py --sites 20 --rows 100 --instances 50   # quick

Aims (issue 16): 0 errors; CPU seconds per stored instance with 2 replicas within 1.1x of one
replica; S3 back end >= 0.7x the folder back end on instances/s. The machine has 2 cores
shared with other work and with the load generator, so wall-clock numbers move from run to
run: read the CPU columns and the ratios of one run.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pydicom.dataset import Dataset, FileMetaDataset  # noqa: E402
from pydicom.uid import ExplicitVRLittleEndian, generate_uid  # noqa: E402

from nccid_collector import ServiceSettings, accounts, open_service  # noqa: E402
from nccid_collector.objectstore import parse_s3_address  # noqa: E402
from nccid_desktop.pseudonym import pseudonym_for  # noqa: E402
from tests.collector.payloads import envelope, stow_body  # noqa: E402
from tests.collector.pg import start_cluster  # noqa: E402
from tests.collector.replicas import Replica, start_replicas  # noqa: E402
from tests.collector.seaweedfs import start_seaweedfs  # noqa: E402
from tests.collector.service_setup import TEST_DATA  # noqa: E402

PASSWORD = "Bench-Site-Pass-2026!"
CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PATIENTS_PER_SITE_IMAGED = 10


# -- what the sites send --------------------------------------------------------------------

@dataclass
class SitePayload:
    code: str
    username: str
    batches: list[tuple[bytes, int]]
    stow_bodies: list[tuple[bytes, dict[str, str], int]]


def _ct_instance(pseudonym: str, study: str, series: str, number: int) -> bytes:
    """A small de-identified CT slice (64 x 64, 16-bit): about 9 KB."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CT_IMAGE_STORAGE
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = CT_IMAGE_STORAGE
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
    ds.Modality, ds.BodyPartExamined, ds.StudyDate = "CT", "CHEST", "20200403"
    ds.PatientID = ds.PatientName = pseudonym
    ds.PatientIdentityRemoved = "YES"
    ds.InstanceNumber = number
    ds.Rows = ds.Columns = 64
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = bytes((number + i) % 256 for i in range(64 * 64 * 2))
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def build_payloads(admin, sites: int, rows: int, instances: int, record_batch: int,
                   image_batch: int) -> list[SitePayload]:
    payloads = []
    for n in range(sites):
        code = f"S{n:03d}"
        keys = accounts.site_keys(admin.db, code, master_key=admin.master_key)
        records = [envelope(keys, f"RR{n:03d}{r:05d}").to_json() for r in range(rows)]
        batches = [(json.dumps({"batch_id": f"{code}-sheet-{start}",
                                "envelopes": records[start:start + record_batch]}).encode(),
                     len(records[start:start + record_batch]))
                   for start in range(0, rows, record_batch)]
        imaged = [pseudonym_for(keys, hospital_number=f"RR{n:03d}{r:05d}")
                  for r in range(min(PATIENTS_PER_SITE_IMAGED, rows))]
        series = {p: (generate_uid(), generate_uid()) for p in imaged}
        made = [_ct_instance(imaged[i % len(imaged)], *series[imaged[i % len(imaged)]], i)
                for i in range(instances)]
        bodies = []
        for start in range(0, instances, image_batch):
            chunk = made[start:start + image_batch]
            body, headers = stow_body(chunk)
            bodies.append((body, headers, len(chunk)))
        payloads.append(SitePayload(code, f"bench{n:03d}", batches, bodies))
    return payloads


# -- CPU accounting -----------------------------------------------------------------------

def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def tree_cpu_seconds(root_pid: int) -> float:
    """CPU of a process, its live children and the children it has reaped (backends that ended)."""
    total = 0.0
    try:
        fields = _stat(root_pid)
        total += sum(int(fields[i]) for i in (11, 12, 13, 14))
    except FileNotFoundError:
        return 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = _stat(int(entry.name))
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(fields[1]) == root_pid:
            total += sum(int(fields[i]) for i in (11, 12))
    return total / CLOCK_TICKS


def postmaster_pid(cluster) -> int:
    return int((cluster.data / "postmaster.pid").read_text().split()[0])


@dataclass
class CpuSnapshot:
    replicas: float
    postgres: float
    store: float
    generator: float

    @classmethod
    def take(cls, replicas: list[Replica], pg_pid: int, store_pid: int | None) -> CpuSnapshot:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return cls(sum(r.cpu_seconds() for r in replicas), tree_cpu_seconds(pg_pid),
                   tree_cpu_seconds(store_pid) if store_pid else 0.0,
                   usage.ru_utime + usage.ru_stime)

    def minus(self, earlier: CpuSnapshot) -> CpuSnapshot:
        return CpuSnapshot(*(round(a - b, 2) for a, b in zip(
            asdict(self).values(), asdict(earlier).values(), strict=True)))


# -- one configuration -------------------------------------------------------------------

@dataclass
class Phase:
    name: str
    wall: float = 0.0
    requests: int = 0
    errors: int = 0
    items: int = 0
    bytes_sent: int = 0
    latencies: list[float] = field(default_factory=list)
    cpu: CpuSnapshot | None = None

    def summary(self) -> dict:
        ordered = sorted(self.latencies)
        pick = (lambda q: round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)
                ) if ordered else (lambda q: None)
        cpu = asdict(self.cpu) if self.cpu else {}
        service_cpu = (self.cpu.replicas + self.cpu.postgres + self.cpu.store) if self.cpu else 0
        own_cpu = (self.cpu.replicas + self.cpu.postgres) if self.cpu else 0
        return {"wall_s": round(self.wall, 2), "requests": self.requests, "errors": self.errors,
                "items": self.items, "requests_per_s": round(self.requests / self.wall, 1),
                "items_per_s": round(self.items / self.wall, 1),
                "mb_per_s": round(self.bytes_sent / self.wall / 1e6, 2),
                "p50_ms": pick(0.5), "p99_ms": pick(0.99), "cpu_s": cpu,
                "service_cpu_ms_per_item": round(1000 * service_cpu / max(1, self.items), 3),
                "replicas_and_db_cpu_ms_per_item": round(1000 * own_cpu / max(1, self.items), 3)}


def run_configuration(backend: str, replica_count: int, payloads: list[SitePayload], cluster,
                      s3, master_key: Path, work: Path) -> dict:
    label = f"{backend}-{replica_count}r"
    db_url = cluster.new_database()
    storage = str(work / f"warehouse-{label}") if backend == "folder" else s3.new_address()
    replicas = start_replicas([f"{label}-{i}" for i in range(replica_count)], work / label,
                              db_url, storage, master_key, s3.env())
    pg_pid, store_pid = postmaster_pid(cluster), (s3.process.pid if backend == "s3" else None)
    counter = iter(range(10**9))
    counter_lock = threading.Lock()

    def next_replica() -> Replica:
        with counter_lock:
            return replicas[next(counter) % len(replicas)]

    phases = [Phase("sign_in"), Phase("sheets"), Phase("images")]
    tokens: dict[str, str] = {}
    lock = threading.Lock()

    def timed(phase: Phase, send, items: int, size: int) -> object:
        started = time.perf_counter()
        try:
            response = send()
            ok = response.status_code == 200
        except requests.RequestException:
            response, ok = None, False
        with lock:
            phase.latencies.append(time.perf_counter() - started)
            phase.requests += 1
            phase.errors += 0 if ok else 1
            phase.items += items if ok else 0
            phase.bytes_sent += size
        return response

    def sign_in(site: SitePayload, http: requests.Session) -> None:
        body = {"username": site.username, "password": PASSWORD}
        answer = timed(phases[0], lambda: http.post(next_replica().url + "/api/v1/session",
                                                    json=body, timeout=300), 0, 0)
        if answer is not None and answer.status_code == 200:
            tokens[site.code] = answer.json()["token"]

    def sheets(site: SitePayload, http: requests.Session) -> None:
        headers = {"Authorization": f"Bearer {tokens.get(site.code, '')}",
                   "Content-Type": "application/json"}
        for body, count in site.batches:
            timed(phases[1], lambda body=body: http.post(
                next_replica().url + "/api/v1/clinical/batches", data=body, headers=headers,
                timeout=600), count, len(body))

    def images(site: SitePayload, http: requests.Session) -> None:
        for body, headers, count in site.stow_bodies:
            sent = {**headers, "Authorization": f"Bearer {tokens.get(site.code, '')}"}
            timed(phases[2], lambda body=body, sent=sent: http.post(
                next_replica().url + "/dicom-web/studies", data=body, headers=sent,
                timeout=600), count, len(body))

    sessions = {site.code: requests.Session() for site in payloads}
    try:
        with ThreadPoolExecutor(len(payloads)) as pool:
            for phase, work_of in zip(phases, (sign_in, sheets, images), strict=True):
                before, started = CpuSnapshot.take(replicas, pg_pid, store_pid), time.perf_counter()
                list(pool.map(lambda site, work_of=work_of: work_of(site, sessions[site.code]),
                              payloads))
                phase.wall = time.perf_counter() - started
                phase.cpu = CpuSnapshot.take(replicas, pg_pid, store_pid).minus(before)
        memory = {r.name: round(r.peak_memory_mb(), 1) for r in replicas}
    finally:
        for http in sessions.values():
            http.close()
        for replica in replicas:
            replica.stop()
    stored = _count_objects(storage, s3)
    return {"configuration": label, "backend": backend, "replicas": replica_count,
            "phases": {p.name: p.summary() for p in phases}, "peak_memory_mb": memory,
            "objects_in_warehouse": stored}


def _count_objects(storage: str, s3) -> int:
    if storage.startswith("s3://"):
        bucket, prefix = parse_s3_address(storage)
        pages = s3.client().get_paginator("list_objects_v2").paginate(Bucket=bucket,
                                                                      Prefix=prefix + "/")
        return sum(len(page.get("Contents", [])) for page in pages)
    return sum(len(files) for folder, _dirs, files in os.walk(storage)
               if "/raw-" in folder.replace(os.sep, "/"))


def bare_boto3_put(payloads: list[SitePayload], s3, workers: int) -> dict:
    """The same instance bytes put straight into the same store, ``workers`` at a time."""
    client = s3.client()
    prefix = f"bare-{int(time.time())}"
    objects = []
    for site in payloads:
        for body, headers, _count in site.stow_bodies:
            boundary = headers["Content-Type"].rsplit("boundary=", 1)[1].encode()
            for part in body.split(b"--" + boundary)[1:-1]:
                objects.append(part.split(b"\r\n\r\n", 1)[1][:-2])
    before = resource.getrusage(resource.RUSAGE_SELF)
    store_before = tree_cpu_seconds(s3.process.pid)
    started = time.perf_counter()

    def put(numbered: tuple[int, bytes]) -> None:
        number, data = numbered
        client.put_object(Bucket=s3.bucket, Key=f"{prefix}/{number}.dcm", Body=data)

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(put, enumerate(objects)))
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    return {"objects": len(objects), "wall_s": round(wall, 2),
            "items_per_s": round(len(objects) / wall, 1),
            "mb_per_s": round(sum(map(len, objects)) / wall / 1e6, 2),
            "cpu_s": {"client": round(after.ru_utime + after.ru_stime
                                      - before.ru_utime - before.ru_stime, 2),
                      "store": round(tree_cpu_seconds(s3.process.pid) - store_before, 2)}}


def prepare(cluster, work: Path, sites: int) -> tuple[object, Path]:
    """A template database with every site and user; each configuration copies it."""
    master_key = work / "master.key"
    template_url = cluster.new_database(empty=True)
    admin = open_service(ServiceSettings(data_dir=work / "admin", db_url=template_url,
                                         master_key_file=master_key))
    accounts.set_controller_key(admin.db, (TEST_DATA / "controller-test-key.pub.pem").read_bytes())
    password_hash = accounts.hash_password(PASSWORD)
    original = accounts.hash_password
    accounts.hash_password = lambda _password: password_hash  # one scrypt for every user
    try:
        for n in range(sites):
            code = f"S{n:03d}"
            accounts.add_site(admin.db, admin.settings, code, f"Bench Trust {n}",
                              master_key=admin.master_key)
            accounts.add_user(admin.db, admin.settings, f"bench{n:03d}", code,
                              ("nurse", "imaging"), PASSWORD)
    finally:
        accounts.hash_password = original
    cluster.template = template_url.rsplit("/", 1)[1]
    return admin, master_key


def _print(results: list[dict], bare: dict) -> None:
    print(f"\nbare boto3 put of the same instance bytes: {bare['items_per_s']} instances/s, "
          f"{bare['mb_per_s']} MB/s, CPU {bare['cpu_s']}")
    header = ("configuration", "phase", "req/s", "items/s", "MB/s", "p50 ms", "p99 ms", "errors",
              "CPU s: replicas / postgres / store / generator", "CPU ms/item: all / w/o store")
    print("\n" + " | ".join(header))
    for result in results:
        for name, phase in result["phases"].items():
            cpu = phase["cpu_s"]
            print(" | ".join(str(v) for v in (
                result["configuration"], name, phase["requests_per_s"], phase["items_per_s"],
                phase["mb_per_s"], phase["p50_ms"], phase["p99_ms"], phase["errors"],
                f"{cpu['replicas']} / {cpu['postgres']} / {cpu['store']} / {cpu['generator']}",
                f"{phase['service_cpu_ms_per_item']} / {phase['replicas_and_db_cpu_ms_per_item']}")))
        print(f"  peak memory per replica (MB): {result['peak_memory_mb']}; objects in the "
              f"warehouse: {result['objects_in_warehouse']}")


def ratios(results: list[dict], bare: dict) -> dict:
    by = {r["configuration"]: r["phases"]["images"] for r in results}
    found: dict[str, float] = {}
    for replicas in (1, 2):
        folder, s3 = by.get(f"folder-{replicas}r"), by.get(f"s3-{replicas}r")
        if folder and s3:
            found[f"s3_vs_folder_instances_per_s_{replicas}r"] = round(
                s3["items_per_s"] / folder["items_per_s"], 2)
        if s3:
            found[f"s3_vs_bare_boto3_instances_per_s_{replicas}r"] = round(
                s3["items_per_s"] / bare["items_per_s"], 2)
    for backend in ("folder", "s3"):
        one, two = by.get(f"{backend}-1r"), by.get(f"{backend}-2r")
        if one and two:
            found[f"{backend}_cpu_per_instance_2r_vs_1r"] = round(
                two["service_cpu_ms_per_item"] / one["service_cpu_ms_per_item"], 2)
    for replicas in (1, 2):
        folder, s3 = by.get(f"folder-{replicas}r"), by.get(f"s3-{replicas}r")
        if folder and s3:  # what the replicas and the database spend, the store left out
            found[f"s3_vs_folder_replica_and_db_cpu_per_instance_{replicas}r"] = round(
                s3["replicas_and_db_cpu_ms_per_item"] / folder["replicas_and_db_cpu_ms_per_item"], 2)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sites", type=int, default=100)
    parser.add_argument("--rows", type=int, default=500, help="records per site's sheet")
    parser.add_argument("--instances", type=int, default=200, help="CT instances per site")
    parser.add_argument("--record-batch", type=int, default=100)
    parser.add_argument("--image-batch", type=int, default=200)
    parser.add_argument("--backends", default="folder,s3")
    parser.add_argument("--replicas", default="1,2")
    parser.add_argument("--bare-workers", type=int, default=16)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="nccid-bench-service-"))
    cluster, s3 = start_cluster(), start_seaweedfs()
    os.environ.update(s3.env())
    results: list[dict] = []
    try:
        admin, master_key = prepare(cluster, work, args.sites)
        started = time.perf_counter()
        payloads = build_payloads(admin, args.sites, args.rows, args.instances,
                                  args.record_batch, args.image_batch)
        admin.close()
        print(f"{args.sites} sites x {args.rows} records x {args.instances} instances built in "
              f"{time.perf_counter() - started:.1f} s; SeaweedFS ready in {s3.ready_seconds:.1f} s")
        for replicas in (int(v) for v in args.replicas.split(",")):
            for backend in args.backends.split(","):
                result = run_configuration(backend, replicas, payloads, cluster, s3,
                                           master_key, work)
                results.append(result)
                images = result["phases"]["images"]
                print(f"{result['configuration']}: {images['items_per_s']} instances/s, "
                      f"{images['errors']} errors", flush=True)
        bare = bare_boto3_put(payloads, s3, args.bare_workers)
    finally:
        s3.stop()
        cluster.stop()
    _print(results, bare)
    found = ratios(results, bare)
    print("\nratios:", json.dumps(found, indent=1))
    load = os.getloadavg()
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (out / f"service-{stamp}.json").write_text(json.dumps(
        {"arguments": vars(args), "load_average": load, "results": results,
         "bare_boto3": bare, "ratios": found}, indent=1))
    errors = sum(p["errors"] for r in results for p in r["phases"].values())
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
