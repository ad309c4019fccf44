"""Fixtures for transport tests: a real Orthanc per module."""

from __future__ import annotations

import pytest

from tests.transport.orthanc import OrthancServer, running_orthanc


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> OrthancServer:
    with running_orthanc(tmp_path_factory.mktemp("orthanc")) as server:
        yield server
