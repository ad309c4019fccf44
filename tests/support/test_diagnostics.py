"""The diagnostics bundle: what support needs is there; identifiers, keys and passwords are not."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from nccid_desktop import config
from nccid_desktop.cli import main
from nccid_desktop.diagnostics import redact, save_diagnostics
from nccid_desktop.logsafe import configure_logging, register_sensitive
from nccid_desktop.paths import user_data_dir, user_log_dir
from nccid_desktop.sheets.definitions import STATUS
from nccid_desktop.sheets.payload import build_envelopes
from nccid_desktop.sheets.validator import validate_workbook
from nccid_desktop.tasks import CancelToken
from nccid_desktop.transport.outbox import Outbox
from tests.sheets.builders import save_workbook, status_row
from tests.support.planted import (
    BIRTH_DATE,
    HOSPITAL_NUMBER,
    NHS_NUMBER,
    PATIENT_NAME,
    PROXY_PASSWORD,
    USER_PASSWORD,
    leaks_in_zip,
    planted_values,
    secret_spellings,
)

ROOT = Path(__file__).resolve().parents[2]


def _fill_queues(tmp_path: Path, site_keys) -> None:
    sheet = save_workbook(tmp_path / "s.xlsx", STATUS, [status_row(s) for s in range(1, 5)])
    envelopes = build_envelopes(validate_workbook(sheet), site_keys)
    cli_outbox = Outbox()
    for envelope in envelopes:
        cli_outbox.stage_record(envelope)
    batch = cli_outbox.next_batch("record", 2)
    assert batch is not None
    cli_outbox.acknowledge([batch.items[0].id])
    cli_outbox.fail(batch.items[1].id, f"refused for {NHS_NUMBER}")
    cli_outbox.close()
    gui_outbox = Outbox(user_data_dir() / "demo" / "outbox")
    image = tmp_path / "image.dcm"
    image.write_bytes(b"DICM" * 100)
    gui_outbox.stage_image("2.25.1234", envelopes[0].pseudonym, image)
    gui_outbox.close()


def _plant_log_lines(site_keys) -> None:
    """Lines from the app's logger, and raw lines an older, careless build might have left."""
    configure_logging(user_log_dir())
    register_sensitive(PATIENT_NAME, HOSPITAL_NUMBER)
    logging.getLogger("nccid_desktop.test").warning("row for %s %s born %s", PATIENT_NAME,
                                                     HOSPITAL_NUMBER, BIRTH_DATE)
    raw = [f"2026-11-25 WARNING old: NHS {NHS_NUMBER[:3]} {NHS_NUMBER[3:6]} {NHS_NUMBER[6:]}",
           f"2026-11-25 WARNING old: {PATIENT_NAME} {HOSPITAL_NUMBER} dob {BIRTH_DATE}",
           f"2026-11-25 DEBUG old: password={USER_PASSWORD} via http://ops:{PROXY_PASSWORD}@proxy:3128",
           *(f"2026-11-25 DEBUG old: key {spelling}" for spelling in secret_spellings(site_keys.secret)),
           "2026-11-25 DEBUG old: Authorization: Bearer tok.en-value_123",
           "2026-11-25 INFO nccid_desktop.transport: batch sent"]
    with (user_log_dir() / "nccid-desktop.log").open("a", encoding="utf-8") as handle:
        handle.write("\n".join(raw) + "\n")


@pytest.fixture
def planted(tmp_path, monkeypatch, site_keys):
    monkeypatch.setenv("NCCID_PASSWORD", USER_PASSWORD)
    policy = tmp_path / "policy.toml"
    policy.write_text('server_url = "https://nccid.example.nhs.uk"\nlocked = ["server_url"]\n')
    monkeypatch.setenv("NCCID_POLICY_FILE", str(policy))
    config.save_user_settings({"proxy": f"http://ops:{PROXY_PASSWORD}@proxy.trust.nhs.uk:3128",
                               "username": "nurse1"})
    _fill_queues(tmp_path, site_keys)
    _plant_log_lines(site_keys)
    return planted_values(site_keys.secret)


def _read(bundle: Path) -> dict[str, str]:
    with zipfile.ZipFile(bundle) as archive:
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist()}


