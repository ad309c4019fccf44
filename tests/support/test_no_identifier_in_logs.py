"""Identifiers planted in every flow never reach the log folder (nor the upload journal).

Each flow runs as the installed ``nccid`` command in its own process, as at a workstation: a
sheet validated and pseudonymised, DICOM scanned and de-identified from a folder named after
the patient (name, birth date, hospital and NHS numbers in the headers), both uploaded to the
real collection service, the NHS/CHI checker, the doctor signing in, diagnostics saved. Then
every file in the log folder, and the journal, is searched for every spelling of every value.
"""

from __future__ import annotations

import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from nccid_desktop.sheets.definitions import MAIN, STATUS
from tests.dicom.builders import Patient, ct_slice, secondary_capture, write
from tests.sheets.builders import HOSPITAL, NHS, main_row, save_workbook, status_row
from tests.support.planted import (
    BIRTH_DATE,
    GIVEN,
    HOSPITAL_NUMBER,
    NHS_NUMBER,
    SURNAME,
    leaks_in_folder,
    leaks_in_zip,
    planted_values,
)

ROOT = Path(__file__).resolve().parents[2]
NCCID = str(ROOT / ".venv" / "bin" / "nccid")
PATIENT = Patient(hospital_number=HOSPITAL_NUMBER, nhs_number=NHS_NUMBER,
                  name=f"{SURNAME.upper()}^{GIVEN.upper()}", birth_date="19580714")
WRONG_CHECK_DIGIT = NHS_NUMBER[:-1] + str((int(NHS_NUMBER[-1]) + 1) % 10)


def _sheets(folder: Path) -> tuple[Path, Path, Path]:
    planted = {NHS: NHS_NUMBER, HOSPITAL: HOSPITAL_NUMBER}
    clean = save_workbook(folder / f"{SURNAME} main.xlsx", MAIN, [main_row(1, **planted)])
    broken = save_workbook(folder / "main with problems.xlsx", MAIN, [
        main_row(2, **{NHS: WRONG_CHECK_DIGIT, HOSPITAL: HOSPITAL_NUMBER}),
        main_row(3, **{NHS: NHS_NUMBER, "Date of admission": BIRTH_DATE + " (dob)"})])
    status = save_workbook(folder / "status.xlsx", STATUS, [status_row(1, **planted)])
    return clean, broken, status


def _images(folder: Path) -> Path:
    """A PACS export in a folder named after the patient, one file a burned-in-text risk."""
    patient_folder = folder / f"{SURNAME} {GIVEN} {HOSPITAL_NUMBER}"
    for instance in range(1, 4):
        write(ct_slice(instance=instance, patient=PATIENT),
              patient_folder / f"{SURNAME}_{instance}.dcm")
    write(secondary_capture(patient=PATIENT), patient_folder / f"{SURNAME}_screen.dcm")
    (patient_folder / f"{SURNAME} notes.dcm").write_bytes(b"not DICOM " + NHS_NUMBER.encode())
    whole = write(ct_slice(instance=9, patient=PATIENT), patient_folder / f"{NHS_NUMBER}.dcm")
    truncated = patient_folder / f"{SURNAME} {BIRTH_DATE.replace('/', '-')} cut.dcm"
    truncated.write_bytes(whole.read_bytes()[:900])
    return patient_folder


@pytest.fixture(scope="module")
def flows(tmp_path_factory, service, key_file):
    """Run every flow once; return the home folder, the outputs and what each command said."""
    work = tmp_path_factory.mktemp("flows")
    home = work / "home"
    clean, broken, status = _sheets(work)
    images = _images(work / "pacs export")
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env |= {"NCCID_HOME": str(home), "NCCID_POLICY_FILE": str(work / "no-policy.toml"),
            "NCCID_SERVER": service.url, "NCCID_USER": service.account.username,
            "NCCID_PASSWORD": service.account.password}
    keys = ["--key-file", str(key_file), "--site", "RSH"]
    opt_outs = work / f"{SURNAME} opt-outs.txt"
    opt_outs.write_text(f"{NHS_NUMBER}\n")
    bad_opt_outs = work / "opt-outs with a typo.txt"
    bad_opt_outs.write_text(f"{WRONG_CHECK_DIGIT}\n{HOSPITAL_NUMBER}\n")
    commands = {
        "validate clean": ["validate", str(clean)],
        "validate broken": ["validate", str(broken), "--format", "json",
                            "--annotate", str(work / "annotated.xlsx")],
        "pseudonymise": ["pseudonymise", str(clean), *keys, "--out", str(work / "records")],
        "scan": ["scan", str(images.parent)],
        "deid": ["deid", str(images.parent), *keys, "--out", str(work / "deid")],
        # the negative status first: a patient held as positive and then sent as negative is
        # an error of meaning (issue 14), the other order only a warning
        "upload status": ["upload", "sheet", str(status)],
        "upload sheet": ["upload", "sheet", str(clean)],
        "upload images": ["upload", "images", str(images)],
        "check": ["check", NHS_NUMBER, WRONG_CHECK_DIGIT],
        "pseudonymise opted out": ["pseudonymise", str(status), *keys, "--out",
                                   str(work / "opted"), "--opt-out-list", str(opt_outs)],
        "bad opt-out list": ["upload", "sheet", str(status), "--opt-out-list",
                             str(bad_opt_outs)],
        "upload opted out": ["upload", "sheet", str(status), "--opt-out-list", str(opt_outs)],
        "scan opted out": ["scan", str(images.parent), *keys, "--sheet", str(status),
                           "--opt-out-list", str(opt_outs)],
        "upload images opted out": ["upload", "images", str(images), "--sheet", str(status),
                                    "--opt-out-list", str(opt_outs)],
        "images remove": ["images", "remove", "--study", str(images)],
        "withdraw": ["withdraw", NHS_NUMBER, "--reason", "opt-out", "--yes"],
        "upload after withdrawal": ["upload", "sheet", str(clean)],
        "doctor": ["doctor", "--sign-in", "--timeout", "5"],
        "diagnostics": ["diagnostics", "-o", str(work / "diagnostics.zip")],
    }
    said: dict = {}
    for name, arguments in commands.items():
        if name == "pseudonymise opted out":  # what was held before anything was taken back
            said["held before taking back"] = [p.name for p in service.raw_files("data")]
        done = subprocess.run([NCCID, *arguments], env=env, capture_output=True, text=True,
                              timeout=180)
        said[name] = done
    return home, work, said


