"""The desktop and a service refusal: plain words naming the row or file, the rest of the job
goes on, and nothing refused is sent again, however often the job is resumed.

Against the real collection service on loopback (which now refuses what is not de-identified
or not valid), and, for a request refused whole, against a loopback server that answers as the
service's contract allows (``{"detail", "code"}`` for a whole batch).
"""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path

import pydicom
import pytest
import requests
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from nccid_desktop.errors import TransportError
from nccid_desktop.transport.client import CollectorClient
from nccid_desktop.transport.errors import RefusedError, raise_for_response
from nccid_desktop.transport.outbox import Outbox
from nccid_desktop.transport.uploader import Uploader
from tests.transport.payloads import status_envelope, write_instances

NHS = "9434765919"


def _signed_in(url: str, username: str, password: str) -> CollectorClient:
    client = CollectorClient(url)
    client.sign_in(username, password)
    return client


def test_refused_records_and_images_are_named_plainly_the_rest_sent_none_resent(
        collector, tmp_path: Path) -> None:
    client = _signed_in(collector.url, collector.account.username, collector.account.password)
    keys = client.site_keys()
    outbox = Outbox()
    for n in range(3):
        outbox.stage_record(status_envelope(keys, n, swab_status=f"NHS {NHS}" if n == 1 else "0"))
    made = write_instances(tmp_path / "in", keys, 3, patients=1)
    leaky_uid = sorted(made)[1]
    ds = pydicom.dcmread(made[leaky_uid])
    ds.OtherPatientIDs = NHS
    ds.save_as(made[leaky_uid], enforce_file_format=True)
    for uid, path in made.items():
        outbox.stage_image(uid, ds.PatientID, path)

    report = Uploader(client, outbox).run()
    assert (report.records_stored, report.images_stored, report.failed) == (2, 2, 2)
    row, image = report.problems
    assert row.startswith("Row 3: The field 'SwabStatus' holds a value that looks like an "
                          "NHS/CHI number.")
    assert image.startswith(f"Image {leaky_uid}.dcm of {ds.PatientID}: ")
    assert "OtherPatientIDs" in image and "still holds patient details" in image
    assert NHS not in " ".join(report.problems)
    assert outbox.count_pending() == 0
    assert {i.state for i in outbox.items()} == {"acknowledged", "failed"}
    assert len(collector.raw_files("data")) == 2 and len(collector.raw_files("images")) == 2

    again = Uploader(client, outbox).run()
    assert (again.records_stored, again.images_stored, again.problems) == (0, 0, [])


class _WholeBatchRefuser:
    """A loopback server answering as the service may: a STOW or record batch of more than
    one item is refused whole; one item alone is stored, unless it is the poisoned one."""

    def __init__(self, poisoned: bytes) -> None:
        self.poisoned = poisoned
        self.requests: list[int] = []

    async def stow(self, request: Request) -> JSONResponse:
        body = await request.body()
        boundary = request.headers["content-type"].split("boundary=")[1].encode()
        parts = body.count(b"--" + boundary) - 1
        self.requests.append(parts)
        if parts > 1:
            return JSONResponse({"detail": "The upload was refused whole.",
                                 "code": "bad_multipart"}, status_code=400)
        if self.poisoned in body:
            return JSONResponse({"detail": "This image cannot be taken.", "code": "too_large"},
                                status_code=413)
        uid = pydicom.dcmread(io.BytesIO(
            body[body.index(b"\r\n\r\n") + 4:])).SOPInstanceUID
        return JSONResponse({"00081199": {"vr": "SQ", "Value": [
            {"00081155": {"vr": "UI", "Value": [uid]}}]}})

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/dicom-web/studies", self.stow, methods=["POST"]),
                                 Route("/api/v1/images/known", self.known, methods=["POST"])])

    async def known(self, _request: Request) -> JSONResponse:
        return JSONResponse({"known": []})


@pytest.fixture
def refuser(tmp_path: Path):
    server_state: dict = {}

    def start(poisoned: bytes):
        handler = _WholeBatchRefuser(poisoned)
        server = uvicorn.Server(uvicorn.Config(handler.app(), host="127.0.0.1", port=0,
                                               log_config=None, lifespan="off"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            threading.Event().wait(0.02)
        server_state["server"], server_state["thread"] = server, thread
        port = server.servers[0].sockets[0].getsockname()[1]
        return handler, f"http://127.0.0.1:{port}"

    yield start
    if "server" in server_state:
        server_state["server"].should_exit = True
        server_state["thread"].join(timeout=10)


def test_a_batch_refused_whole_is_sent_one_by_one_and_the_bad_one_is_not_retried(
        refuser, tmp_path: Path, site_keys) -> None:
    made = write_instances(tmp_path / "in", site_keys, 4, patients=1)
    poisoned_uid = sorted(made)[2]
    handler, url = refuser(poisoned_uid.encode())
    outbox = Outbox()
    for uid, path in made.items():
        outbox.stage_image(uid, "Covid0000000000000001", path)
    client = CollectorClient(url)
    report = Uploader(client, outbox, image_batch_count=10).run(kinds=("image",))
    assert report.images_stored == 3 and len(report.problems) == 1
    assert report.problems[0].startswith(f"Image {poisoned_uid}.dcm of Covid0000000000000001: "
                                         "This image cannot be taken.")
    assert handler.requests == [4, 1, 1, 1, 1]
    assert outbox.count_pending() == 0
    again = Uploader(client, outbox, image_batch_count=10).run(kinds=("image",))
    assert again.problems == [] and handler.requests == [4, 1, 1, 1, 1]


def _answer(status: int, body: dict | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body).encode() if body is not None else b"x"
    return response


def test_only_the_services_own_refusals_are_final() -> None:
    with pytest.raises(RefusedError) as refused:
        raise_for_response(_answer(400, {"detail": "Bad.", "code": "bad_multipart"}))
    assert refused.value.code == "bad_multipart"
    for status, body in ((404, {"detail": "Not here.", "code": "not_found"}), (400, None),
                         (413, None), (503, {"detail": "x", "code": "y"})):
        with pytest.raises(TransportError) as kept:
            raise_for_response(_answer(status, body))
        assert not isinstance(kept.value, RefusedError), (status, body)
