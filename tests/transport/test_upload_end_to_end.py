"""End to end over real HTTP: sheet and PACS folder in, warehouse raw layout out, via the CLI."""

from __future__ import annotations

import json
import os
import re
import subprocess
from datetime import datetime
from pathlib import Path

import pydicom
import pytest

from nccid_desktop.cli import main
from nccid_desktop.paths import user_data_dir, user_log_dir
from nccid_desktop.pseudonym import pseudonym_for
from nccid_desktop.sheets.definitions import STATUS
from nccid_desktop.transport.client import CollectorClient
from tests.dicom.builders import Patient, ct_slice, mr_image, write
from tests.sheets.builders import hospital_number, nhs_number, save_workbook, status_row
from tests.transport.collector_fixture import RunningCollector

ROOT = Path(__file__).resolve().parents[2]
SEEDS = range(1, 6)
IMAGED = (1, 2)
#: Swab dates: the negatives' images (2020-11-03) fall in the four weeks before the first.
NEAR_THE_IMAGES, MONTHS_BEFORE = datetime(2020, 11, 5), datetime(2020, 4, 1)


@pytest.fixture
def signed_env(collector: RunningCollector, monkeypatch: pytest.MonkeyPatch) -> RunningCollector:
    monkeypatch.setenv("NCCID_SERVER", collector.url)
    monkeypatch.setenv("NCCID_USER", collector.account.username)
    monkeypatch.setenv("NCCID_PASSWORD", collector.account.password)
    return collector


def _patient(seed: int) -> Patient:
    return Patient(hospital_number=hospital_number(seed), nhs_number=nhs_number(seed),
                   name=f"PLANTEDNAME{seed}^TEST")


def _ct(folder: Path, seed: int, slices: int) -> None:
    for instance in range(1, slices + 1):
        write(ct_slice(instance=instance, patient=_patient(seed), series=seed),
              folder / f"PLANTEDNAME{seed}" / f"IM{instance}.dcm")


def _pacs_export(folder: Path) -> None:
    for seed in IMAGED:
        _ct(folder, seed, 3)


def _sheet(path: Path, seeds, swab: datetime = NEAR_THE_IMAGES) -> Path:
    return save_workbook(path, STATUS, [status_row(s, SwabDate=swab) for s in seeds])


