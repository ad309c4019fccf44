"""Retention purges and the data controller's linkage export, against the real service (HTTP
uploads, then the administration commands in-process), on both databases and storage back ends."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import select

from nccid_collector.cli import main
from nccid_collector.db import audit, clinical_records, images
from nccid_collector.retention import purge
from nccid_desktop.keys import generate_site_keys
from nccid_desktop.pseudonym import pseudonym_for
from tests.collector.client import signed_in
from tests.collector.payloads import batch, dicom_file, envelope, stow_body
from tests.collector.service_setup import TEST_DATA, keys_of
from tests.conftest import VALID_NHS_NUMBERS

CONTROLLER_KEY = TEST_DATA / "controller-test-key.pem"


def _admin(settings, *args: str) -> int:
    storage = ["--storage", settings.storage] if settings.storage else []
    return main([*args, "--data", str(settings.data_dir), "--db", settings.database_url,
                 *storage])


def _upload(live, tmp_path: Path, hospital: str, nhs: str | None = None) -> str:
    keys = keys_of(live.service, "RSH")
    nurse, imager = signed_in(live.url, "nurse1"), signed_in(live.url, "imager1")
    answer = nurse.post("/api/v1/clinical/batches",
                        json=batch(envelope(keys, hospital, nhs=nhs))).json()
    assert answer["results"][0]["status"] == "stored"
    pseudonym = pseudonym_for(keys, hospital_number=hospital)
    body, headers = stow_body([dicom_file(tmp_path / f"{hospital}.dcm", pseudonym).read_bytes()])
    assert imager.post("/dicom-web/studies", data=body, headers=headers).status_code == 200
    return pseudonym


def _actions(service) -> list[tuple[str, str]]:
    with service.db.connect() as conn:
        return [(r.action, r.outcome) for r in conn.execute(select(audit)).all()]


def test_purge_removes_only_days_past_the_retention_and_a_dry_run_removes_nothing(
        live, clock, tmp_path, warehouse) -> None:
    service = live.service
    old = _upload(live, tmp_path, "RR50000001")
    clock.advance(days=30)
    new = _upload(live, tmp_path, "RR50000002")
    before = warehouse.contents()
    dry = purge(service.db, service.store, service.settings, older_than=10, dry_run=True,
                username="cli:test")
    assert (dry.records, dry.images, dry.files, dry.cutoff) == (1, 1, 2, "2026-12-15")
    assert warehouse.contents() == before
    done = purge(service.db, service.store, service.settings, older_than=10, dry_run=False,
                 username="cli:test")
    assert (done.records, done.images, done.files) == (1, 1, 2)
    left = warehouse.contents()
    assert {k: v for k, v in before.items() if k in left} == left
    assert sorted(left) == sorted(k for k in before if not k.startswith("raw-RSH/2026-11-25/"))
    with service.db.connect() as conn:
        assert set(conn.execute(select(clinical_records.c.pseudonym)).scalars()) == {new}
        assert set(conn.execute(select(images.c.pseudonym)).scalars()) == {new}
    assert old not in str(left)
    assert ("purge", "dry_run") in _actions(service) and ("purge", "ok") in _actions(service)


def test_purge_and_retention_from_the_command_line_and_in_the_summary(
        live, settings, tmp_path, capsys, warehouse) -> None:
    _upload(live, tmp_path, "RR51000001")
    assert _admin(settings, "purge", "--dry-run") != 0  # no retention set, none given
    assert "No retention period is set" in capsys.readouterr().err
    assert _admin(settings, "set-retention", "1") == 0
    summary = signed_in(live.url, "nurse1").get("/api/v1/summary").json()
    assert summary["retention_days"] == 1
    capsys.readouterr()
    # the command runs on the real clock, so the test clock's uploads are days old
    assert _admin(settings, "purge", "--dry-run") == 0
    out = capsys.readouterr().out
    assert "Retention in force: 1 days." in out and "Would remove" in out
    assert "1 record versions, 1 images, 2 files" in out
    assert len(warehouse.keys()) == 2
    assert _admin(settings, "purge") == 0
    assert "Removed everything" in capsys.readouterr().out
    assert warehouse.keys() == []


def test_linkage_export_round_trip_with_the_controller_key_and_after_a_rotation(
        live, settings, tmp_path, capsys) -> None:
    first = _upload(live, tmp_path, "RR52000001", nhs=VALID_NHS_NUMBERS[0])
    _upload(live, tmp_path, "RR52000002")  # no NHS/CHI number, no token: not in the export
    out = tmp_path / "linkage.csv"
    assert _admin(settings, "linkage", "export", "--private-key", str(CONTROLLER_KEY),
                  "--site", "RSH", "-o", str(out)) == 0
    rows = list(csv.reader(out.open()))
    assert rows == [["pseudonym", "nhs_or_chi_number", "site"],
                    [first, VALID_NHS_NUMBERS[0], "RSH"]]
    assert out.stat().st_mode & 0o077 == 0
    # a wrong key is a plain error and writes nothing
    _, wrong_pem = generate_site_keys("RSH")
    wrong = tmp_path / "wrong.pem"
    wrong.write_bytes(wrong_pem)
    out.unlink()
    capsys.readouterr()
    assert _admin(settings, "linkage", "export", "--private-key", str(wrong), "--site", "RSH",
                  "-o", str(out)) != 0
    error = capsys.readouterr().err
    assert "not the data controller's key" in error and "Traceback" not in error
    assert not out.exists()
    # rotation: a new public key for sites; new tokens need the new key, old ones the old key
    new_keys, new_private = generate_site_keys("RSH")
    (tmp_path / "new.pub.pem").write_bytes(new_keys.controller_public_key)
    (tmp_path / "new.pem").write_bytes(new_private)
    assert _admin(settings, "set-controller-key", str(tmp_path / "new.pub.pem")) == 0
    second = _upload(live, tmp_path, "RR52000003", nhs=VALID_NHS_NUMBERS[1])
    assert _admin(settings, "linkage", "export", "--private-key", str(tmp_path / "new.pem"),
                  "--site", "RSH", "-o", str(out)) == 1
    assert "1 records have tokens none of these keys opens" in capsys.readouterr().out
    assert [r[0] for r in csv.reader(out.open())][1:] == [second]
    assert _admin(settings, "linkage", "export", "--private-key", str(tmp_path / "new.pem"),
                  "--private-key", str(CONTROLLER_KEY), "--site", "RSH", "-o", str(out)) == 0
    assert sorted(r[0] for r in list(csv.reader(out.open()))[1:]) == sorted([first, second])
    assert ("linkage_export", "ok") in _actions(live.service)
    assert ("linkage_export", "wrong_key") in _actions(live.service)
    assert ("controller_key_set", "ok") in _actions(live.service)
    text = (settings.data_dir / "logs").exists() and "".join(
        p.read_text() for p in (settings.data_dir / "logs").glob("*"))
    assert not text or VALID_NHS_NUMBERS[0] not in text
