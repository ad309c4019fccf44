"""Blank templates written from the definitions, so the sheet and the validator never disagree.

Why generate instead of shipping ``.xlsx`` files: drop-down lists, input hints, number formats
and the instructions sheet all come from the same definitions the validator interprets, and
the hidden ``_nccid`` sheet records which template and version the nurse started from.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from nccid_desktop import __version__
from nccid_desktop.errors import NccidError
from nccid_desktop.sheets.definitions import (
    IMPLAUSIBLY_OLD,
    Column,
    Requirement,
    Template,
)
from nccid_desktop.sheets.reader import INSTRUCTIONS_SHEET, MARKER_SHEET
from nccid_desktop.sheets.rules import expected

#: Drop-downs, hints and formats cover this many patient rows.
TEMPLATE_ROWS = 10_000
_HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")
_IDENTIFIER_FILL = PatternFill("solid", fgColor="FCE4D6")
_LATEST_DATE = date(2099, 12, 31)


def hint(column: Column) -> str:
    """The input hint Excel shows when a cell of ``column`` is selected (at most 255 chars)."""
    words = f"Enter {expected(column)}."
    if column.required is Requirement.REQUIRED:
        words += " Required."
    if column.is_identifier:
        words += " Stays on this computer: it is never uploaded."
    return words[:255]


def _validation(column: Column, letter: str) -> DataValidation:
    area = f"{letter}2:{letter}{TEMPLATE_ROWS + 1}"
    if column.kind == "code":
        codes = ",".join(str(code) for code in column.allowed_codes)
        rule = DataValidation(type="list", formula1=f'"{codes}"', allow_blank=True)
    elif column.kind in ("integer", "number") and (column.minimum is not None
                                                   or column.maximum is not None):
        low = column.minimum if column.minimum is not None else -1e9
        high = column.maximum if column.maximum is not None else 1e12
        rule = DataValidation(type="whole" if column.kind == "integer" else "decimal",
                              operator="between", formula1=str(low), formula2=str(high),
                              allow_blank=True)
    elif column.kind == "date":
        rule = DataValidation(type="date", operator="between",
                              formula1=str((IMPLAUSIBLY_OLD - date(1899, 12, 30)).days),
                              formula2=str((_LATEST_DATE - date(1899, 12, 30)).days),
                              allow_blank=True)
    else:
        rule = DataValidation(allow_blank=True)
    rule.errorStyle = "stop" if column.kind == "code" else "warning"
    rule.showErrorMessage = rule.type is not None
    rule.error = f"{column.name} must be {expected(column)}."[:255]
    rule.errorTitle = "Check this value"
    rule.showInputMessage = True
    rule.promptTitle = column.name[:32]
    rule.prompt = hint(column)
    rule.add(area)
    return rule


def _write_patient_sheet(sheet: Worksheet, template: Template) -> None:
    sheet.title = template.sheet_name
    sheet.append([column.header for column in template.columns])
    for index, column in enumerate(template.columns, start=1):
        letter = get_column_letter(index)
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        cell.fill = _IDENTIFIER_FILL if column.is_identifier else _HEADER_FILL
        dimension = sheet.column_dimensions[letter]
        dimension.width = max(12, min(30, len(column.name) + 4))
        if column.kind in ("nhs", "hospital"):
            dimension.number_format = "@"
        elif column.kind == "date":
            dimension.number_format = "DD/MM/YYYY"
        sheet.add_data_validation(_validation(column, letter))
    sheet.row_dimensions[1].height = 90
    sheet.freeze_panes = "C2"


def _write_instructions(sheet: Worksheet, template: Template) -> None:
    sheet.title = INSTRUCTIONS_SHEET
    lines = [
        f"NCCID {template.title} template, version {template.version}",
        "",
        "One row per patient, starting in row 2 of the first sheet. Do not add, remove, rename "
        "or move columns.",
        "Dates as dd/mm/yyyy. Coded columns take the number shown in brackets in the header; "
        "the drop-down lists them.",
        "The NHS/CHI number and the hospital number stay on this computer: NCCID Desktop turns "
        "them into a pseudonym before anything is uploaded.",
        "Use the hospital number exactly as Radiology (PACS) shows it, so images link to the row.",
        "",
    ]
    for line in lines:
        sheet.append([line])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(["Column", "Header", "What to enter", "Required"])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for index, column in enumerate(template.columns, start=1):
        required = {Requirement.REQUIRED: "Yes", Requirement.RECOMMENDED: "If known"}.get(
            column.required, "")
        sheet.append([get_column_letter(index), column.header, hint(column), required])
    for letter, width in zip("ABCD", (10, 60, 80, 10), strict=True):
        sheet.column_dimensions[letter].width = width


def _write_marker(sheet: Worksheet, template: Template) -> None:
    sheet.title = MARKER_SHEET
    sheet.sheet_state = "veryHidden"
    for entry in (("template", template.id), ("version", template.version),
                  ("sheet", template.sheet_name), ("generator", f"NCCID Desktop {__version__}")):
        sheet.append(list(entry))


def build_template(template: Template) -> Workbook:
    workbook = Workbook()
    _write_patient_sheet(workbook.active, template)
    _write_instructions(workbook.create_sheet(), template)
    _write_marker(workbook.create_sheet(), template)
    workbook.active = 0
    workbook.properties.title = f"NCCID {template.title} template v{template.version}"
    workbook.properties.creator = f"NCCID Desktop {__version__}"
    return workbook


def write_template(template: Template, path: Path | str) -> Path:
    """Write a blank template to ``path`` (``.xlsx``) and return the path."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise NccidError("The template must be saved as an .xlsx file.")
    try:
        build_template(template).save(path)
    except OSError:
        raise NccidError("The template could not be saved there: check the folder exists and "
                         "you may write to it.") from None
    return path
