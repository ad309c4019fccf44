"""``nccid deid``: summary, audit file, quarantine, errors; in-process and as a real command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pydicom import dcmread

from nccid_desktop.cli import main
from nccid_desktop.pseudonym import pseudonym_for
from tests.dicom import builders

NCCID = Path(sys.executable).with_name("nccid")
PATIENT = builders.PATIENT


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """A PACS export named after the patient: two CT slices, a secondary capture, a note."""
    root = tmp_path / "FAKENHAM^JOSEPHINE RR12345678"
    for instance in (1, 2):
        ds = builders.ct_slice(instance=instance)
        builders.add_private_tags(ds)
        builders.add_nested_sequences(ds)
        builders.write(ds, root / "CT" / f"IM{instance:04d}")
    builders.write(builders.secondary_capture(), root / "SC" / "IM0001")
    (root / "notes.txt").write_text("Patient FAKENHAM, ward 3\n")
    return root


def run_json(capsys, *args: str) -> tuple[int, dict]:
    code = main(["deid", *args, "--format", "json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_json_summary_counts_and_stages_verified_files(export, tmp_path, key_file, site_keys,
                                                       capsys):
    out_dir = tmp_path / "run" / "staging"
    code, summary = run_json(capsys, str(export), "--out", str(out_dir), "--key-file",
                             str(key_file), "--site", "rsh", "--workers", "1")
    assert code == 0
    assert summary["deidentified"] == 2
    assert summary["quarantined"] == 1
    assert summary["quarantined_by_reason"] == {"secondary_capture": 1}
    assert summary["skipped"] == 1 and summary["failed"] == 0
    assert summary["patients"] == 1 and not summary["cancelled"]
    pseudonym = pseudonym_for(site_keys, hospital_number=PATIENT.hospital_number)
    staged = sorted(out_dir.iterdir())
    assert len(staged) == 2 and all(dcmread(p).PatientID == pseudonym for p in staged)
    assert Path(summary["quarantine"]) == tmp_path / "run" / "quarantine"
    assert len(list((tmp_path / "run" / "quarantine" / "secondary_capture").glob("*.dcm"))) == 1


def test_audit_file_beside_staging_has_counts_and_no_identifier_or_path(
        export, tmp_path, key_file, capsys):
    out_dir = tmp_path / "run" / "staging"
    _, summary = run_json(capsys, str(export), "--out", str(out_dir), "--key-file",
                          str(key_file), "--site", "RSH", "--workers", "1")
    audit_path = Path(summary["audit"])
    assert audit_path.parent == tmp_path / "run"
    assert audit_path.name.startswith("nccid-deid-audit-")
    text = audit_path.read_text()
    for forbidden in ("FAKENHAM", PATIENT.hospital_number, str(export), "notes.txt",
                      builders.UID_ROOT):
        assert forbidden not in text
    audit = json.loads(text)
    assert audit["format"] == "nccid-deid-audit" and audit["site"] == "RSH"
    assert audit["counts"] == {"deidentified": 2, "quarantined": 1, "unreadable": 1,
                               "failed": 0, "refused": 0, "duplicate": 0, "held_back": 0}
    keys = [entry["key"] for entry in audit["files"]]
    assert sum(k.startswith("2.25.") for k in keys) == 2
    assert sum(k.startswith("sha256:") for k in keys) == 2


def test_explicit_audit_and_quarantine_paths(export, tmp_path, key_file, capsys):
    audit = tmp_path / "logs" / "audit.json"
    code, summary = run_json(capsys, str(export), "--out", str(tmp_path / "s"), "--key-file",
                             str(key_file), "--site", "RSH", "--audit", str(audit),
                             "--quarantine", str(tmp_path / "q"), "--workers", "2")
    assert code == 0 and Path(summary["audit"]) == audit and audit.exists()
    assert (tmp_path / "q" / "secondary_capture").is_dir()


def test_text_summary_explains_quarantine_reasons(export, tmp_path, key_file, capsys):
    code = main(["deid", str(export), "--out", str(tmp_path / "s"), "--key-file",
                 str(key_file), "--site", "RSH", "--workers", "1"])
    out = capsys.readouterr().out
    assert code == 0
    assert "2 files de-identified for 1 patients" in out
    assert "1 x secondary_capture: The image is a secondary capture" in out
    assert "1 files skipped (not DICOM or unreadable)" in out


def test_wrong_site_and_missing_folder_are_plain_errors_of_bad_input(export, tmp_path, key_file, capsys):
    code = main(["deid", str(export), "--out", str(tmp_path / "s"), "--key-file",
                 str(key_file), "--site", "XYZ"])
    err = capsys.readouterr().err
    assert code == 2 and "belongs to site RSH, not XYZ" in err and "Traceback" not in err
    code = main(["deid", str(tmp_path / "nowhere"), "--out", str(tmp_path / "s"),
                 "--key-file", str(key_file), "--site", "RSH"])
    assert code == 2 and "Not found" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    code = main(["deid", str(empty), "--out", str(tmp_path / "s"), "--key-file",
                 str(key_file), "--site", "RSH"])
    assert code == 2 and "No files were found" in capsys.readouterr().err


def test_real_command_in_a_subprocess(export, tmp_path, key_file):
    out_dir = tmp_path / "staging"
    result = subprocess.run(
        [str(NCCID), "deid", str(export), "--out", str(out_dir), "--key-file", str(key_file),
         "--site", "RSH", "--format", "json"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["deidentified"] == 2
    assert len(list(out_dir.glob("2.25.*.dcm"))) == 2
    assert "FAKENHAM" not in result.stdout + result.stderr
