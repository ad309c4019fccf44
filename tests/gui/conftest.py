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


def sign_in(context, service) -> None:
    """Sign ``context`` in as the demo user, as the sign-in dialog does (real HTTP)."""
    from nccid_desktop.transport.client import CollectorClient
    from nccid_desktop.transport.http import HttpSettings

    client = CollectorClient(context.options.server_url, settings=HttpSettings(max_attempts=1))
    client.sign_in(service.account.username, service.account.password)
    context.client = client
    context.keys = client.site_keys()


@pytest.fixture
def signed_context(context, service):
    sign_in(context, service)
    return context
