"""``nccid password change``: the app's Change password from a terminal, against the real
service, including an expired password and the service's refusal of a weak new one."""

from __future__ import annotations

from pathlib import Path

import pytest

from nccid_collector import accounts
from nccid_desktop.cli import main
from nccid_desktop.transport.client import CollectorClient
from tests.transport.collector_fixture import RunningCollector, running_collector

NEW = "Brand-New-Passphrase-42"


@pytest.fixture
def collector(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RunningCollector:
    with running_collector(tmp_path / "service") as running:
        monkeypatch.setenv("NCCID_SERVER", running.url)
        monkeypatch.setenv("NCCID_USER", running.account.username)
        monkeypatch.setenv("NCCID_PASSWORD", running.account.password)
        yield running


def _signs_in(collector: RunningCollector, username: str, password: str) -> bool:
    client = CollectorClient(collector.url)
    try:
        client.sign_in(username, password)
    except Exception:
        return False
    return True


def test_password_change_changes_it(collector, monkeypatch, capsys):
    monkeypatch.setenv("NCCID_NEW_PASSWORD", NEW)
    assert main(["password", "change"]) == 0
    assert "Password changed for" in capsys.readouterr().out
    user = collector.account.username
    assert _signs_in(collector, user, NEW)
    assert not _signs_in(collector, user, collector.account.password)


def test_an_expired_password_can_be_changed_here(collector, monkeypatch, capsys):
    service = collector.service.service
    accounts.add_user(service.db, service.settings, "ward7", collector.account.site,
                      ("nurse",), "Temporary-Pass-1", must_change=True)
    monkeypatch.setenv("NCCID_USER", "ward7")
    monkeypatch.setenv("NCCID_PASSWORD", "Temporary-Pass-1")
    monkeypatch.setenv("NCCID_NEW_PASSWORD", NEW)
    assert main(["password", "change"]) == 0
    captured = capsys.readouterr()
    assert "expired" in captured.err and "Password changed for ward7" in captured.out
    client = CollectorClient(collector.url)
    assert not client.sign_in("ward7", NEW).password_change_required


def test_a_weak_password_is_refused_in_the_services_words(collector, monkeypatch, capsys):
    monkeypatch.setenv("NCCID_NEW_PASSWORD", "short")
    assert main(["password", "change"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("nccid: ") and "Traceback" not in err and "short" not in err
    assert _signs_in(collector, collector.account.username, collector.account.password)


def test_without_a_terminal_or_the_environment_it_says_what_to_set(collector, monkeypatch,
                                                                   capsys):
    monkeypatch.delenv("NCCID_NEW_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert main(["password", "change"]) == 1
    assert "NCCID_NEW_PASSWORD" in capsys.readouterr().err
