"""Site pseudonym keys sealed at rest: round trip, migration of plain rows, failing closed."""

from __future__ import annotations

import base64
import logging
import secrets
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import insert, select, update

from nccid_collector import ServiceSettings, accounts, open_service, start_embedded
from nccid_collector.db import open_database, sites
from nccid_collector.problems import ServiceProblem
from nccid_collector.secrets_at_rest import (
    MASTER_KEY_FILE_NAME,
    MasterKey,
    MasterKeyError,
    SealedSecretError,
)
from nccid_desktop.errors import ConfigError
from nccid_desktop.keys import SECRET_BYTES
from tests.collector.client import Api, signed_in
from tests.collector.service_setup import PASSWORD, TEST_DATA, keys_of


def _stored(settings: ServiceSettings) -> dict[str, str]:
    engine = open_database(settings.database_url)
    try:
        with engine.connect() as conn:
            return {code: secret for code, secret in conn.execute(select(sites.c.code,
                                                                          sites.c.secret))}
    finally:
        engine.dispose()


def _forms(secret: bytes) -> list[str]:
    """Every way a secret could show up in text: base64, hex, and as raw characters."""
    return [base64.b64encode(secret).decode(), secret.hex(), secret.decode("latin-1")]


def test_the_column_holds_neither_the_secret_nor_its_base64(live, service, settings) -> None:
    fetched = signed_in(live.url, "nurse1").get("/api/v1/site/keys").json()
    secret = base64.b64decode(fetched["secret"])
    stored = _stored(settings)
    assert set(stored) == {"RSH", "OTH"}
    assert all(value.startswith("v1:") for value in stored.values())
    sealed_bytes = base64.b64decode(stored["RSH"][3:])
    assert len(sealed_bytes) == 12 + SECRET_BYTES + 16  # nonce, ciphertext, GCM tag
    assert secret not in sealed_bytes
    assert [form for form in _forms(secret) if form in repr(stored)] == []
    assert keys_of(service, "RSH").secret == secret


def test_keys_survive_a_restart_of_the_service(service, settings) -> None:
    before = keys_of(service, "RSH")
    stored = _stored(settings)
    reopened = open_service(settings)
    try:
        assert keys_of(reopened, "RSH") == before
    finally:
        reopened.close()
    assert _stored(settings) == stored


def test_the_key_file_is_created_once_with_owner_only_access(service, settings) -> None:
    path = settings.data_dir / MASTER_KEY_FILE_NAME
    assert settings.master_key_path == path
    assert path.stat().st_mode & 0o777 == 0o600
    content = path.read_bytes()
    assert len(content) == 32
    assert [p.name for p in path.parent.iterdir() if p.name.endswith((".new", ".tmp"))] == []
    open_service(settings).close()
    assert path.read_bytes() == content


def _old_version_database(settings: ServiceSettings) -> dict[str, bytes]:
    """A database as the version before sealing wrote it: base64 secrets in plain text."""
    plain = {"RSH": secrets.token_bytes(SECRET_BYTES), "OTH": secrets.token_bytes(SECRET_BYTES)}
    engine = open_database(settings.database_url)
    try:
        accounts.set_controller_key(engine, (TEST_DATA / "controller-test-key.pub.pem").read_bytes())
        with engine.begin() as conn:
            for code, secret in plain.items():
                conn.execute(insert(sites).values(code=code, name=f"Site {code}",
                                                  secret=base64.b64encode(secret).decode(),
                                                  created_at=settings.now()))
        accounts.add_user(engine, settings, "nurse1", "RSH", ("nurse",), PASSWORD)
    finally:
        engine.dispose()
    return plain


def test_plain_rows_are_sealed_at_start_and_serve_the_same_keys(settings) -> None:
    plain = _old_version_database(settings)
    assert not settings.master_key_path.exists()
    running = start_embedded(settings.data_dir, settings=settings)
    try:
        fetched = signed_in(running.url, "nurse1").get("/api/v1/site/keys").json()
        assert base64.b64decode(fetched["secret"]) == plain["RSH"]
        assert keys_of(running.service, "OTH").secret == plain["OTH"]
    finally:
        running.stop()
    stored = _stored(settings)
    assert all(value.startswith("v1:") for value in stored.values())
    assert [f for s in plain.values() for f in _forms(s) if f in repr(stored)] == []

    key_file = settings.master_key_path.read_bytes()
    open_service(settings).close()  # the second start finds nothing to seal
    assert _stored(settings) == stored
    assert settings.master_key_path.read_bytes() == key_file


def _key_leaks(text: str, key: bytes, stored: dict[str, str]) -> list[str]:
    return [f for f in [*_forms(key), *stored.values(), *(v[3:] for v in stored.values())]
            if f in text]


