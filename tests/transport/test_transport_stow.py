"""STOW-RS client against a real Orthanc: instances arrive intact, batches and progress honest."""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import io
import threading
from pathlib import Path

import pydicom
import pytest
import requests

from nccid_desktop.errors import CancelledError
from nccid_desktop.tasks import CancelToken, Progress
from nccid_desktop.transport.http import HttpSettings, make_session
from nccid_desktop.transport.multipart import FilePart, MultipartFileBody
from nccid_desktop.transport.stow import StowClient, StowItem, parse_stow_response, plan_batches
from tests.transport.orthanc import OrthancServer
from tests.transport.payloads import write_instances

SETTINGS = HttpSettings(connect_timeout=5, read_timeout=60, max_attempts=2, backoff_base=0.05)


def _items(made: dict[str, Path]) -> list[StowItem]:
    return [StowItem(uid, path, path.stat().st_size) for uid, path in made.items()]


def _client(orthanc: OrthancServer, **kwargs) -> StowClient:
    session = make_session(SETTINGS)
    session.auth = orthanc.auth
    return StowClient(session, orthanc.dicomweb, SETTINGS, **kwargs)


def test_multipart_body_length_is_exact_and_parts_parse_back(tmp_path: Path) -> None:
    a, b = tmp_path / "a.dcm", tmp_path / "b.dcm"
    a.write_bytes(b"\x00" * 1000 + b"--not-a-boundary\r\n")
    b.write_bytes(bytes(range(256)) * 7)
    body = MultipartFileBody([FilePart.of(a), FilePart.of(b)])
    data = b""
    while chunk := body.read(333):
        data += chunk
    assert len(data) == len(body)
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + body.content_type.encode() + b"\r\n\r\n" + data)
    payloads = [part.get_payload(decode=True) for part in message.iter_parts()]
    assert payloads == [a.read_bytes(), b.read_bytes()]


def test_a_file_that_changes_after_queueing_is_not_sent_truncated(tmp_path: Path) -> None:
    path = tmp_path / "x.dcm"
    path.write_bytes(b"x" * 100)
    part = FilePart.of(path)
    path.write_bytes(b"x" * 50)
    with pytest.raises(OSError, match="changed size"):
        MultipartFileBody([part]).read()


def test_batches_respect_size_and_count_bounds(tmp_path: Path) -> None:
    items = [StowItem(str(i), tmp_path / f"{i}", size) for i, size in enumerate([40, 40, 40, 200, 10])]
    batches = [[i.sop_instance_uid for i in b] for b in plan_batches(items, max_bytes=100, max_count=2)]
    assert batches == [["0", "1"], ["2"], ["3"], ["4"]]


def test_failed_instances_carry_the_services_reason() -> None:
    payload = {
        "00081199": {"vr": "SQ", "Value": [{"00081155": {"vr": "UI", "Value": ["1.2.3"]}}]},
        "00081198": {"vr": "SQ", "Value": [{"00081155": {"vr": "UI", "Value": ["1.2.4"]},
                                             "00081197": {"vr": "US", "Value": [0xA700]}},
                                            {"00081155": {"vr": "UI", "Value": ["1.2.5"]},
                                             "00081197": {"vr": "US", "Value": [0xC000]}}]},
        "nccid:failures": [{"sop_instance_uid": "1.2.4", "message": "Private tags are not allowed."}],
    }
    result = parse_stow_response(payload)
    assert result.stored == {"1.2.3"}
    assert result.failed["1.2.4"] == "Private tags are not allowed."
    assert "0xC000" in result.failed["1.2.5"]


def test_instances_reach_orthanc_byte_for_byte(tmp_path: Path, orthanc: OrthancServer, site_keys) -> None:
    made = write_instances(tmp_path / "out", site_keys, count=7)
    events: list[Progress] = []
    result = _client(orthanc, max_batch_bytes=3 * 9000).store(_items(made), events.append)
    assert result.stored == set(made) and not result.failed
    for uid, path in made.items():
        ids = [r["ID"] for r in _lookup(orthanc, uid)]
        assert len(ids) == 1
        stored = orthanc.get(f"/instances/{ids[0]}/file").content
        original = pydicom.dcmread(path)
        assert pydicom.dcmread(io.BytesIO(stored)).PixelData == original.PixelData
        assert hashlib.sha256(stored).digest() == hashlib.sha256(path.read_bytes()).digest()
    assert events[0].done == 0 and events[-1].done == events[-1].total
    assert len(events) > 2, "several batches, each reported when its answer arrived"
    assert [e.done for e in events] == sorted(e.done for e in events)


def test_storing_the_same_instance_twice_succeeds(tmp_path: Path, orthanc: OrthancServer, site_keys) -> None:
    made = write_instances(tmp_path / "out", site_keys, count=2)
    client = _client(orthanc)
    assert client.store(_items(made)).stored == set(made)
    assert client.store(_items(made)).stored == set(made)


def test_cancel_stops_between_batches(tmp_path: Path, orthanc: OrthancServer, site_keys) -> None:
    made = write_instances(tmp_path / "out", site_keys, count=4)
    cancel = CancelToken()
    sent: list[int] = []

    def progress(p: Progress) -> None:
        sent.append(p.done)
        if p.done:
            cancel.cancel()

    with pytest.raises(CancelledError):
        _client(orthanc, max_batch_count=1).store(_items(made), progress, cancel)
    assert len(sent) == 2, "one batch acknowledged, then stopped"


def test_progress_never_runs_ahead_of_the_server(tmp_path: Path, orthanc: OrthancServer, site_keys) -> None:
    made = write_instances(tmp_path / "out", site_keys, count=3, pixels=256)
    items = _items(made)
    seen_before_answer: list[int] = []
    lock = threading.Lock()
    client = _client(orthanc, max_batch_count=1)
    original = client.send_batch

    def watching(batch, cancel):
        with lock:
            seen_before_answer.append(progress_done[-1])
        return original(batch, cancel)

    progress_done = [0]
    client.send_batch = watching  # type: ignore[method-assign]
    client.store(items, lambda p: progress_done.append(p.done))
    sizes = [i.size for i in items]
    assert seen_before_answer == [0, sizes[0], sizes[0] + sizes[1]]


def _lookup(orthanc: OrthancServer, sop_uid: str) -> list[dict]:
    response = requests.post(orthanc.url + "/tools/lookup", data=sop_uid, auth=orthanc.auth, timeout=30)
    response.raise_for_status()
    return [r for r in response.json() if r["Type"] == "Instance"]
