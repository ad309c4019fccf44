"""Known template versions, recognised by their header row: the portal's and older ones."""

from __future__ import annotations

import dataclasses

import pytest
from openpyxl import load_workbook

from nccid_desktop.sheets import versions
from nccid_desktop.sheets.definitions import MAIN, STATUS
from nccid_desktop.sheets.findings import Severity
from nccid_desktop.sheets.reader import MARKER_SHEET
from nccid_desktop.sheets.validator import validate_workbook
from nccid_desktop.sheets.versions import TemplateVersion, column_id, recognise_version
from tests.sheets.builders import (
    TODAY,
    main_row,
    plain_workbook,
    row_values,
    save_workbook,
    status_row,
)

PORTAL_MAIN = "the national NCCID portal's Main (PCR-positive) template (v1.5)"


def test_the_national_portals_template_is_accepted_and_named(tmp_path):
    headers = [c.header for c in MAIN.columns]
    path = plain_workbook(tmp_path / "COVID-19_NCCID_covid_positive_data_template_v1_5.xlsx",
                          [headers, row_values(MAIN, main_row(1))], title="Sheet1")
    report = validate_workbook(path, "main", today=TODAY)
    assert report.findings == [] and report.ok and len(report.valid_rows) == 1
    assert report.recognised_as == PORTAL_MAIN
    [note] = report.notes
    assert note.code == "template_version"
    assert note.message.startswith(f"This sheet is in {PORTAL_MAIN}, not the current Main "
                                   "(PCR-positive) template v1.0: the columns are the same")
    assert report.to_json()["recognised_as"] == PORTAL_MAIN


def test_a_portal_header_row_written_as_field_names_is_recognised(tmp_path):
    headers = [column_id(c) for c in STATUS.columns]
    path = plain_workbook(tmp_path / "status.xlsx", [headers, row_values(STATUS, status_row(1))])
    report = validate_workbook(path, today=TODAY)
    assert report.recognised_as == "the national NCCID portal's Covid Status (PCR-negative) " \
                                   "template (v1.0)"
    assert report.ok


def test_our_own_current_template_needs_no_word(tmp_path):
    report = validate_workbook(save_workbook(tmp_path / "m.xlsx", MAIN, [main_row(1)]),
                               today=TODAY)
    assert report.recognised_as == "the Main (PCR-positive) template v1.0"
    assert report.notes == [] and report.findings == []


def _set_marker_version(path, version):
    workbook = load_workbook(path)
    marker = workbook[MARKER_SHEET]
    for row in marker.iter_rows():
        if row[0].value == "version":
            row[1].value = version
    workbook.save(path)


def test_a_version_we_do_not_know_is_a_warning_naming_it(tmp_path):
    path = save_workbook(tmp_path / "m.xlsx", MAIN, [main_row(1)])
    _set_marker_version(path, "0.7")
    report = validate_workbook(path, today=TODAY)
    [warning] = report.warnings
    assert (warning.code, warning.cell) == ("template_version", None)
    assert "(template version 0.7), which this one does not know" in warning.message
    assert report.template_version == "0.7" and report.recognised_as is None


TROPONIN_T = "Troponin T"
FIBRINOGEN = "Fibrinogen  if d-dimer not performed"


def _older_main() -> TemplateVersion:
    """A made-up older Main version: no Troponin T, Fibrinogen headed differently, and a
    column no longer collected."""
    headers, holds = [], []
    for column in MAIN.columns:
        if column.key == TROPONIN_T:
            continue
        headers.append("Fibrinogen (g/L)" if column.key == FIBRINOGEN else column.header)
        holds.append(column_id(column))
    return TemplateVersion("main", "0.9", versions.DESKTOP, (*headers, "Vaccinated (No = 0)"),
                           (*holds, ""), True, "made up for the test")


@pytest.fixture
def older(monkeypatch):
    version = _older_main()
    monkeypatch.setattr(versions, "KNOWN_VERSIONS", (*versions.KNOWN_VERSIONS, version))
    return version


def _older_sheet(tmp_path, version, marker: bool):
    row = main_row(1, **{FIBRINOGEN: 4.5})
    rows = [list(version.headers), [*(row.get(key) for key in version.holds[:-1]), 1]]
    path = plain_workbook(tmp_path / "older.xlsx", rows, title="Main")
    if marker:
        workbook = load_workbook(path)
        sheet = workbook.create_sheet(MARKER_SHEET)
        for entry in (("template", "main"), ("version", "0.9"), ("sheet", "Main")):
            sheet.append(list(entry))
        workbook.save(path)
    return path


@pytest.mark.parametrize("marker", [True, False])
def test_an_older_known_version_is_read_with_a_warning_naming_the_differences(
        tmp_path, older, marker):
    report = validate_workbook(_older_sheet(tmp_path, older, marker), today=TODAY)
    assert report.recognised_as == "the Main (PCR-positive) template v0.9"
    assert [(f.severity, f.code) for f in report.findings] == [
        (Severity.WARNING, "template_version")]
    message = report.findings[0].message
    assert message.startswith("This sheet is in the Main (PCR-positive) template v0.9, not the "
                              "current Main (PCR-positive) template v1.0. Differences: ")
    assert "its column “Vaccinated (No = 0)” is no longer collected" in message
    assert ("its column “Fibrinogen (g/L)” is now “Fibrinogen if d-dimer not performed "
            "(g/L)”") in message
    assert "it has no column “Troponin T (ng/L)” (left blank)" in message
    [row] = report.valid_rows
    record = dict(zip(MAIN.record_keys, row.values, strict=True))
    assert (record[FIBRINOGEN], record[TROPONIN_T], record["Age"]) == ("4.5", "", "21")


def test_recognition_needs_the_whole_header_row(older):
    headers = list(older.headers[:-1])
    assert recognise_version(MAIN, headers, None) is None
    assert recognise_version(MAIN, list(older.headers), None) == older
    assert recognise_version(MAIN, [], "0.9") == older
    assert recognise_version(MAIN, [], "0.8") is None
    renamed = dataclasses.replace(older, version="0.8", marker=False)
    assert recognise_version(MAIN, list(older.headers), None, [older, renamed]) == renamed


def test_the_changelog_lists_every_known_version():
    lines = versions.changelog()
    assert len(lines) == len(versions.KNOWN_VERSIONS)
    assert lines[1] == ("Main (PCR-positive) 1.5 (the national NCCID portal): The national "
                        "NCCID portal's template for PCR-positive patients.")
