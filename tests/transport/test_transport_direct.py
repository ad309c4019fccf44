"""``proxy = "none"`` means no proxy at all, even when the environment names one."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from nccid_desktop.config import Settings
from nccid_desktop.errors import TransportError
from nccid_desktop.transport.client import CollectorClient
from nccid_desktop.transport.http import http_settings_for
from tests.transport.collector_fixture import running_collector


def _dead_proxy() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def test_direct_settings_ignore_the_environment_proxy(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", _dead_proxy())
    monkeypatch.setenv("NO_PROXY", "")
    monkeypatch.delenv("no_proxy", raising=False)
    with running_collector(tmp_path / "service") as collector:
        direct = CollectorClient(collector.url, http_settings_for(Settings(direct=True),
                                                                  max_attempts=1))
        assert direct.health()["status"] == "ok"
        via_env = CollectorClient(collector.url, http_settings_for(Settings(), max_attempts=1))
        with pytest.raises(TransportError):
            via_env.health()
