"""Service fixtures: every service test runs on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from pathlib import Path

import pytest

from nccid_collector import ServiceSettings, accounts, open_service, start_embedded
from nccid_collector.db import open_database
from nccid_collector.passwords import hash_password
from tests.collector.pg import start_cluster
from tests.collector.service_setup import PASSWORD, TEST_DATA, USERS, Clock


@pytest.fixture(scope="session")
def pg_cluster():
    cluster = start_cluster()
    template_url = cluster.new_database()
    open_database(template_url).dispose()  # the service's tables, copied into each test database
    cluster.template = template_url.rsplit("/", 1)[1]
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'service.sqlite3'}"
    return request.getfixturevalue("pg_cluster").new_database()


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 25, 10, 0, tzinfo=UTC))


@pytest.fixture
def settings(tmp_path: Path, db_url: str, clock: Clock) -> ServiceSettings:
    return ServiceSettings(data_dir=tmp_path / "warehouse", db_url=db_url, clock=clock)


@functools.cache
def _cached_hash(password: str) -> str:
    return hash_password(password)


@pytest.fixture
def service(settings: ServiceSettings, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(accounts, "hash_password", _cached_hash)  # real scrypt, computed once
    opened = open_service(settings)
    accounts.set_controller_key(opened.db, (TEST_DATA / "controller-test-key.pub.pem").read_bytes())
    accounts.add_site(opened.db, settings, "RSH", "Royal Surrey", master_key=opened.master_key)
    accounts.add_site(opened.db, settings, "OTH", "Other Trust", master_key=opened.master_key)
    for username, (site, roles) in USERS.items():
        accounts.add_user(opened.db, settings, username, site, roles, PASSWORD)
    yield opened
    opened.close()


@pytest.fixture
def live(service, settings: ServiceSettings):
    """The same service over real HTTP on loopback."""
    running = start_embedded(settings.data_dir, settings=settings)
    yield running
    running.stop()
