"""Schemathesis over the service's own OpenAPI document: no input gives a server error.

Every JSON operation is fuzzed (valid and invalid inputs per the schema), signed in as an
administrator so the handlers behind authentication are reached. Run on SQLite and on a
real PostgreSQL, whose text type refuses some characters SQLite accepts.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from nccid_collector import (
    ServiceSettings,
    account_admin,
    accounts,
    audit,
    open_service,
    start_embedded,
)
from tests.collector.client import signed_in
from tests.collector.service_setup import PASSWORD, TEST_DATA, Clock

#: (path, method) fuzzed; sign-out and password change would end the fuzzing session, so they
#: run last, and STOW-RS (a binary multipart body) has its own tests.
OPERATIONS = [
    ("/api/v1/health", "GET"),
    ("/api/v1/session", "POST"),
    ("/api/v1/site/keys", "GET"),
    ("/api/v1/clinical/batches", "POST"),
    ("/api/v1/clinical/windows", "GET"),
    ("/api/v1/images/known", "POST"),
    ("/api/v1/checker", "POST"),
    ("/api/v1/summary", "GET"),
    ("/api/v1/withdrawals/preview", "POST"),
    ("/api/v1/withdrawals", "POST"),
    ("/api/v1/images/remove", "POST"),
    ("/api/v1/session/password", "POST"),
    ("/api/v1/session", "DELETE"),
]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fuzzed_service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("fuzz")
    url = (f"sqlite:///{folder / 'fuzz.sqlite3'}" if request.param == "sqlite"
           else request.getfixturevalue("pg_cluster").new_database())
    config = ServiceSettings(data_dir=folder / "warehouse", db_url=url,
                             clock=Clock(datetime(2026, 11, 25, tzinfo=UTC)), api_docs=True)
    service = open_service(config)
    accounts.set_controller_key(service.db, (TEST_DATA / "controller-test-key.pub.pem").read_bytes())
    accounts.add_site(service.db, config, "RSH", "Royal Surrey", master_key=service.master_key)
    accounts.add_user(service.db, config, "fuzz.admin", "RSH", ("admin",), PASSWORD)
    running = start_embedded(config.data_dir, settings=config)
    yield running
    running.stop()
    service.close()


def _schema(service):
    """The OpenAPI document, which the service gives only to a signed-in user."""
    api = signed_in(service.url, "fuzz.admin")
    auth = {"Authorization": f"Bearer {api.token}"}
    return schemathesis.openapi.from_url(service.url + "/openapi.json", headers=auth), auth


def test_the_openapi_document_covers_the_contract(fuzzed_service) -> None:
    schema, _ = _schema(fuzzed_service)
    paths = set(schema.raw_schema["paths"])
    assert {path for path, _ in OPERATIONS} | {"/dicom-web/studies"} == paths


def _server_errors(strategy, auth: dict[str, str], examples: int = 30) -> str | None:
    """Fuzz one operation; the shrunk failing example's description, or None."""

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case) -> None:
        response = case.call(headers=auth)
        case.validate_response(response, checks=[not_a_server_error], headers=auth)

    try:
        run()
    except AssertionError as failure:  # schemathesis reports a failed check this way
        return str(failure)[:2000]
    return None


def test_fuzzing_finds_no_server_error(fuzzed_service) -> None:
    schema, auth = _schema(fuzzed_service)
    failures = {
        f"{method} {path}": problem
        for path, method in OPERATIONS
        if (problem := _server_errors(schema[path][method].as_strategy(), auth)) is not None
    }
    assert failures == {}


def test_fuzzing_without_a_valid_session_finds_no_server_error_and_audits_it(
        fuzzed_service) -> None:
    """The same operations as an attacker without an account: no token, a forged one."""
    service = fuzzed_service.service
    # fuzzing the password change with wrong old passwords locked the account (as it should)
    account_admin.unlock_user(service.db, service.settings, "fuzz.admin")
    schema, _ = _schema(fuzzed_service)
    before = len(audit.entries(service.db, kind="refused"))
    failures = {
        f"{label} {method} {path}": problem
        for label, auth in (("no token", {}), ("forged", {"Authorization": "Bearer forged"}))
        for path, method in OPERATIONS
        if (problem := _server_errors(schema[path][method].as_strategy(), auth, 5)) is not None
    }
    assert failures == {}
    refused = audit.entries(service.db, kind="refused")
    assert len(refused) > before
    assert {r["address"] for r in refused} == {"127.0.0.1"}
    assert {r["username"] for r in refused} >= {"(unknown)"}
