"""Service fixtures: every service test runs on SQLite and on a real PostgreSQL, and with the
warehouse in a folder and in a real S3 store (SeaweedFS), except the modules that never touch
the warehouse (``FOLDER_ONLY``), which run with the default folder only."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from nccid_collector import ServiceSettings, accounts, open_service, start_embedded
from nccid_collector.db import open_database
from tests.collector.pg import start_cluster
from tests.collector.seaweedfs import SeaweedS3, start_seaweedfs
from tests.collector.service_setup import Clock, cached_hash, populate
from tests.collector.warehouse_view import WarehouseView


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


@pytest.fixture(scope="session")
def s3_server():
    """SeaweedFS for the whole session; the standard AWS settings point this process at it."""
    server = start_seaweedfs()
    saved = {key: os.environ.get(key) for key in server.env()}
    os.environ.update(server.env())
    yield server
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    server.stop()


#: Modules whose tests never read or write the warehouse (accounts, keys at rest).
FOLDER_ONLY = frozenset({"test_collector_accounts", "test_collector_secrets_at_rest"})


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "storage" in metafunc.fixturenames:
        folder_only = metafunc.module.__name__.rsplit(".", 1)[-1] in FOLDER_ONLY
        metafunc.parametrize("storage", ["folder"] if folder_only else ["folder", "s3"],
                             indirect=True)


@pytest.fixture
def storage(request: pytest.FixtureRequest) -> str | None:
    """The ``--storage`` address: None (the data folder, the default) or a fresh S3 prefix."""
    if request.param == "folder":
        return None
    server: SeaweedS3 = request.getfixturevalue("s3_server")
    return server.new_address()


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 25, 10, 0, tzinfo=UTC))


@pytest.fixture
def settings(tmp_path: Path, db_url: str, storage: str | None, clock: Clock) -> ServiceSettings:
    return ServiceSettings(data_dir=tmp_path / "warehouse", db_url=db_url, storage=storage,
                           clock=clock)


@pytest.fixture
def warehouse(settings: ServiceSettings, request: pytest.FixtureRequest) -> WarehouseView:
    """The warehouse as the loader sees it, read without the service's code."""
    address = settings.storage_address
    client = (request.getfixturevalue("s3_server").client() if address.startswith("s3://")
              else None)
    return WarehouseView.of(address, client)


@pytest.fixture
def service(settings: ServiceSettings, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(accounts, "hash_password", cached_hash)
    opened = open_service(settings)
    populate(opened)
    yield opened
    opened.close()


@pytest.fixture
def live(service, settings: ServiceSettings):
    """The same service over real HTTP on loopback."""
    running = start_embedded(settings.data_dir, settings=settings)
    yield running
    running.stop()
