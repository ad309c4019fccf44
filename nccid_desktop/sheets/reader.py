"""Finding the patient sheet in a workbook and streaming its rows.

Why not just the first sheet: nurses add notes sheets, hide old copies and paste into older
workbooks. The sheet to check is the first visible one whose header row is a template's
(hidden sheets only when no visible one fits); the hidden ``_nccid`` sheet written with our
templates adds the version. Rows stream one at a time, so memory stays flat on large files.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from nccid_desktop.errors import SheetError
from nccid_desktop.sheets.definitions import TEMPLATES, Template
from nccid_desktop.sheets.layout import recognise
from nccid_desktop.sheets.values import is_blank
from nccid_desktop.sheets.workbook import DAMAGED, READ_ERRORS, read_limits

log = logging.getLogger(__name__)

MARKER_SHEET = "_nccid"
INSTRUCTIONS_SHEET = "Instructions"
#: The header row may sit below a few title rows; it must be within this many rows.
HEADER_SEARCH_ROWS = 10


@dataclass(frozen=True)
class Marker:
    """What our own templates record about themselves in the hidden marker sheet."""

    template: str | None
    version: str | None
    sheet: str | None


@dataclass(frozen=True)
class SheetChoice:
    sheet: ReadOnlyWorksheet
    template: Template
    header_row: int
    headers: tuple[Any, ...]
    marker: Marker | None


def read_marker(workbook: Workbook) -> Marker | None:
    if MARKER_SHEET not in workbook.sheetnames:
        return None
    entries: dict[str, str] = {}
    for row in workbook[MARKER_SHEET].iter_rows(max_row=20, max_col=2, values_only=True):
        if len(row) == 2 and isinstance(row[0], str) and row[1] is not None:
            entries[row[0].strip().casefold()] = str(row[1]).strip()
    template = entries.get("template")
    return Marker(template if template in TEMPLATES else None, entries.get("version"),
                  entries.get("sheet"))


def leading_rows(sheet: ReadOnlyWorksheet) -> list[tuple[int, tuple[Any, ...]]]:
    """The non-blank rows among the first few (number and values): header candidates."""
    rows = sheet.iter_rows(max_row=HEADER_SEARCH_ROWS, values_only=True)
    return [(number, _trim(values)) for number, values in enumerate(rows, start=1)
            if any(not is_blank(v) for v in values)]


def _trim(values: tuple[Any, ...]) -> tuple[Any, ...]:
    end = len(values)
    while end and is_blank(values[end - 1]):
        end -= 1
    return tuple(values[:end])


def _candidate_sheets(workbook: Workbook, marker: Marker | None) -> list[ReadOnlyWorksheet]:
    sheets = [ws for ws in workbook.worksheets if ws.title not in (MARKER_SHEET,)]
    visible = [ws for ws in sheets if ws.sheet_state == "visible"]
    hidden = [ws for ws in sheets if ws.sheet_state != "visible"]
    if marker and marker.sheet:
        visible.sort(key=lambda ws: ws.title != marker.sheet)
    return visible + hidden


def choose_sheet(workbook: Workbook) -> SheetChoice | None:
    """The sheet holding patient rows and the template it follows, or None if none does."""
    try:
        marker = read_marker(workbook)
        candidates = [(sheet, leading_rows(sheet))
                      for sheet in _candidate_sheets(workbook, marker)]
    except READ_ERRORS as error:
        log.warning("Header rows could not be read (%s)", type(error).__name__)
        raise SheetError(DAMAGED) from None
    fallback: SheetChoice | None = None
    for sheet, rows in candidates:
        for header_row, headers in rows:
            template, _ = recognise(headers)
            if template is not None:
                return SheetChoice(sheet, template, header_row, headers, marker)
        if rows and fallback is None and marker and marker.template and sheet.title == marker.sheet:
            # Our own template with its header row rewritten: check it against the marker.
            header_row, headers = rows[0]
            fallback = SheetChoice(sheet, TEMPLATES[marker.template], header_row, headers,
                                   marker)
    return fallback


def iter_data_rows(sheet: ReadOnlyWorksheet, first_row: int) -> Iterator[tuple[int, tuple]]:
    """Every row from ``first_row`` on, with its Excel row number (blank rows included).

    A file damaged part-way (truncated, bad XML) raises SheetError here, from the read
    itself, so a mistake in the checks that consume the rows is never mistaken for damage.
    The cells read are counted (rows as wide as the file says it is), and a sheet laying out
    more than the limit is refused: a tiny file can claim a million rows of 16,384 columns.
    """
    limits, label = read_limits(sheet.parent)
    rows = sheet.iter_rows(min_row=first_row, values_only=True)
    number = first_row
    cells = 0
    while True:
        try:
            values = next(rows)
        except StopIteration:
            return
        except READ_ERRORS as error:
            log.warning("Sheet stopped reading part-way (%s)", type(error).__name__)
            raise SheetError(DAMAGED) from None
        cells += len(values)
        if cells > limits.sheet_cells:
            raise SheetError(
                f"The workbook {label} was refused: its sheet lays out more than "
                f"{limits.sheet_cells:,} cells by row {number:,} (rows times the columns it "
                "says it uses), over the limit (max_sheet_cells). Copy the patient rows into a "
                "blank template, or if the sheet is genuine ask IT to raise that limit.")
        yield number, values
        number += 1


def estimated_last_row(sheet: ReadOnlyWorksheet) -> int | None:
    """The last row the file claims to use (for progress only: it may be missing or wrong)."""
    try:
        return sheet.max_row
    except (TypeError, ValueError):
        return None
