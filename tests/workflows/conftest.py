"""Workflow fixtures: the real collection service on loopback and a signed-in client.

No Qt here: the workflows are tested headless, as the command line runs them.
"""

from __future__ import annotations

import pytest

from tests.transport.collector_fixture import RunningCollector, running_collector


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory) -> RunningCollector:
    with running_collector(tmp_path_factory.mktemp("service")) as running:
        yield running


@pytest.fixture
def client(collector: RunningCollector):
    from nccid_desktop.transport.client import CollectorClient
    from nccid_desktop.transport.http import HttpSettings

    signed = CollectorClient(collector.url, settings=HttpSettings(max_attempts=2))
    signed.sign_in(collector.account.username, collector.account.password)
    return signed


@pytest.fixture
def keys(client):
    return client.site_keys()
