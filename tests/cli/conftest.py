"""Command-line test fixtures: a real collection service on loopback, and the environment
variables the ``nccid`` commands read to reach it and sign in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.transport.collector_fixture import RunningCollector, running_collector


@pytest.fixture
def signed_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningCollector]:
    with running_collector(tmp_path / "service") as collector:
        monkeypatch.setenv("NCCID_SERVER", collector.url)
        monkeypatch.setenv("NCCID_USER", collector.account.username)
        monkeypatch.setenv("NCCID_PASSWORD", collector.account.password)
        yield collector