def test_the_bundle_holds_versions_configuration_queue_and_log(planted, tmp_path):
    bundle = save_diagnostics(tmp_path / "diag.zip")
    parts = _read(bundle)
    assert set(parts) == {"README.txt", "versions.json", "configuration.txt", "configuration.json",
                          "folders.json", "queue.json", "recent-log.txt", "created.txt"}
    versions = json.loads(parts["versions.json"])
    assert versions["nccid-desktop"] and versions["pydicom"].startswith("3.")
    assert versions["PySide6-Essentials"] != "not installed" and versions["os"]
    settings = {s["name"]: s for s in json.loads(parts["configuration.json"])["settings"]}
    assert (settings["server_url"]["source"], settings["server_url"]["locked"]) == ("policy", True)
    assert settings["proxy"]["value"] == "http://***@proxy.trust.nhs.uk:3128"
    assert settings["proxy"]["source"] == "user"
    table = [line.split() for line in parts["configuration.txt"].splitlines()]
    assert ["server_url", "https://nccid.example.nhs.uk", "policy,", "locked"] in table
    assert json.loads(parts["queue.json"]) == {
        "outbox": {"items": {"record acknowledged": 1, "record failed": 1, "record staged": 2},
                   "pending_bytes": json.loads(parts["queue.json"])["outbox"]["pending_bytes"]},
        "demo/outbox": {"items": {"image staged": 1}, "pending_bytes": 400}}
    assert json.loads(parts["queue.json"])["outbox"]["pending_bytes"] > 0
    assert "nccid_desktop.transport: batch sent" in parts["recent-log.txt"]
    assert "[redacted]" in parts["recent-log.txt"]


def test_no_identifier_key_or_password_reaches_the_bundle(planted, tmp_path):
    bundle = save_diagnostics(tmp_path / "diag.zip")
    assert leaks_in_zip(bundle, planted) == {}
    log_text = (user_log_dir() / "nccid-desktop.log").read_text()
    assert HOSPITAL_NUMBER in log_text and PROXY_PASSWORD in log_text  # planted raw: it can fail


def test_a_broken_policy_is_reported_inside_the_bundle(tmp_path, monkeypatch):
    policy = tmp_path / "policy.toml"
    policy.write_text('site = "RSH"\nlinking = "pacs"\n')
    monkeypatch.setenv("NCCID_POLICY_FILE", str(policy))
    parts = _read(save_diagnostics(tmp_path / "diag.zip"))
    assert parts["configuration.txt"].startswith("The settings could not be read: The machine "
                                                 f"policy file {policy}, line 2")
    assert json.loads(parts["queue.json"]) == {}


def test_redact_masks_secret_shapes_and_keeps_ordinary_text():
    assert redact("Authorization: Bearer abc.DEF-123") == "Authorization: [redacted] [redacted]"
    assert redact("token = xyz123") == "token = [redacted]"
    assert redact("uid 2.25.12345 sent in batch 4f3c") == "uid 2.25.12345 sent in batch 4f3c"


def test_saving_reports_progress_honours_cancel_and_explains_a_missing_folder(tmp_path):
    from nccid_desktop.errors import CancelledError, NccidError

    seen = []
    save_diagnostics(tmp_path / "d.zip", progress=seen.append)
    assert seen[-1].done == seen[-1].total and seen[-1].message == "Diagnostics saved"
    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        save_diagnostics(tmp_path / "c.zip", cancel=token)
    assert not (tmp_path / "c.zip").exists() and not (tmp_path / "c.zip.part").exists()
    with pytest.raises(NccidError, match="does not exist"):
        save_diagnostics(tmp_path / "absent" / "d.zip")


def test_cli_saves_the_bundle_in_process_and_installed(planted, tmp_path, capsys):
    assert main(["diagnostics", "-o", str(tmp_path / "support")]) == 0
    assert capsys.readouterr().out.startswith(f"Diagnostics saved to {tmp_path / 'support.zip'}")
    assert leaks_in_zip(tmp_path / "support.zip", planted) == {}
    env = {**os.environ}
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "nccid"), "diagnostics", "-o",
                           str(tmp_path / "installed.zip")], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "queue.json" in _read(tmp_path / "installed.zip")
    leaks = leaks_in_zip(tmp_path / "installed.zip", planted)
    # a fresh process has not registered the planted name and hospital number: only the
    # shapes it can recognise are masked there, which is why the app registers them per row
    assert set(leaks.get("recent-log.txt", [])) <= {"Quillfeather", "Ottoline", HOSPITAL_NUMBER}
    assert {k: v for k, v in leaks.items() if k != "recent-log.txt"} == {}
