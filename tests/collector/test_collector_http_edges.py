"""The HTTP edges: part-header limit however the bytes arrive, ambiguous Content-Types refused,
nothing from a request on stderr, the OpenAPI document off unless enabled and then signed-in."""

from __future__ import annotations

import asyncio
import http.client
import os
import signal
import socket
import struct
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pydicom
import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from nccid_collector import start_embedded
from nccid_collector.demo import DEMO_PASSWORD, DEMO_USER
from nccid_collector.multipart import MAX_HEADER_BYTES, parse_content_type, spool_parts
from nccid_collector.problems import ServiceProblem
from tests.collector.client import signed_in
from tests.collector.payloads import dicom_file, stow_body

BOUNDARY = "nccid-test-boundary"


def _big_header_body(header_bytes: int) -> bytes:
    padding = "x" * header_bytes
    return (f"--{BOUNDARY}\r\nContent-Type: application/dicom\r\nX-Padding: {padding}\r\n\r\n"
            f"DATA\r\n--{BOUNDARY}--\r\n").encode()


def _spool(body: bytes, chunk: int, folder: Path) -> list[bytes]:
    counter = iter(range(10**6))

    async def chunks():
        for start in range(0, len(body), chunk):
            yield body[start:start + chunk]

    async def collect():
        return [p.path.read_bytes() async for p in
                spool_parts(chunks(), BOUNDARY, lambda: folder / f"{next(counter)}.part")]

    return asyncio.run(collect())


@settings(max_examples=25, deadline=None)
@given(chunk=st.one_of(st.just(1 << 30), st.integers(min_value=1, max_value=70000)))
def test_the_part_header_limit_holds_however_the_bytes_arrive(tmp_path_factory, chunk) -> None:
    folder = tmp_path_factory.mktemp("spool")
    with pytest.raises(ServiceProblem) as refused:
        _spool(_big_header_body(20 * 1024), chunk, folder)
    assert refused.value.code == "bad_multipart"
    assert list(folder.iterdir()) == []
    assert _spool(_big_header_body(MAX_HEADER_BYTES - 100), chunk, folder) == [b"DATA"]


@pytest.mark.parametrize("header", [
    f'multipart/related; type="application/dicom"; boundary=ZZZ; boundary={BOUNDARY}',
    f'multipart/related; type="application/dicom"; Boundary=ZZZ; boundary={BOUNDARY}',
    f'multipart/related; type="application/dicom"; type=text/plain; boundary={BOUNDARY}',
    f'multipart/related; type="application/dicom; boundary={BOUNDARY}',
    'multipart/related; type="application/dicom"; boundary',
    f'multipart/related, text/plain; boundary={BOUNDARY}',
])
def test_ambiguous_content_types_are_refused(header: str) -> None:
    with pytest.raises(ServiceProblem) as refused:
        parse_content_type(header)
    assert refused.value.status == 400 and refused.value.code == "ambiguous_content_type"


def test_ambiguous_stow_requests_are_400_and_audited_over_http(live, tmp_path, warehouse) -> None:
    api = signed_in(live.url, "imager1")
    path = dicom_file(tmp_path / "a.dcm", "Covid1234567890123456")
    body, headers = stow_body([path.read_bytes()])
    twice = {**headers, "Content-Type": headers["Content-Type"].replace(
        "boundary=", "boundary=ZZZ; boundary=")}
    answer = api.post("/dicom-web/studies", data=body, headers=twice)
    assert answer.status_code == 400 and answer.json()["code"] == "ambiguous_content_type"
    part_twice = body.replace(b"Content-Type: application/dicom\r\n",
                              b"Content-Type: application/dicom\r\nContent-Type: text/plain\r\n")
    answer = api.post("/dicom-web/studies", data=part_twice, headers=headers)
    assert answer.status_code == 400 and answer.json()["code"] == "bad_multipart"
    big = _big_header_body(20 * 1024)
    answer = api.post("/dicom-web/studies", data=big, headers=headers)
    assert answer.status_code == 400 and answer.json()["code"] == "bad_multipart"
    host, port = live.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.putrequest("POST", "/dicom-web/studies")
    connection.putheader("Authorization", f"Bearer {api.token}")
    connection.putheader("Content-Type", headers["Content-Type"])
    connection.putheader("Content-Type", headers["Content-Type"].replace(BOUNDARY, "ZZZ"))
    connection.putheader("Content-Length", str(len(body)))
    connection.endheaders(body)
    response = connection.getresponse()
    assert response.status == 400 and b"ambiguous_content_type" in response.read()
    assert warehouse.keys("raw-*/*/images/*") == []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("nccid-collector")), "serve", "--data",
         str(tmp_path / "svc"), "--port", str(port), "--demo", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "NCCID_HOME": str(tmp_path / "home")})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if requests.get(url + "/api/v1/health", timeout=5).ok:
                return process, url
        except requests.RequestException:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError("the service did not start: " + process.stderr.read())
        time.sleep(0.1)


def _with_un_uid(path: Path, value: str) -> bytes:
    """An instance whose Referenced SOP Instance UID is written with VR UN: pydicom reads it
    as a UI (validating it, and warning with the value quoted)."""
    ds = pydicom.dcmread(dicom_file(path, "Covid1234567890123456"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds.ReferencedSOPInstanceUID = value
        ds.save_as(path, enforce_file_format=True)
    data = path.read_bytes()
    at = data.index(b"\x08\x00\x55\x11UI")
    (length,) = struct.unpack("<H", data[at + 6:at + 8])
    return data[:at] + b"\x08\x00\x55\x11UN\x00\x00" + struct.pack("<L", length) + data[at + 8:]


def test_nothing_from_a_request_reaches_stderr_and_warnings_are_logged_masked(tmp_path) -> None:
    """pydicom warns quoting an invalid value it reads; the service's stderr (the journal of
    a service manager) stays silent, and its log has the warning with the value masked."""
    process, url = _serve(tmp_path)
    planted = "1.2.HOSPX12345"
    try:
        token = requests.post(url + "/api/v1/session", timeout=30, json={
            "username": DEMO_USER, "password": DEMO_PASSWORD}).json()["token"]
        body, headers = stow_body([_with_un_uid(tmp_path / "a.dcm", planted)])
        answer = requests.post(url + "/dicom-web/studies", data=body, timeout=60,
                               headers={**headers, "Authorization": f"Bearer {token}"})
        assert answer.status_code in (200, 409)
        assert requests.get(url + "/openapi.json", timeout=30).status_code == 404
        assert requests.get(url + "/docs", timeout=30).status_code == 404
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0
    assert planted not in err and planted not in out and "HOSPX" not in err
    log = (tmp_path / "svc" / "logs" / "nccid-collector.log").read_text()
    assert "Invalid value for VR UI" in log and planted not in log


def test_the_openapi_document_is_off_unless_enabled_then_behind_sign_in(service,
                                                                       settings) -> None:
    settings.api_docs = True
    running = start_embedded(settings.data_dir, settings=settings)
    try:
        for path in ("/openapi.json", "/docs"):
            assert requests.get(running.url + path, timeout=30).status_code == 401
        api = signed_in(running.url, "nurse1")
        document = api.get("/openapi.json")
        assert document.status_code == 200 and "/dicom-web/studies" in document.json()["paths"]
        page = api.get("/docs")
        assert page.status_code == 200 and "/api/v1/clinical/batches" in page.text
    finally:
        running.stop()
