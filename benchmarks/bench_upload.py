"""Upload throughput to the loopback collection service versus curl, and the client's peak memory.

Why curl: it is the floor for "post these bytes over HTTP"; the app's STOW client adds
multipart framing from disk, retries and the journal, and should stay within 0.7x of it. Both
post the same kind of batches (same sizes, fresh SOP Instance UIDs each, so neither is
short-circuited as "already held") to the same service in the same run. Peak memory is this
process's maximum resident size after sending ``--megabytes`` (aim: under 200 MB for 1 GB).

    .venv/bin/python benchmarks/bench_upload.py --megabytes 1024
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nccid_collector.demo import DEMO_PASSWORD, DEMO_USER  # noqa: E402
from nccid_desktop.transport.client import CollectorClient  # noqa: E402
from nccid_desktop.transport.multipart import FilePart, MultipartFileBody  # noqa: E402
from nccid_desktop.transport.stow import StowItem, plan_batches  # noqa: E402
from tests.transport.payloads import write_instance  # noqa: E402


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_service(data: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    process = subprocess.Popen([str(ROOT / ".venv/bin/nccid"), "collector", "serve", "--data",
                                str(data), "--port", str(port), "--demo"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if requests.get(url + "/api/v1/health", timeout=1).ok:
                return process, url
        except requests.ConnectionError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the collection service did not start")


def _instances(folder: Path, keys, megabytes: int, file_mb: int) -> list[StowItem]:
    pixels = int((file_mb * 1024 * 1024 / 2) ** 0.5)
    items = []
    for index in range(max(1, megabytes // file_mb)):
        uid, path = write_instance(folder, _pseudonym(keys, index), pixels=pixels, index=index)
        items.append(StowItem(uid, path, path.stat().st_size))
    return items


def _pseudonym(keys, index: int) -> str:
    from tests.transport.payloads import pseudonym_of

    return pseudonym_of(keys, index % 20)


def _curl(url: str, token: str, items: list[StowItem], batch_bytes: int, scratch: Path) -> float:
    """Seconds curl spends posting the same batches (bodies pre-built on disk, not timed)."""
    spent = 0.0
    for batch in plan_batches(items, batch_bytes):
        body = MultipartFileBody([FilePart(i.path, i.size) for i in batch])
        path = scratch / "body.bin"
        with open(path, "wb") as handle:
            shutil.copyfileobj(body, handle, 1 << 20)
        started = time.perf_counter()
        subprocess.run(["curl", "-sS", "-o", "/dev/null", "-f", "--data-binary", f"@{path}",
                        "-H", f"Content-Type: {body.content_type}", "-H",
                        "Accept: application/dicom+json", "-H", f"Authorization: Bearer {token}",
                        url + "/dicom-web/studies"], check=True)
        spent += time.perf_counter() - started
        path.unlink()
    return spent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=256, help="bytes to send each way")
    parser.add_argument("--file-mb", type=int, default=8, help="size of each instance")
    parser.add_argument("--batch-mb", type=int, default=64)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-upload-"))
    service, url = _start_service(work / "service")
    try:
        client = CollectorClient(url)
        client.sign_in(DEMO_USER, DEMO_PASSWORD)
        keys = client.site_keys()
        with multiprocessing.get_context("fork").Pool(1) as pool:  # keep pixel building out of our RSS
            ours, theirs = pool.starmap(_instances, [(work / name, keys, args.megabytes, args.file_mb)
                                                     for name in ("ours", "curl")])
        total = sum(i.size for i in ours)
        batch_bytes = args.batch_mb * 1024 * 1024
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.perf_counter()
        result = client.stow(max_batch_bytes=batch_bytes).store(ours)
        app_seconds = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        assert len(result.stored) == len(ours), "every instance stored"
        curl_seconds = _curl(url, client.signed_in.token, theirs, batch_bytes, work)  # type: ignore[union-attr]
        results = {
            "megabytes": round(total / 2**20, 1),
            "app_mb_per_s": round(total / 2**20 / app_seconds, 1),
            "curl_mb_per_s": round(sum(i.size for i in theirs) / 2**20 / curl_seconds, 1),
            "peak_rss_mb": round(peak_mb, 1),
            "rss_before_send_mb": round(rss_before, 1),
        }
        results["ratio_app_to_curl"] = round(results["app_mb_per_s"] / results["curl_mb_per_s"], 2)
        print(json.dumps(results, indent=2))
        if args.json:
            args.json.write_text(json.dumps(results, indent=2) + "\n")
        return 0
    finally:
        service.terminate()
        service.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("NCCID_HOME", tempfile.mkdtemp(prefix="bench-home-"))
    sys.exit(main())
