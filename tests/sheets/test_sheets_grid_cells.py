"""The grid's cells are collected while the validator reads the sheet: Excel's rows from 1,
display text as the sheet shows it, trailing blank rows dropped, and a cap on very large sheets."""

from __future__ import annotations

from datetime import datetime

from nccid_desktop.sheets.definitions import STATUS
from nccid_desktop.sheets.grid_cells import GridCells, display_text
from nccid_desktop.sheets.validator import validate_workbook
from tests.sheets.builders import save_workbook, status_row


def test_display_text_is_what_the_sheet_shows() -> None:
    assert display_text(None) == ""
    assert display_text(datetime(2020, 11, 1)) == "01/11/2020"
    assert display_text(datetime(2020, 11, 1, 9, 30)) == "01/11/2020 09:30"
    assert display_text(3.0) == "3" and display_text(2.5) == "2.5"


def test_the_rows_the_validator_reads_are_the_grid(tmp_path) -> None:
    path = save_workbook(tmp_path / "s.xlsx", STATUS, [status_row(s) for s in range(1, 6)])
    cells = GridCells()
    report = validate_workbook(path, "status", cells=cells)
    grid = cells.cells()
    assert grid is not None and grid.sheet_name == report.sheet and not grid.truncated
    assert len(grid.rows) == report.header_row + 5
    assert grid.rows[report.header_row - 1][:2] == ("NHS/CHI Number", "Hospital (Internal) Number")
    assert grid.rows[report.header_row][1] == status_row(1)["Hospital (Internal) Number"]


def test_a_very_large_sheet_is_shown_up_to_the_cap_and_checked_in_full(tmp_path) -> None:
    path = save_workbook(tmp_path / "s.xlsx", STATUS, [status_row(s) for s in range(1, 31)])
    cells = GridCells(max_rows=10)
    report = validate_workbook(path, "status", cells=cells)
    grid = cells.cells()
    assert grid is not None and grid.truncated and len(grid.rows) == 10
    assert report.rows == 30, "the check still reads every row"


def test_no_grid_when_no_sheet_was_read() -> None:
    assert GridCells().cells() is None
