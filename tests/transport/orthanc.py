"""A real Orthanc with its DICOMweb plugin, started and stopped by the tests themselves."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
USER, PASSWORD = "uploader", "orthanc-test-password"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class OrthancServer:
    url: str
    auth: tuple[str, str]

    @property
    def dicomweb(self) -> str:
        return self.url + "/dicom-web"

    def get(self, path: str) -> requests.Response:
        response = requests.get(self.url + path, auth=self.auth, timeout=30)
        response.raise_for_status()
        return response


@contextmanager
def running_orthanc(workdir: Path) -> Iterator[OrthancServer]:
    if shutil.which("Orthanc") is None or not PLUGIN.exists():
        raise RuntimeError("Orthanc and its DICOMweb plugin must be installed (apt orthanc-dicomweb)")
    http_port, dicom_port = free_port(), free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    config = {
        "Name": "nccid-test",
        "StorageDirectory": str(workdir / "storage"),
        "IndexDirectory": str(workdir / "index"),
        "HttpPort": http_port,
        "DicomPort": dicom_port,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": True,
        "RegisteredUsers": {USER: PASSWORD},
        "Plugins": [str(PLUGIN)],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "Host": f"127.0.0.1:{http_port}"},
    }
    config_path = workdir / "orthanc.json"
    config_path.write_text(json.dumps(config))
    log = open(workdir / "orthanc.log", "wb")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(["Orthanc", str(config_path)], stdout=log, stderr=subprocess.STDOUT)
    server = OrthancServer(f"http://127.0.0.1:{http_port}", (USER, PASSWORD))
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(server.url + "/system", auth=server.auth, timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("Orthanc did not start: " + (workdir / "orthanc.log").read_text())
            time.sleep(0.05)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
