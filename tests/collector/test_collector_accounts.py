"""Accounts over real HTTP: sign-in, policy, renewal, lock-out, expiry, roles, sign-out."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from nccid_collector import accounts
from nccid_collector.db import sessions, users
from nccid_collector.passwords import hash_password, policy_problems, verify_password
from tests.collector.client import Api, signed_in
from tests.collector.service_setup import PASSWORD, keys_of

NEW_PASSWORD = "Another-Strong-77#"


def test_policy_explains_each_broken_rule() -> None:
    assert policy_problems(PASSWORD, "nurse1") == []
    assert "at least 12 characters" in policy_problems("Short-1a", "x")
    assert any("three of" in p for p in policy_problems("alllowercaseletters", "x"))
    assert any("user name" in p for p in policy_problems("Nurse1-Password-9", "nurse1"))
    assert any("repeated" in p for p in policy_problems("Aaaaaaa-Strong-1", "x"))


def test_scrypt_hashes_are_salted_and_verify() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first != second and first.startswith("scrypt$")
    assert verify_password(PASSWORD, first) and not verify_password(PASSWORD + "x", first)
    assert not verify_password(PASSWORD, "not-a-hash")


def test_sign_in_returns_a_token_for_the_users_site_and_roles(live) -> None:
    response = Api(live.url).sign_in("nurse1")
    assert response.status_code == 200
    body = response.json()
    assert body["user"] == {"username": "nurse1", "site": "RSH", "site_name": "Royal Surrey",
                            "roles": ["nurse"]}
    assert body["password_change_required"] is False
    assert body["expires_at"].endswith("Z") and len(body["token"]) >= 40


def test_wrong_password_and_unknown_user_get_the_same_plain_refusal(live) -> None:
    wrong = Api(live.url).sign_in("nurse1", "Wrong-Password-123")
    unknown = Api(live.url).sign_in("nobody", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["code"] == "bad_credentials" and "password" in wrong.json()["detail"]


def test_five_failures_lock_the_account_for_fifteen_minutes(live, clock) -> None:
    api = Api(live.url)
    for _ in range(4):
        assert api.sign_in("nurse1", "Wrong-Password-123").status_code == 401
    locked = api.sign_in("nurse1", "Wrong-Password-123")
    assert locked.status_code == 401
    refused = api.sign_in("nurse1")  # even the right password while locked
    assert refused.status_code == 423 and refused.json()["code"] == "locked"
    assert "15 minutes" in refused.json()["detail"]
    clock.advance(minutes=14)
    assert api.sign_in("nurse1").status_code == 423
    clock.advance(minutes=2)
    assert api.sign_in("nurse1").status_code == 200


def test_a_password_older_than_90_days_must_be_changed_first(live, clock) -> None:
    clock.advance(days=91)
    api = Api(live.url)
    response = api.sign_in("nurse1")
    assert response.status_code == 200 and response.json()["password_change_required"] is True
    blocked = api.get("/api/v1/summary")
    assert blocked.status_code == 403 and blocked.json()["code"] == "password_change_required"
    weak = api.post("/api/v1/session/password",
                    json={"old_password": PASSWORD, "new_password": "weak"})
    assert weak.status_code == 400 and weak.json()["code"] == "weak_password"
    assert "at least 12 characters" in weak.json()["detail"]
    same = api.post("/api/v1/session/password",
                    json={"old_password": PASSWORD, "new_password": PASSWORD})
    assert same.status_code == 400
    old_token = api.token
    changed = api.post("/api/v1/session/password",
                       json={"old_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert changed.status_code == 200 and changed.json()["password_change_required"] is False
    api.token = changed.json()["token"]
    assert api.get("/api/v1/summary").status_code == 200
    assert Api(live.url, old_token).get("/api/v1/summary").json()["code"] == "session_expired"
    assert Api(live.url).sign_in("nurse1", NEW_PASSWORD).status_code == 200


def test_an_administrator_reset_forces_a_change_at_next_sign_in(live, service) -> None:
    accounts.reset_password(service.db, service.settings, "nurse1", "Temporary-Pass-55")
    response = Api(live.url).sign_in("nurse1", "Temporary-Pass-55")
    assert response.json()["password_change_required"] is True


def test_an_expired_or_unknown_token_asks_to_sign_in_again(live, clock) -> None:
    api = signed_in(live.url, "nurse1")
    assert api.get("/api/v1/summary").status_code == 200
    clock.advance(minutes=8 * 60 + 1)
    expired = api.get("/api/v1/summary")
    assert expired.status_code == 401 and expired.json()["code"] == "session_expired"
    assert Api(live.url, "made-up-token").get("/api/v1/summary").status_code == 401
    assert Api(live.url).get("/api/v1/summary").json()["code"] == "session_expired"


def test_tokens_are_stored_only_as_hashes(live, service) -> None:
    api = signed_in(live.url, "nurse1")
    with service.db.connect() as conn:
        stored = conn.execute(select(sessions.c.token_hash)).scalars().all()
        password_hashes = conn.execute(select(users.c.password_hash)).scalars().all()
    assert api.token not in stored and len(stored) == 1
    assert all(h.startswith("scrypt$") and PASSWORD not in h for h in password_hashes)


def test_sign_out_ends_the_session(live) -> None:
    api = signed_in(live.url, "nurse1")
    assert api.delete("/api/v1/session").status_code == 204
    assert api.get("/api/v1/summary").json()["code"] == "session_expired"


@pytest.mark.parametrize(("username", "path", "allowed"), [
    ("nurse1", "/api/v1/clinical/batches", True),
    ("imager1", "/api/v1/clinical/batches", False),
    ("imager1", "/api/v1/images/known", True),
    ("nurse1", "/api/v1/images/known", False),
    ("admin1", "/api/v1/images/known", True),
])
def test_roles_decide_who_uploads_what(live, username: str, path: str, allowed: bool) -> None:
    api = signed_in(live.url, username)
    body = ({"batch_id": "b1", "envelopes": []} if "clinical" in path
            else {"sop_instance_uids": []})
    response = api.post(path, json=body)
    if allowed:
        assert response.status_code == 200
    else:
        assert response.status_code == 403 and response.json()["code"] == "forbidden"


def test_site_keys_are_the_callers_sites_only(live, service) -> None:
    rsh = signed_in(live.url, "nurse1").get("/api/v1/site/keys")
    oth = signed_in(live.url, "other1").get("/api/v1/site/keys")
    assert rsh.status_code == oth.status_code == 200
    assert rsh.headers["Cache-Control"] == "no-store"
    assert rsh.json()["site"] == "RSH" and oth.json()["site"] == "OTH"
    assert rsh.json()["secret"] != oth.json()["secret"]
    assert keys_of(service, "RSH").to_json() == rsh.json()
