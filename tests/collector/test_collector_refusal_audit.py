"""Every refusal leaves an audit row (who, site, route, reason, address), floods are counted,
and locking, disabling or resetting an account ends its sessions at once. Real HTTP."""

from __future__ import annotations

import requests
from sqlalchemy import update

from nccid_collector import account_admin, accounts, audit
from nccid_collector.audit import MAX_NEW_ROWS_PER_WINDOW
from nccid_collector.db import users
from tests.collector.client import Api, signed_in
from tests.collector.service_setup import PASSWORD


def _refusals(service) -> list[tuple]:
    return [(r["username"], r["site"], r["action"], r["route"], r["reason"], r["address"],
             r["occurrences"]) for r in audit.entries(service.db, kind="refused")]


def _with_token(url: str, token: str, path: str = "/api/v1/summary") -> requests.Response:
    return requests.get(url + path, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_wrong_role_and_every_bad_token_are_audited(live, service, clock) -> None:
    nurse = signed_in(live.url, "nurse1")
    assert nurse.post("/api/v1/images/known", json={"sop_instance_uids": []}).status_code == 403
    assert _with_token(live.url, "forged-token-xyz").status_code == 401
    tampered = nurse.token[:-2] + ("AA" if not nurse.token.endswith("AA") else "BB")
    assert _with_token(live.url, tampered).status_code == 401
    signed_out = signed_in(live.url, "imager1")
    assert signed_out.delete("/api/v1/session").status_code == 204
    assert _with_token(live.url, signed_out.token).status_code == 401  # replayed
    assert requests.get(live.url + "/api/v1/summary", timeout=30).status_code == 401
    clock.advance(days=1)
    assert _with_token(live.url, nurse.token).status_code == 401  # expired
    summary = "GET /api/v1/summary"
    assert _refusals(service) == [
        ("nurse1", "RSH", "images_known", "POST /api/v1/images/known", "forbidden",
         "127.0.0.1", 1),
        ("(unknown)", None, "summary", summary, "session_expired", "127.0.0.1", 4),
        ("nurse1", "RSH", "summary", summary, "session_expired", "127.0.0.1", 1),
    ]


def test_repeats_are_counted_and_a_flood_cannot_add_rows_without_bound(live, service,
                                                                       clock) -> None:
    session = requests.Session()
    for index in range(MAX_NEW_ROWS_PER_WINDOW + 60):
        session.get(f"{live.url}/api/v1/no-such-{index % 3}", timeout=30)  # same route: 404
        session.post(live.url + "/api/v1/session", json={"username": f"x{index}"}, timeout=30)
    rows = audit.entries(service.db, kind="refused")
    assert sum(r["occurrences"] for r in rows) == 2 * (MAX_NEW_ROWS_PER_WINDOW + 60)
    assert len(rows) == 2, "one row per distinct refusal in the window"
    clock.advance(seconds=61)
    session.get(live.url + "/api/v1/no-such-0", timeout=30)
    assert len(audit.entries(service.db, kind="refused")) == 3, "a new minute, a new row"


def test_many_distinct_refusals_from_one_address_fold_into_a_flood_row(live, service) -> None:
    from nccid_collector.audit import refusal

    for index in range(MAX_NEW_ROWS_PER_WINDOW + 50):
        refusal(service.db, service.settings.now(), None, None, "stow", f"private_tag:({index})",
                route="POST /dicom-web/studies", address="10.0.0.9")
    rows = audit.entries(service.db, kind="refused")
    assert len(rows) == MAX_NEW_ROWS_PER_WINDOW + 1
    assert rows[-1]["reason"] == "flood" and rows[-1]["occurrences"] == 50


def test_a_locked_out_account_loses_its_open_session_at_once(live) -> None:
    holder = signed_in(live.url, "nurse1")
    assert holder.get("/api/v1/summary").status_code == 200
    for _ in range(5):
        Api(live.url).sign_in("nurse1", "Wrong-Password-123")
    assert holder.get("/api/v1/summary").status_code == 401


def _restore(service, settings) -> None:
    """nurse1 enabled, unlocked, with the usual password and nothing to change."""
    account_admin.enable_user(service.db, settings, "nurse1")
    accounts.reset_password(service.db, settings, "nurse1", PASSWORD)
    with service.db.begin() as conn:
        conn.execute(update(users).where(users.c.username == "nurse1").values(must_change=False))


def test_locking_disabling_and_resetting_end_sessions_at_once(live, service, settings) -> None:
    ends = {"lock": lambda: account_admin.lock_user(service.db, settings, "nurse1", 30),
            "disable": lambda: account_admin.disable_user(service.db, settings, "nurse1"),
            "reset": lambda: accounts.reset_password(service.db, settings, "nurse1",
                                                     "Temporary-Pass-55")}
    for name, end in ends.items():
        _restore(service, settings)
        holder = signed_in(live.url, "nurse1")
        assert holder.get("/api/v1/summary").status_code == 200, name
        end()
        answer = holder.get("/api/v1/summary")
        assert answer.status_code == 401 and answer.json()["code"] == "session_expired", name


def test_a_disabled_account_cannot_sign_in_and_the_refusal_is_audited(live, service,
                                                                      settings) -> None:
    account_admin.disable_user(service.db, settings, "imager1")
    refused = Api(live.url).sign_in("imager1")
    assert refused.status_code == 403 and refused.json()["code"] == "account_disabled"
    assert Api(live.url).sign_in("imager1", "Wrong-Password-123").status_code == 401
    account_admin.enable_user(service.db, settings, "imager1")
    assert Api(live.url).sign_in("imager1").status_code == 200
    reasons = [(r["username"], r["reason"]) for r in audit.entries(service.db, kind="refused")]
    assert reasons == [("imager1", "account_disabled"), ("imager1", "bad_credentials")]
    done = [r["action"] for r in audit.entries(service.db, username="imager1", kind="ok")]
    assert done[:2] == ["account_disable", "account_enable"]