def test_sheet_and_images_arrive_in_the_raw_layout_and_meet(tmp_path: Path, signed_env, capsys) -> None:
    collector = signed_env
    sheet = _sheet(tmp_path / "status.xlsx", SEEDS)
    assert main(["upload", "sheet", str(sheet)]) == 0
    assert "5 stored" in capsys.readouterr().out
    records = collector.raw_files("data")
    assert len(records) == 5 and all(p.name.endswith("_status.json") for p in records)

    _pacs_export(tmp_path / "pacs")
    assert main(["upload", "images", str(tmp_path / "pacs")]) == 0
    assert "6 stored" in capsys.readouterr().out
    client = CollectorClient(collector.url)
    client.sign_in(collector.account.username, collector.account.password)
    keys = client.site_keys()
    record_pseudonyms = {json.loads(p.read_text())["Pseudonym"] for p in records}
    images = collector.raw_files("images")
    assert len(images) == 6
    for path in images:
        ds = pydicom.dcmread(path)
        assert ds.PatientID in record_pseudonyms
        assert ds.PatientID in {pseudonym_for(keys, hospital_number=hospital_number(s)) for s in IMAGED}
        assert ds.PatientIdentityRemoved == "YES"

    assert main(["upload", "sheet", str(sheet)]) == 0, "sending the same sheet again is harmless"
    assert "0 stored, 5 already up to date" in capsys.readouterr().out
    assert len(collector.raw_files("data")) == 5

    assert main(["check", nhs_number(1), nhs_number(4), "1234567890"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    uk_date = re.compile(r"status received \d{1,2} [A-Z][a-z]{2} 20\d\d;")  # "3 Dec 2026"
    assert uk_date.search(lines[0]) and "1 study, 3 images" in lines[0]
    assert uk_date.search(lines[1]) and "0 studies, 0 images" in lines[1]
    assert "not a valid NHS/CHI number" in lines[2]
    assert nhs_number(1) not in out, "the checker never echoes a number"

    assert main(["summary"]) == 0
    out = capsys.readouterr().out
    assert "5 with a status" in out and "6 images" in out
    _assert_nothing_identifying_on_the_workstation()


def test_upload_images_selects_by_the_services_and_the_sheets_test_dates(
        tmp_path: Path, signed_env, capsys) -> None:
    collector = signed_env
    assert main(["upload", "sheet", str(_sheet(tmp_path / "near.xlsx", (1, 2)))]) == 0
    assert main(["upload", "sheet", str(_sheet(tmp_path / "far.xlsx", (4,), MONTHS_BEFORE))]) == 0
    pacs = tmp_path / "pacs"
    _ct(pacs, 1, 3)
    write(mr_image(patient=_patient(1)), pacs / "PLANTEDNAME1" / "MR1.dcm")
    _ct(pacs, 2, 2)
    _ct(pacs, 4, 2)  # the service's record says: tested months before these images
    _ct(pacs, 6, 4)  # no clinical record anywhere
    _ct(pacs, 7, 2)  # its record is only in a sheet not yet uploaded
    capsys.readouterr()
    assert main(["upload", "images", str(pacs)]) == 0
    out = capsys.readouterr().out
    assert "Selected 2 series (5 images) to send." in out
    assert "Left out 4 series:" in out
    assert "  2 series (6 images): Not linked to a clinical record" in out
    assert "  1 series (1 image): Not a chest X-ray (CR/DX) or CT" in out
    assert "  1 series (2 images): Outside the date window" in out
    assert "Images: 5 stored" in out and "Records:" not in out
    assert len(collector.raw_files("images")) == 5

    later = _sheet(tmp_path / "later.xlsx", (7,))
    assert main(["upload", "images", str(pacs), "--sheet", str(later)]) == 0
    out = capsys.readouterr().out
    assert "Selected 1 series (2 images) to send." in out
    assert "  2 series (5 images): Already uploaded" in out
    assert "  1 series (4 images): Not linked to a clinical record" in out
    assert len(collector.raw_files("images")) == 7
    assert main(["upload", "images", str(pacs), "--sheet", str(later)]) == 0
    assert "No images to send." in capsys.readouterr().out
    assert len(collector.raw_files("images")) == 7
    assert len(collector.raw_files("data")) == 3, "--sheet only chooses images; it sends no record"
    _assert_nothing_identifying_on_the_workstation(seeds=(1, 2, 4, 6, 7))


def test_a_queued_image_is_not_sent_by_a_sheet_upload(tmp_path: Path, signed_env, capsys) -> None:
    from nccid_desktop.transport.outbox import Outbox
    from tests.transport.payloads import write_instances

    client = CollectorClient(signed_env.url)
    client.sign_in(signed_env.account.username, signed_env.account.password)
    outbox = Outbox()
    for uid, path in write_instances(tmp_path / "queued", client.site_keys(), 2).items():
        outbox.stage_image(uid, "", path)
    outbox.close()
    assert main(["upload", "sheet", str(_sheet(tmp_path / "s.xlsx", (1,)))]) == 0
    assert "Images:" not in capsys.readouterr().out
    assert signed_env.raw_files("images") == [] and len(signed_env.raw_files("data")) == 1
    assert main(["resume"]) == 0
    assert "Images: 2 stored" in capsys.readouterr().out


def _assert_nothing_identifying_on_the_workstation(seeds=SEEDS) -> None:
    planted = [nhs_number(s) for s in seeds] + [hospital_number(s) for s in seeds] + ["PLANTEDNAME"]
    for folder in (user_data_dir(), user_log_dir()):
        for path in folder.rglob("*"):
            if path.is_file() and "quarantine" not in path.parts:
                data = path.read_bytes()
                for value in planted:
                    assert value.encode() not in data, f"{value!r} found in {path.name}"


def test_wrong_password_is_a_plain_message(signed_env, monkeypatch, capsys) -> None:
    monkeypatch.setenv("NCCID_PASSWORD", "not-the-password")
    assert main(["summary"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("nccid: ") and "password" in err
    assert "Traceback" not in err


def test_server_down_is_a_plain_message(monkeypatch, capsys) -> None:
    monkeypatch.setenv("NCCID_SERVER", "http://127.0.0.1:9")
    monkeypatch.setenv("NCCID_USER", "demo")
    monkeypatch.setenv("NCCID_PASSWORD", "x")
    monkeypatch.setattr("nccid_desktop.transport.http.HttpSettings.max_attempts", 1)
    assert main(["summary"]) == 1
    assert "Cannot reach the collection service" in capsys.readouterr().err


def test_resume_with_nothing_waiting(capsys) -> None:
    assert main(["resume"]) == 0
    assert "Nothing is waiting" in capsys.readouterr().out


def test_the_installed_command_signs_in_and_summarises(signed_env) -> None:
    result = subprocess.run([str(ROOT / ".venv/bin/nccid"), "summary"], capture_output=True,
                            text=True, timeout=120, env=dict(os.environ))
    assert result.returncode == 0, result.stderr
    assert "Royal Surrey" in result.stdout