def test_a_wrong_master_key_stops_the_service_with_a_plain_error(service, settings, tmp_path,
                                                                  caplog) -> None:
    caplog.set_level(logging.DEBUG)
    stored = _stored(settings)
    wrong = tmp_path / "wrong.key"
    wrong_key = secrets.token_bytes(32)
    wrong.write_bytes(wrong_key)
    with pytest.raises(MasterKeyError) as raised:
        open_service(replace(settings, master_key_file=wrong))
    message = str(raised.value)
    assert isinstance(raised.value, ConfigError)
    assert "does not open the site keys" in message and "backup" in message
    assert "--master-key-file" in message and "has not started" in message
    assert raised.value.__cause__ is None
    right_key = settings.master_key_path.read_bytes()
    assert _key_leaks(message, wrong_key, stored) == []
    assert _key_leaks(message, right_key, stored) == []
    logged = "\n".join(caplog.handler.format(r) for r in caplog.records)
    assert _key_leaks(logged, wrong_key, stored) == [] and _key_leaks(logged, right_key, stored) == []
    assert _stored(settings) == stored  # nothing was re-sealed with the wrong key


def test_a_missing_key_is_refused_and_not_replaced_once_rows_are_sealed(service, settings) -> None:
    settings.master_key_path.unlink()
    with pytest.raises(MasterKeyError, match="missing") as raised:
        open_service(settings)
    assert str(settings.master_key_path) in str(raised.value)
    assert not settings.master_key_path.exists()


def test_a_short_or_unreadable_key_file_is_refused(service, settings, tmp_path) -> None:
    short = tmp_path / "short.key"
    short.write_bytes(settings.master_key_path.read_bytes()[:16])
    with pytest.raises(MasterKeyError, match="16 bytes long, not 32"):
        open_service(replace(settings, master_key_file=short))
    folder = tmp_path / "a-folder.key"
    folder.mkdir()
    with pytest.raises(MasterKeyError, match="cannot be read"):
        open_service(replace(settings, master_key_file=folder))


def test_a_row_moved_to_another_site_does_not_open(live, service, settings, caplog) -> None:
    stored = _stored(settings)
    with service.db.begin() as conn:
        conn.execute(update(sites).where(sites.c.code == "OTH").values(secret=stored["RSH"]))
    with pytest.raises(ServiceProblem) as raised:
        keys_of(service, "OTH")
    assert raised.value.status == 500 and raised.value.code == "site_keys_unavailable"
    refused = signed_in(live.url, "other1").get("/api/v1/site/keys")
    assert refused.status_code == 500 and refused.json()["code"] == "site_keys_unavailable"
    assert "administrator" in refused.json()["detail"]
    assert signed_in(live.url, "nurse1").get("/api/v1/site/keys").status_code == 200

    caplog.set_level(logging.WARNING)
    open_service(settings).close()  # the key opens RSH, so it is the right key: the service starts
    assert "sites OTH cannot be opened" in caplog.text
    assert stored["RSH"] not in caplog.text and stored["RSH"][3:] not in caplog.text


def test_sealing_uses_a_fresh_nonce_and_binds_the_site() -> None:
    key = MasterKey(secrets.token_bytes(32))
    secret = secrets.token_bytes(SECRET_BYTES)
    first, second = key.seal("RSH", secret), key.seal("RSH", secret)
    assert first != second and first[:19] != second[:19]
    assert key.open("RSH", first) == key.open("RSH", second) == secret
    with pytest.raises(SealedSecretError, match="copied from another site"):
        key.open("OTH", first)
    with pytest.raises(SealedSecretError):
        MasterKey(secrets.token_bytes(32)).open("RSH", first)
    body = bytearray(base64.b64decode(first[3:]))
    body[-1] ^= 1
    with pytest.raises(SealedSecretError):
        key.open("RSH", "v1:" + base64.b64encode(bytes(body)).decode())
    with pytest.raises(SealedSecretError, match="format"):
        key.open("RSH", "v2:" + first[3:])
    assert repr(key) == "MasterKey(<hidden>)"
    with pytest.raises(MasterKeyError):
        MasterKey(b"short")


def test_the_embedded_demo_service_needs_no_extra_step(tmp_path: Path) -> None:
    from nccid_collector.demo import ensure_demo

    running = start_embedded(tmp_path / "demo")
    try:
        account = ensure_demo(running.service)
        api = Api(running.url)
        assert api.sign_in(account.username, account.password).status_code == 200
        fetched = api.get("/api/v1/site/keys")
        assert fetched.status_code == 200 and fetched.json()["site"] == account.site
    finally:
        running.stop()
    assert (tmp_path / "demo" / MASTER_KEY_FILE_NAME).stat().st_mode & 0o777 == 0o600
    assert _stored(running.settings)[account.site].startswith("v1:")
