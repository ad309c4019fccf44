"""Benchmark: the client CPU of one S3 put, with the settings that could make it cheaper.

Why: the service's S3 back end stores each instance with one ``put_object`` (create-only, no
copy, no read-back), and its replicas spend about that put's client CPU more per instance than
with the folder back end. Before writing our own S3 request code to save it, this measures
what boto3's own settings give: request checksums only when required, payload signing off,
and a bytes body instead of a file. Baseline: boto3's defaults, measured in the same run and
alternating with the variants, against the same real SeaweedFS store on this machine.

    .venv/bin/python benchmarks/bench_s3_client.py [--puts 300] [--rounds 3] [--size 130000]

Prints client CPU ms and wall ms per put and the CPU ratio to the defaults (fastest round of
each, the one least disturbed by other work).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

from tests.collector.seaweedfs import start_seaweedfs  # noqa: E402

BASE: dict[str, Any] = {"retries": {"mode": "standard", "max_attempts": 5},
                        "max_pool_connections": 64}
LEAN: dict[str, Any] = {"request_checksum_calculation": "when_required",
                        "response_checksum_validation": "when_required"}
VARIANTS: dict[str, tuple[dict[str, Any], bool]] = {
    "defaults, file body (the service)": (BASE, True),
    "defaults, bytes body": (BASE, False),
    "checksums when required, file body": ({**BASE, **LEAN}, True),
    "checksums when required, unsigned payload": (
        {**BASE, **LEAN, "s3": {"payload_signing_enabled": False}}, True),
}


def _measure(bucket: str, label: str, config: dict[str, Any], from_file: bool, body: Path,
             puts: int, round_: int) -> tuple[float, float]:
    client = boto3.session.Session().client("s3", config=Config(**config))
    client.put_object(Bucket=bucket, Key="warm-up", Body=b"x")
    data, size = body.read_bytes(), body.stat().st_size
    cpu, wall = time.thread_time(), time.perf_counter()
    for n in range(puts):
        key = f"{round_}/{label}/{n}"
        if from_file:
            with open(body, "rb") as reader:
                client.put_object(Bucket=bucket, Key=key, Body=reader, ContentLength=size,
                                  IfNoneMatch="*")
        else:
            client.put_object(Bucket=bucket, Key=key, Body=data, IfNoneMatch="*")
    return ((time.thread_time() - cpu) * 1000 / puts, (time.perf_counter() - wall) * 1000 / puts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--puts", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size", type=int, default=130_000, help="bytes per object")
    args = parser.parse_args()
    server = start_seaweedfs()
    try:
        os.environ.update(server.env())
        bucket = server.new_address().removeprefix("s3://").split("/")[0]
        body = server.root / "bench-body.bin"
        body.write_bytes(os.urandom(args.size))
        best: dict[str, tuple[float, float]] = {}
        for round_ in range(args.rounds):
            for label, (config, from_file) in VARIANTS.items():
                cpu, wall = _measure(bucket, label, config, from_file, body, args.puts, round_)
                if label not in best or cpu < best[label][0]:
                    best[label] = (cpu, wall)
        floor = best["defaults, file body (the service)"][0]
        print(f"{'variant':44s} {'CPU ms/put':>10s} {'wall ms/put':>11s} {'CPU ratio':>9s}")
        for label, (cpu, wall) in best.items():
            print(f"{label:44s} {cpu:10.2f} {wall:11.2f} {cpu / floor:9.2f}")
        print(f"load average {os.getloadavg()[0]:.1f}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
