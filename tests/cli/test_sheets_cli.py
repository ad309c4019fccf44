"""``nccid template``, ``validate`` and ``pseudonymise``: every exit code, in process and real."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from nccid_desktop.cli import main
from nccid_desktop.pseudonym import pseudonym_for
from nccid_desktop.sheets.definitions import MAIN, STATUS
from tests.sheets.builders import (
    HOSPITAL,
    hospital_number,
    main_row,
    plain_workbook,
    row_values,
    save_workbook,
    status_row,
)

VENV_NCCID = Path(sys.executable).with_name("nccid")
TODAY = ["--today", "2026-11-25"]


def fill(template_path: Path, rows, template=MAIN) -> Path:
    """What a nurse does: open the blank template, type rows below the header, save."""
    workbook = load_workbook(template_path)
    for row in rows:
        workbook.worksheets[0].append(row_values(template, row))
    workbook.save(template_path)
    return template_path


def test_template_then_fill_then_validate_clean(tmp_path, capsys):
    path = tmp_path / "main.xlsx"
    assert main(["template", "main", "-o", str(path)]) == 0
    assert "Blank Main (PCR-positive) template v1.0 written to" in capsys.readouterr().out
    fill(path, [main_row(1), main_row(2)])
    assert main(["validate", str(path), *TODAY]) == 0
    out = capsys.readouterr().out
    assert "2 patient rows" in out and "No problems found" in out


def test_validate_errors_exit_1_and_json_shape(tmp_path, capsys):
    path = save_workbook(tmp_path / "status.xlsx", STATUS, [
        status_row(1), status_row(2, SwabStatus=3), status_row(3, SwabDate="01/01/2027")])
    assert main(["validate", str(path), "--format", "json", *TODAY]) == 1
    report = json.loads(capsys.readouterr().out)
    assert set(report) >= {"file", "template", "template_version", "rows", "errors", "warnings"}
    assert (report["template"], report["template_version"], report["rows"]) == ("status", "1.0",
                                                                                 3)
    assert [(e["cell"], e["code"]) for e in report["errors"]] == [("D3", "bad_code"),
                                                                  ("C4", "date_future")]
    assert set(report["errors"][0]) == {"row", "column", "header", "cell", "code", "message"}
    assert report["warnings"] == []


def test_validate_warnings_only_exit_0(tmp_path, capsys):
    path = save_workbook(tmp_path / "m.xlsx", MAIN, [main_row(1, **{HOSPITAL: "XX1"})])
    assert main(["validate", str(path), "--hospital-pattern", r"^RR\d{8}$", *TODAY]) == 0
    assert "1 warning" in capsys.readouterr().out


def test_validate_text_groups_by_column(tmp_path, capsys):
    path = save_workbook(tmp_path / "m.xlsx", MAIN, [main_row(i, Sex=5) for i in range(1, 4)])
    assert main(["validate", str(path), *TODAY]) == 1
    out = capsys.readouterr().out
    assert "Column E “Sex (Male = 1, Female = 0)”: 3 errors" in out
    assert "E2 (row 2)" in out and "E4 (row 4)" in out


@pytest.mark.parametrize("form", ["text", "json"])
def test_unreadable_file_exits_2(tmp_path, capsys, form):
    path = tmp_path / "status.xlsx"
    path.write_text("NHS/CHI Number,Hospital (Internal) Number\n")
    assert main(["validate", str(path), "--format", form]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    if form == "json":
        report = json.loads(captured.out)
        assert report["template"] is None and report["errors"][0]["code"] == "unreadable"
        assert "CSV" in report["errors"][0]["message"]
    else:
        assert captured.err.startswith("nccid: This is a CSV text file")


def test_wrong_template_exits_1_with_the_right_upload(tmp_path, capsys):
    path = save_workbook(tmp_path / "s.xlsx", STATUS, [status_row(1)])
    assert main(["validate", str(path), "--template", "main"]) == 1
    assert "This is the Covid Status sheet: use Upload Covid Status" in capsys.readouterr().out


def test_validate_annotate_writes_a_marked_copy(tmp_path, capsys):
    path = save_workbook(tmp_path / "m.xlsx", MAIN, [main_row(1, Age=300)])
    copy = tmp_path / "marked.xlsx"
    assert main(["validate", str(path), "--annotate", str(copy), *TODAY]) == 1
    assert f"Annotated copy written to {copy}" in capsys.readouterr().out
    assert load_workbook(copy)["Main"]["D2"].comment.text.startswith("Error: Age must be")


def test_pseudonymise_writes_warehouse_files(tmp_path, key_file, site_keys, capsys):
    path = save_workbook(tmp_path / "s.xlsx", STATUS, [status_row(1), status_row(2)])
    out = tmp_path / "records"
    assert main(["pseudonymise", str(path), "--key-file", str(key_file), "--site", "rsh",
                 "--out", str(out), "--centre", "Royal Sussex", *TODAY]) == 0
    assert "2 record file(s) written" in capsys.readouterr().out
    expected = pseudonym_for(site_keys, hospital_number=hospital_number(1))
    record = json.loads((out / f"{expected}_status.json").read_text())
    assert record["Pseudonym"] == expected and record["SubmittingCentre"] == "Royal Sussex"
    assert set(record) == {"SwabDate", "SwabStatus", "Pseudonym", "SubmittingCentre"}


def test_pseudonymise_refuses_errors_and_unconfirmed_warnings(tmp_path, key_file, capsys):
    out = tmp_path / "records"
    common = ["--key-file", str(key_file), "--site", "RSH", "--out", str(out), *TODAY]
    bad = save_workbook(tmp_path / "bad.xlsx", STATUS, [status_row(1), status_row(2,
                                                                                SwabStatus=9)])
    assert main(["pseudonymise", str(bad), *common]) == 1
    assert "Nothing was written: the sheet has 1 error(s)" in capsys.readouterr().err
    assert not out.exists()
    assert main(["pseudonymise", str(bad), *common, "--skip-invalid-rows"]) == 1
    assert "1 row(s) with errors left out" in capsys.readouterr().out
    assert len(list(out.iterdir())) == 1
    warned = save_workbook(tmp_path / "warned.xlsx", MAIN, [main_row(3, **{
        "Date of Positive Covid Swab": None})])
    assert main(["pseudonymise", str(warned), *common]) == 1
    assert "--accept-warnings" in capsys.readouterr().err
    assert main(["pseudonymise", str(warned), *common, "--accept-warnings"]) == 0


def test_pseudonymise_with_a_key_file_of_another_site(tmp_path, key_file, capsys):
    path = save_workbook(tmp_path / "s.xlsx", STATUS, [status_row(1)])
    assert main(["pseudonymise", str(path), "--key-file", str(key_file), "--site", "ABC",
                 "--out", str(tmp_path / "o")]) == 2
    assert "belongs to site RSH" in capsys.readouterr().err


def test_bad_hospital_pattern_is_a_plain_error(tmp_path, capsys):
    path = save_workbook(tmp_path / "s.xlsx", STATUS, [status_row(1)])
    assert main(["validate", str(path), "--hospital-pattern", "RR[0-9"]) == 2
    assert "not a valid regular expression" in capsys.readouterr().err


def test_the_installed_command_runs_template_validate_and_pseudonymise(tmp_path, key_file):
    command = str(VENV_NCCID) if VENV_NCCID.exists() else None
    base = [command] if command else [sys.executable, "-m", "nccid_desktop"]
    template = tmp_path / "status.xlsx"
    made = subprocess.run([*base, "template", "status", "-o", str(template)],
                          capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    fill(template, [status_row(1), status_row(2)], STATUS)
    checked = subprocess.run([*base, "validate", str(template), "--format", "json"],
                             capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["rows"] == 2
    garbage = tmp_path / "garbage.xlsx"
    garbage.write_bytes(b"\x00" * 64)
    unreadable = subprocess.run([*base, "validate", str(garbage)], capture_output=True,
                                text=True, timeout=120)
    assert unreadable.returncode == 2 and "Traceback" not in unreadable.stderr
    out = tmp_path / "records"
    written = subprocess.run([*base, "pseudonymise", str(template), "--key-file", str(key_file),
                              "--site", "RSH", "--out", str(out)],
                             capture_output=True, text=True, timeout=120)
    assert written.returncode == 0, written.stderr
    assert len(list(out.glob("Covid*_status.json"))) == 2


def test_template_choices_are_the_templates_and_the_module_loads_no_sheet_code():
    from nccid_desktop.cli.sheets import TEMPLATE_CHOICES
    from nccid_desktop.sheets.definitions import TEMPLATES

    assert tuple(sorted(TEMPLATES)) == TEMPLATE_CHOICES
    code = ("import sys, nccid_desktop.cli.sheets, nccid_desktop.cli.scan; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('openpyxl', 'pydicom', 'cryptography', 'requests')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_validate_two_sheets_together_finds_a_patient_on_both(tmp_path, key_file, capsys):
    main_path = save_workbook(tmp_path / "main.xlsx", MAIN, [main_row(1), main_row(2)])
    status_path = save_workbook(tmp_path / "status.xlsx", STATUS, [status_row(2)])
    assert main(["validate", str(main_path), str(status_path), "--format", "json",
                 *TODAY]) == 1
    both = json.loads(capsys.readouterr().out)["sheets"]
    assert [(s["template"], [(e["cell"], e["code"]) for e in s["errors"]]) for s in both] == [
        ("main", [("B3", "on_both_sheets")]), ("status", [("B2", "on_both_sheets")])]
    assert main(["validate", str(main_path), str(status_path), "--key-file", str(key_file),
                 "--site", "RSH", *TODAY]) == 1
    out = capsys.readouterr().out
    assert "error   B3 (row 3): This patient is also on the Covid Status sheet (row 2, cell B2)" \
        in out
    assert hospital_number(2) not in out
    assert main(["validate", str(main_path), str(main_path), *TODAY]) == 2
    assert "one Main and one Covid Status sheet" in capsys.readouterr().err


def test_template_upgrade_copies_a_portal_sheet_into_the_current_template(tmp_path, capsys):
    headers = [c.header for c in STATUS.columns]
    old = plain_workbook(tmp_path / "portal.xlsx", [
        ["COVID-19 Status"], headers, row_values(STATUS, status_row(1)),
        row_values(STATUS, status_row(2, SwabStatus=5))])
    new = tmp_path / "current.xlsx"
    assert main(["template", "upgrade", str(old), "-o", str(new)]) == 0
    assert capsys.readouterr().out.strip() == (
        "Copied 2 patient rows from the national NCCID portal's Covid Status (PCR-negative) "
        "template (v1.0) into a new Covid Status (PCR-negative) template v1.0: current.xlsx.")
    assert main(["validate", str(new), "--format", "json", *TODAY]) == 1
    report = json.loads(capsys.readouterr().out)
    assert (report["template_version"], report["recognised_as"]) == (
        "1.0", "the Covid Status (PCR-negative) template v1.0")
    assert [(e["cell"], e["code"]) for e in report["errors"]] == [("D3", "bad_code")]


def test_template_upgrade_refusals_are_plain(tmp_path, capsys):
    old = save_workbook(tmp_path / "old.xlsx", STATUS, [status_row(1)])
    assert main(["template", "upgrade", "-o", str(tmp_path / "n.xlsx")]) == 2
    assert "Name the sheet to upgrade" in capsys.readouterr().err
    assert main(["template", "upgrade", str(old), "-o", str(old)]) == 2
    assert "must not replace the original" in capsys.readouterr().err
    garbage = tmp_path / "garbage.xlsx"
    garbage.write_bytes(b"\x00" * 64)
    assert main(["template", "upgrade", str(garbage), "-o", str(tmp_path / "n.xlsx")]) == 2
    assert main(["template", "main", str(old), "-o", str(tmp_path / "n.xlsx")]) == 2
