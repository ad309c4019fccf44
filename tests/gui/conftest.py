"""GUI fixtures: a real embedded collection service, a worker pool, and an app context."""

from __future__ import annotations

import pytest

from nccid_desktop.gui.context import AppContext, SiteOptions
from nccid_desktop.gui.workers import WorkerPool
from tests.gui.gui_service import live_service


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    with live_service(tmp_path_factory.mktemp("collector")) as running:
        yield running


@pytest.fixture
def pool(qapp):
    workers = WorkerPool()
    yield workers
    assert workers.shutdown(10_000)


@pytest.fixture
def context(pool, tmp_path, service):
    ctx = AppContext(pool, SiteOptions(server_url=service.url), data_dir=tmp_path / "data")
    yield ctx
    ctx.close()
