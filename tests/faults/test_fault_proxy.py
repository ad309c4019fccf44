"""The fault proxy injects what it says, and the transport survives each fault against Orthanc."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from nccid_desktop.errors import TransportError
from nccid_desktop.transport.http import HttpSettings, make_session, send_with_retry
from nccid_desktop.transport.stow import StowClient, StowItem
from tests.faults.proxy import Fault, FaultProxy, random_plan, scripted_plan
from tests.transport.orthanc import OrthancServer, running_orthanc
from tests.transport.payloads import write_instances

FAST = HttpSettings(connect_timeout=2, read_timeout=1.5, max_attempts=8, backoff_base=0.05,
                    backoff_cap=0.5)


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> OrthancServer:
    with running_orthanc(tmp_path_factory.mktemp("orthanc")) as server:
        yield server


def _upstream(orthanc: OrthancServer) -> tuple[str, int]:
    return ("127.0.0.1", int(orthanc.url.rsplit(":", 1)[1]))


def _stow(proxy_url: str, orthanc: OrthancServer, settings: HttpSettings = FAST, **kw) -> StowClient:
    session = make_session(settings)
    session.auth = orthanc.auth
    return StowClient(session, proxy_url + "/dicom-web", settings, **kw)


@pytest.mark.parametrize("fault", list(Fault), ids=lambda f: f.value)
def test_each_fault_is_injected_and_survived(fault: Fault, tmp_path: Path, orthanc: OrthancServer,
                                             site_keys) -> None:
    made = write_instances(tmp_path / "out", site_keys, count=3)
    items = [StowItem(uid, p, p.stat().st_size) for uid, p in made.items()]
    with FaultProxy(_upstream(orthanc), scripted_plan([fault, fault]), stall_seconds=5) as proxy:
        result = _stow(proxy.url, orthanc).store(items)
        assert proxy.applied[fault] >= 2 if fault is not Fault.PASS else proxy.faults_applied() == 0
    assert result.stored == set(made) and not result.failed


def test_retry_after_is_honoured(orthanc: OrthancServer) -> None:
    session = make_session(FAST)
    session.auth = orthanc.auth
    with FaultProxy(_upstream(orthanc), scripted_plan([Fault.STATUS_429]), retry_after=1) as proxy:
        started = time.monotonic()
        response = send_with_retry(session, "GET", proxy.url + "/system", FAST)
        waited = time.monotonic() - started
    assert response.status_code == 200
    assert waited >= 1.0, "the client waited as long as Retry-After asked"


def test_persistent_failure_ends_in_a_plain_error(tmp_path: Path, orthanc: OrthancServer,
                                                  site_keys) -> None:
    made = write_instances(tmp_path / "out", site_keys, count=1)
    items = [StowItem(uid, p, p.stat().st_size) for uid, p in made.items()]
    settings = HttpSettings(connect_timeout=2, read_timeout=2, max_attempts=3, backoff_base=0.01)
    with FaultProxy(_upstream(orthanc), lambda head: Fault.RESET_MID_BODY) as proxy, \
            pytest.raises(TransportError, match="Cannot reach the collection service"):
        _stow(proxy.url, orthanc, settings).store(items)


def test_random_faults_on_many_instances_store_everything(tmp_path: Path, orthanc: OrthancServer,
                                                          site_keys) -> None:
    made = write_instances(tmp_path / "out", site_keys, count=40)
    items = [StowItem(uid, p, p.stat().st_size) for uid, p in made.items()]
    plan = random_plan(seed=4, rate=0.4, faults=[f for f in Fault if f not in (Fault.PASS, Fault.STALL)])
    with FaultProxy(_upstream(orthanc), plan) as proxy:
        result = _stow(proxy.url, orthanc, max_batch_count=4).store(items)
        assert proxy.faults_applied() >= 3
    assert result.stored == set(made)
    for uid in made:
        found = requests.post(orthanc.url + "/tools/lookup", data=uid, auth=orthanc.auth, timeout=10)
        assert [r["Type"] for r in found.json()] == ["Instance"]
