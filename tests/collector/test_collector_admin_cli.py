"""``nccid-collector`` administration: the audit trail exported and filtered, account commands
that end sessions, a site's hospital-number pattern. In-process, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from nccid_collector.cli import main
from nccid_collector.cli_admin import parse_since
from nccid_collector.intake import hospital_pattern
from tests.collector.client import Api, signed_in


def _admin(settings, *args: str) -> int:
    return main([*args, "--data", str(settings.data_dir), "--db", settings.database_url])


def _refuse_some(live) -> None:
    nurse = signed_in(live.url, "nurse1")
    nurse.post("/api/v1/images/known", json={"sop_instance_uids": []})  # 403: wrong role
    Api(live.url).sign_in("nobody", "Wrong-Password-123")                 # 401: unknown user
    Api(live.url).sign_in("imager1", "Wrong-Password-123")                # 401: known user


def test_audit_lists_and_exports_with_filters(live, service, settings, capsys,
                                              tmp_path: Path) -> None:
    _refuse_some(live)
    capsys.readouterr()
    assert _admin(settings, "audit", "--kind", "refused", "--format", "json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["user"], r["action"], r["reason"], r["address"]) for r in rows] == [
        ("nurse1", "images_known", "forbidden", "127.0.0.1"),
        ("(unknown)", "sign_in", "bad_credentials", "127.0.0.1"),
        ("imager1", "sign_in", "bad_credentials", "127.0.0.1")]
    assert all(r["time"].endswith("Z") and r["route"] for r in rows)
    out = tmp_path / "audit.csv"
    assert _admin(settings, "audit", "--user", "nurse1", "--format", "csv", "-o", str(out)) == 0
    assert "written to audit.csv" in capsys.readouterr().out
    table = list(csv.DictReader(io.StringIO(out.read_text())))
    assert {r["user"] for r in table} == {"nurse1"}
    assert {r["action"] for r in table} >= {"sign_in", "images_known"}
    assert _admin(settings, "audit", "--site", "oth", "--format", "json") == 0
    assert json.loads(capsys.readouterr().out) == []
    assert _admin(settings, "audit", "--kind", "sign_in", "--since", "2026-11-25") == 0
    listing = capsys.readouterr().out
    assert listing.splitlines()[0].split()[:3] == ["time", "user", "site"]
    assert "nurse1" in listing and "images_known" not in listing
    assert _admin(settings, "audit", "--since", "2030-01-01", "--format", "json") == 0
    assert json.loads(capsys.readouterr().out) == []


def test_since_reads_dates_times_and_spans() -> None:
    assert parse_since("2026-11-25") == 1795564800
    assert parse_since("2026-11-25T10:30Z") == 1795564800 + 37800
    assert parse_since("7d", now=1_000_000) == 1_000_000 - 7 * 86400
    assert parse_since("30m", now=1_000_000) == 1_000_000 - 1800


def test_a_bad_since_is_a_plain_error(settings, service, capsys) -> None:
    assert _admin(settings, "audit", "--since", "last tuesday") == 1
    assert "--since" in capsys.readouterr().err


@pytest.mark.parametrize(("command", "extra"), [("lock-user", ["--minutes", "5"]),
                                                ("disable-user", [])])
def test_account_commands_end_sessions_at_once(live, service, settings, capsys, command,
                                               extra) -> None:
    holder = signed_in(live.url, "imager1")
    assert holder.get("/api/v1/summary").status_code == 200
    assert _admin(settings, command, "imager1", *extra) == 0
    assert "sessions have ended" in capsys.readouterr().out
    assert holder.get("/api/v1/summary").status_code == 401
    assert Api(live.url).sign_in("imager1").status_code in (403, 423)
    undo = "unlock-user" if command == "lock-user" else "enable-user"
    assert _admin(settings, undo, "imager1") == 0
    assert Api(live.url).sign_in("imager1").status_code == 200
    assert _admin(settings, command, "nobody", *extra) == 1
    assert "no user called nobody" in capsys.readouterr().err


def test_set_site_remembers_and_forgets_the_hospital_pattern(service, settings, capsys) -> None:
    assert _admin(settings, "set-site", "rsh", "--hospital-pattern", r"^RR\d{8}$") == 0
    assert hospital_pattern(service.db, "RSH") == r"^RR\d{8}$"
    assert _admin(settings, "set-site", "RSH", "--hospital-pattern", "RR(") == 1
    assert "not a valid regular expression" in capsys.readouterr().err
    assert _admin(settings, "set-site", "RSH", "--hospital-pattern", "") == 0
    assert hospital_pattern(service.db, "RSH") is None