def test_every_flow_ran_for_real(flows, service):
    _home, work, said = flows
    assert said["validate clean"].returncode == 0, said["validate clean"].stderr
    assert said["validate broken"].returncode == 1 and "\"error_count\": 2" in said["validate broken"].stdout
    assert said["pseudonymise"].returncode == 0, said["pseudonymise"].stderr
    assert said["scan"].returncode == 0, said["scan"].stderr
    assert said["deid"].returncode in (0, 1), said["deid"].stderr
    assert any((work / "deid").rglob("*.dcm"))
    for name in ("upload sheet", "upload status", "upload images"):
        assert said[name].returncode in (0, 1), (name, said[name].stdout, said[name].stderr)
        assert "Traceback" not in said[name].stderr
    assert "Records: 1 stored" in said["upload sheet"].stdout
    names = said["held before taking back"]
    assert any(n.endswith("_data.json") for n in names)
    assert any(n.endswith("_status.json") for n in names)
    assert "Images: 4 stored" in said["upload images"].stdout, said["upload images"].stdout
    assert said["check"].returncode in (0, 1, 2), said["check"].stderr
    assert said["doctor"].returncode == 0, said["doctor"].stdout
    assert "PASS  Sign-in" in said["doctor"].stdout
    assert said["diagnostics"].returncode == 0, said["diagnostics"].stderr
    # taking data back: opt-outs, study removal, withdrawal (none of them echoes a value)
    assert "1 patient has opted out" in said["pseudonymise opted out"].stdout
    assert said["bad opt-out list"].returncode != 0
    assert "lines 1, 2" in said["bad opt-out list"].stderr
    assert "1 patient has opted out" in said["upload opted out"].stdout
    assert "opted out" in said["scan opted out"].stdout
    assert "1 patient has opted out" in said["upload images opted out"].stdout
    assert said["images remove"].returncode == 0, said["images remove"].stderr
    assert said["withdraw"].returncode == 0, said["withdraw"].stderr
    assert "Withdrawn on" in said["withdraw"].stdout
    assert "withdrawn on" in said["upload after withdrawal"].stdout
    assert service.raw_files("data") == [] and service.raw_files("images") == []
    values = [*planted_values(), WRONG_CHECK_DIGIT]
    for name in ("pseudonymise opted out", "bad opt-out list", "upload opted out",
                 "upload images opted out", "withdraw", "upload after withdrawal",
                 "images remove"):
        assert not [v for v in values if v in said[name].stdout + said[name].stderr], name


def test_no_identifier_reaches_the_services_database_audit_or_logs(flows, service):
    """The service side of taking data back: its database (audit rows, tombstones), its
    warehouse and its logs hold keyed hashes and pseudonyms only."""
    values = [*planted_values(), WRONG_CHECK_DIGIT, PATIENT.name]
    assert leaks_in_folder(service.data_dir, values) == {}


def test_the_log_folder_recorded_the_flows(flows):
    home, _work, _said = flows
    text = "\n".join(p.read_text() for p in (home / "logs").glob("nccid-desktop.log*"))
    assert "doctor: Sign-in pass" in text
    assert "diagnostics saved" in text
    assert len(text.splitlines()) >= 10


def test_no_identifier_or_password_reaches_the_log_folder(flows, service):
    home, _work, _said = flows
    values = [*planted_values(), service.account.password, WRONG_CHECK_DIGIT,
              PATIENT.name, f"{SURNAME} {GIVEN}"]
    assert leaks_in_folder(home / "logs", values) == {}


def test_no_identifier_reaches_the_upload_journal_or_the_diagnostics(flows, service):
    home, work, _said = flows
    values = [*planted_values(), service.account.password, PATIENT.name]
    journals = [p for p in (home / "data").rglob("outbox.sqlite3*")]
    assert journals
    found = {str(p): [v for v in values if v.encode() in p.read_bytes()] for p in journals}
    assert {k: v for k, v in found.items() if v} == {}
    assert leaks_in_zip(work / "diagnostics.zip", values) == {}
    with zipfile.ZipFile(work / "diagnostics.zip") as bundle:
        assert "record acknowledged" in bundle.read("queue.json").decode()


def test_the_desktop_app_logs_to_the_per_user_log_folder(tmp_path):
    env = {**os.environ, "NCCID_HOME": str(tmp_path), "QT_QPA_PLATFORM": "offscreen",
           "NCCID_POLICY_FILE": str(tmp_path / "no-policy.toml")}
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "nccid-desktop"), "--self-test"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "logs" / "nccid-desktop.log").is_file()
