"""Fixtures for transport tests: a real Orthanc per module."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.transport.orthanc import OrthancServer, running_orthanc


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> OrthancServer:
    with running_orthanc(tmp_path_factory.mktemp("orthanc")) as server:
        yield server


@pytest.fixture
def collector(tmp_path: Path):
    from tests.transport.collector_fixture import running_collector

    with running_collector(tmp_path / "service") as running:
        yield running
