"""Identifiers planted in a sheet appear in no output, log, report, comment or exception.

The sheet holds NHS numbers (plain, spaced, numeric with a lost zero), hospital numbers and
patient names, in their own columns and in the wrong ones. Every output the sheet commands
produce is then searched for every planted value.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from openpyxl import load_workbook

from nccid_desktop.cli import main
from nccid_desktop.errors import NccidError
from nccid_desktop.paths import user_log_dir
from nccid_desktop.sheets.definitions import MAIN
from nccid_desktop.sheets.payload import build_envelopes
from nccid_desktop.sheets.validator import validate_workbook
from tests.sheets.builders import HOSPITAL, NHS, build_workbook, main_row

NAMES = ("Featherstonehaugh", "Cholmondeley-Warner")
NHS_NUMBERS = ("9434765919", "4010232137", "4505577104")
HOSPITAL_NUMBERS = ("RR00424242", "RR00515151", "XX0123456")


def planted_rows() -> list[dict]:
    return [
        # a clean row: its identifiers go into pseudonyms only
        main_row(1, **{NHS: "943 476 5919", HOSPITAL: HOSPITAL_NUMBERS[0]}),
        # names typed into coded, numeric and date columns
        main_row(2, **{NHS: NHS_NUMBERS[1], HOSPITAL: HOSPITAL_NUMBERS[1], "Sex": NAMES[0],
                       "Age": NAMES[1], "Date of admission": NAMES[0], "Ethnicity": NAMES[1]}),
        # identifiers in the wrong columns
        main_row(3, **{NHS: int(NHS_NUMBERS[2]), HOSPITAL: HOSPITAL_NUMBERS[2],
                       "Hospital": f"Ward 4 {HOSPITAL_NUMBERS[2]}", "CRP on admission":
                       NHS_NUMBERS[0], "Date of death": f"{NAMES[0]} 01/02/1950"}),
        # a bad check digit and a duplicate hospital number
        main_row(4, **{NHS: "9434765918", HOSPITAL: HOSPITAL_NUMBERS[1]}),
        # an NHS number with a lost leading zero, numeric
        main_row(5, **{NHS: 123456789, HOSPITAL: "RR00999999"}),
    ]


PLANTED = (*NAMES, *NHS_NUMBERS, "943 476 5919", "9434765918", "123456789", "0123456789",
           *HOSPITAL_NUMBERS, "RR00999999")


def save_planted(path: Path, stray_column: bool = True) -> Path:
    workbook = build_workbook(MAIN, planted_rows())
    if stray_column:  # a name typed to the right of the template
        workbook.worksheets[0].cell(row=3, column=len(MAIN.columns) + 3, value=NAMES[1])
    workbook.save(path)
    return path


@pytest.fixture
def planted_sheet(tmp_path) -> Path:
    return save_planted(tmp_path / "planted.xlsx")


def assert_clean(text: str, where: str) -> None:
    leaked = [value for value in PLANTED if value.lower() in text.lower()]
    assert leaked == [], f"{where} contains planted identifiers"


def log_text() -> str:
    return "".join(p.read_text(encoding="utf-8") for p in user_log_dir().glob("*.log*"))


def test_validate_outputs_and_annotated_comments_hold_no_identifier(planted_sheet, tmp_path,
                                                                    capsys):
    copy = tmp_path / "annotated.xlsx"
    for extra in ([], ["--format", "json"], ["--annotate", str(copy)]):
        assert main(["validate", str(planted_sheet), "--today", "2026-11-25", *extra]) == 1
        captured = capsys.readouterr()
        assert_clean(captured.out + captured.err, f"validate {extra}")
    workbook = load_workbook(copy)
    comments = [cell.comment.text for row in workbook["Main"].iter_rows() for cell in row
                if cell.comment is not None]
    assert len(comments) >= 10
    assert_clean("\n".join(comments), "annotated comments")
    problems = [str(v) for row in workbook["Problems"].iter_rows(values_only=True) for v in row]
    assert_clean("\n".join(problems), "problems sheet")
    assert_clean(log_text(), "log")


def test_report_json_and_findings_hold_no_identifier(planted_sheet):
    report = validate_workbook(planted_sheet, "main")
    assert report.error_count >= 10
    assert_clean(json.dumps(report.to_json()), "JSON report")
    assert_clean(repr(report), "report repr")
    assert_clean(" ".join(repr(row) for row in report.valid_rows), "valid rows repr")


def test_pseudonymised_files_hold_no_identifier(planted_sheet, key_file, tmp_path, capsys):
    out = tmp_path / "records"
    arguments = ["--key-file", str(key_file), "--site", "RSH", "--out", str(out),
                 "--skip-invalid-rows", "--accept-warnings", "--today", "2026-11-25"]
    assert main(["pseudonymise", str(planted_sheet), *arguments]) == 1  # the stray column
    assert not out.exists()
    rows_only = save_planted(tmp_path / "rows-only.xlsx", stray_column=False)
    assert main(["pseudonymise", str(rows_only), *arguments]) == 1  # rows with errors left out
    captured = capsys.readouterr()
    assert_clean(captured.out + captured.err, "pseudonymise output")
    files = sorted(out.iterdir())
    assert len(files) == 2  # the two rows without errors (spreadsheet rows 2 and 6)
    for path in files:
        assert_clean(path.read_text(encoding="utf-8"), path.name)
    assert_clean(log_text(), "log")


def test_exceptions_hold_no_identifier(planted_sheet, site_keys, tmp_path):
    report = validate_workbook(planted_sheet, "main")
    with pytest.raises(NccidError) as caught:
        build_envelopes(report, site_keys)
    assert_clean(str(caught.value), "exception")
    damaged = tmp_path / "damaged.xlsx"
    damaged.write_bytes(planted_sheet.read_bytes()[:3000])
    with pytest.raises(NccidError) as caught:
        validate_workbook(damaged)
    assert_clean(str(caught.value), "exception")


def test_identifiers_read_from_the_sheet_are_masked_in_any_later_log_line(planted_sheet,
                                                                          capsys):
    assert main(["validate", str(planted_sheet)]) == 1
    logging.getLogger("nccid_desktop.tests").error(
        "a careless line mentioning %s and %s", HOSPITAL_NUMBERS[2], "123456789")
    text = log_text()
    assert "careless line" in text and "[redacted]" in text
    assert_clean(text, "log")


def test_new_checks_and_the_upgrade_hold_no_identifier(planted_sheet, tmp_path, capsys):
    """Both sheets together, the learnt hospital-number form and the template upgrade."""
    from nccid_desktop.sheets.definitions import STATUS
    from tests.sheets.builders import save_workbook, status_row

    status = save_workbook(tmp_path / "status.xlsx", STATUS, [
        status_row(1, **{NHS: NHS_NUMBERS[1], HOSPITAL: HOSPITAL_NUMBERS[1]}),
        status_row(2, **{NHS: NHS_NUMBERS[0], HOSPITAL: HOSPITAL_NUMBERS[0], "SwabStatus": 1})])
    for extra in ([], ["--format", "json"]):
        assert main(["validate", str(planted_sheet), str(status), "--today", "2026-11-25",
                     *extra]) == 1
        captured = capsys.readouterr()
        assert "on_both_sheets" in captured.out or "also on the" in captured.out
        assert_clean(captured.out + captured.err, f"validate both {extra}")
    upgraded = tmp_path / "upgraded.xlsx"
    assert main(["template", "upgrade", str(planted_sheet), "-o", str(upgraded)]) == 0
    captured = capsys.readouterr()
    assert_clean(captured.out + captured.err, "template upgrade")
    assert_clean(log_text(), "log")
