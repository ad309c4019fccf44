"""Blank templates: what a nurse gets from ``nccid template``."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from nccid_desktop.errors import NccidError
from nccid_desktop.sheets.definitions import MAIN, STATUS
from nccid_desktop.sheets.reader import read_marker
from nccid_desktop.sheets.validator import validate_workbook
from nccid_desktop.sheets.writer import TEMPLATE_ROWS, hint, write_template


@pytest.fixture(scope="module")
def main_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("tpl") / "main.xlsx"
    write_template(MAIN, path)
    return load_workbook(path), path


def test_header_row_is_the_definition_frozen_and_bold(main_template):
    workbook, _ = main_template
    sheet = workbook.worksheets[0]
    assert sheet.title == "Main"
    assert [c.value for c in sheet[1]] == [c.header for c in MAIN.columns]
    assert sheet.freeze_panes == "C2"
    assert all(cell.font.b for cell in sheet[1])
    assert all(sheet.column_dimensions[cell.column_letter].width >= 12 for cell in sheet[1])


def test_coded_columns_have_drop_down_lists_and_every_column_a_hint(main_template):
    workbook, _ = main_template
    sheet = workbook.worksheets[0]
    rules = {str(rule.sqref).split(":")[0]: rule for rule in sheet.data_validations.dataValidation}
    assert len(rules) == len(MAIN.columns)
    sex = rules["E2"]
    assert sex.type == "list" and sex.formula1 == '"0,1"'
    assert str(sex.sqref) == f"E2:E{TEMPLATE_ROWS + 1}"
    stage = rules["L2"]
    assert stage.formula1 == '"2,3,4,5"'
    age = rules["D2"]
    assert (age.type, age.formula1, age.formula2) == ("whole", "13", "103")
    assert rules["A2"].prompt == hint(MAIN.columns[0])
    assert "never uploaded" in rules["A2"].prompt
    assert all(rule.showInputMessage and rule.prompt for rule in rules.values())


def test_identifier_columns_are_text_and_dates_are_formatted(main_template):
    workbook, _ = main_template
    sheet = workbook.worksheets[0]
    assert sheet.column_dimensions["A"].number_format == "@"
    assert sheet.column_dimensions["R"].number_format == "DD/MM/YYYY"


def test_instructions_and_hidden_version_marker(main_template):
    workbook, path = main_template
    assert workbook.sheetnames == ["Main", "Instructions", "_nccid"]
    instructions = workbook["Instructions"]
    assert "version 1.0" in instructions["A1"].value
    listed = [row[1] for row in instructions.iter_rows(values_only=True) if row[0] == "BI"]
    assert listed == [MAIN.columns[-1].header]
    assert workbook["_nccid"].sheet_state == "veryHidden"
    marker_rows = dict(workbook["_nccid"].iter_rows(max_col=2, values_only=True))
    assert marker_rows["template"] == "main" and marker_rows["version"] == "1.0"
    read_only = load_workbook(path, read_only=True)
    marker = read_marker(read_only)
    read_only.close()
    assert (marker.template, marker.version, marker.sheet) == ("main", "1.0", "Main")


def test_blank_templates_are_recognised_with_their_version(tmp_path):
    for template in (MAIN, STATUS):
        path = write_template(template, tmp_path / f"{template.id}.xlsx")
        report = validate_workbook(path)
        assert (report.template, report.template_version) == (template.id, "1.0")
        assert [f.code for f in report.findings] == ["no_rows"]


def test_only_xlsx_and_a_writable_place(tmp_path):
    with pytest.raises(NccidError, match=r"\.xlsx"):
        write_template(MAIN, tmp_path / "main.xls")
    with pytest.raises(NccidError, match="could not be saved"):
        write_template(MAIN, tmp_path / "missing-folder" / "main.xlsx")
