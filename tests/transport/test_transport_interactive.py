"""Calls a person waits on fail fast; lock-out and expired passwords reach the user in words.

Real service, real sockets: the fault proxy answers 503 to count attempts; a closed port stands
for a server that is down.
"""

from __future__ import annotations

import time

import pytest

from nccid_collector import accounts
from nccid_desktop.cli import main
from nccid_desktop.errors import AuthError, TransportError
from nccid_desktop.transport.client import CollectorClient
from nccid_desktop.transport.errors import AccountLockedError, PasswordChangeRequiredError
from nccid_desktop.transport.http import INTERACTIVE_LIMITS, HttpSettings
from tests.faults.proxy import Fault, FaultProxy
from tests.transport.orthanc import free_port
from tests.transport.payloads import status_envelope

PASSWORD = "Correct-Horse-77!"


def _add_user(collector, username: str, *, must_change: bool = False) -> None:
    service = collector.service.service
    accounts.add_user(service.db, service.settings, username, collector.account.site,
                      ("nurse", "imaging"), PASSWORD, must_change=must_change)


def test_interactive_preset_caps_attempts_and_timeouts_but_keeps_the_route() -> None:
    bulk = HttpSettings(ca_bundle="/etc/site-ca.pem", proxy="http://proxy.trust.nhs.uk:8080")
    quick = bulk.interactive()
    assert (quick.ca_bundle, quick.proxy) == (bulk.ca_bundle, bulk.proxy)
    assert quick.max_attempts == 2 < bulk.max_attempts
    assert quick.connect_timeout < bulk.connect_timeout
    assert quick.backoff_cap <= INTERACTIVE_LIMITS.backoff_cap
    one = HttpSettings(max_attempts=1, read_timeout=5).interactive()
    assert (one.max_attempts, one.read_timeout) == (1, 5), "a stricter setting stays stricter"


def test_an_unreachable_server_is_reported_within_seconds() -> None:
    client = CollectorClient(f"http://127.0.0.1:{free_port()}")
    started = time.monotonic()
    with pytest.raises(TransportError, match="Cannot reach the collection service"):
        client.sign_in("nurse", "anything")
    assert time.monotonic() - started < 3.0


def test_sign_in_checker_and_summary_try_twice_uploads_keep_trying(collector) -> None:
    host, port = collector.url.removeprefix("http://").split(":")
    always_busy = lambda head: Fault.STATUS_503  # noqa: E731
    patient = HttpSettings(max_attempts=4, backoff_base=0.01, backoff_cap=0.02)
    with FaultProxy((host, int(port)), always_busy) as proxy:
        client = CollectorClient(proxy.url, patient)
        started = time.monotonic()
        for call in (lambda: client.sign_in("nurse", "x"), client.summary,
                     lambda: client.check(["0" * 64])):
            before = proxy.applied[Fault.STATUS_503]
            with pytest.raises(TransportError, match="busy"):
                call()
            assert proxy.applied[Fault.STATUS_503] - before == 2
        assert time.monotonic() - started < 5.0
        before = proxy.applied[Fault.STATUS_503]
        with pytest.raises(TransportError, match="busy"):
            client.upload_clinical("b1", [])
        assert proxy.applied[Fault.STATUS_503] - before == patient.max_attempts


def test_five_wrong_passwords_lock_the_account_with_the_lock_out_message(collector) -> None:
    _add_user(collector, "lockme")
    client = CollectorClient(collector.url)
    for _ in range(5):
        with pytest.raises(AuthError) as wrong:
            client.sign_in("lockme", "Wrong-Horse-77!")
        assert not isinstance(wrong.value, AccountLockedError)
    with pytest.raises(AccountLockedError) as locked:
        client.sign_in("lockme", PASSWORD)
    assert "locked" in str(locked.value).lower() and "Traceback" not in str(locked.value)


def test_expired_password_leads_to_the_change_and_then_work(collector) -> None:
    _add_user(collector, "expired", must_change=True)
    client = CollectorClient(collector.url)
    signed = client.sign_in("expired", PASSWORD)
    assert signed.password_change_required
    with pytest.raises(PasswordChangeRequiredError, match=r"(?i)password has expired|new password"):
        client.site_keys()
    changed = client.change_password(PASSWORD, "Brand-New-Horse-88!")
    assert not changed.password_change_required
    keys = client.site_keys()
    results = client.upload_clinical("after-change", [status_envelope(keys, 901)])
    assert [r.status for r in results] == ["stored"]


def test_the_command_line_says_a_password_has_expired(collector, monkeypatch, capsys) -> None:
    _add_user(collector, "expiredcli", must_change=True)
    monkeypatch.setenv("NCCID_SERVER", collector.url)
    monkeypatch.setenv("NCCID_USER", "expiredcli")
    monkeypatch.setenv("NCCID_PASSWORD", PASSWORD)
    assert main(["summary"]) == PasswordChangeRequiredError.exit_code
    err = capsys.readouterr().err
    assert "Your password has expired" in err and PASSWORD not in err
