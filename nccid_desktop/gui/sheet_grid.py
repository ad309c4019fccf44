"""The read-only grid of the sheet, with rows numbered exactly as Excel numbers them.

Why a table model over plain tuples: a 10,000-row Main sheet has 600,000 cells, too many for
item widgets. The cells are collected by the sheet check as the validator reads the workbook
(:mod:`nccid_desktop.sheets.grid_cells`, in the background, one read for both), and shown only
on the user's own screen; they never reach a log, a report or an error message.
"""

from __future__ import annotations

from typing import Any

from openpyxl.utils import column_index_from_string, get_column_letter
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QTableView

from nccid_desktop.gui.icons import icon
from nccid_desktop.sheets.findings import Finding, Severity
from nccid_desktop.sheets.grid_cells import SheetCells

#: Excel's row 1, the column headers: long ones are cut in the grid, so they get a tooltip.
HEADER_ROW = 0
#: A grid column is as wide as its contents, up to this many average characters.
MAX_COLUMN_CHARACTERS = 18
#: Lines a header of the sheet may wrap onto in the grid.
HEADER_LINES = 4
#: A cell longer than this may not fit its column: it gets its text as a tooltip.
LONG_CELL = 12
_ERROR_BRUSH = QBrush(QColor("#ffc7ce"))
_WARNING_BRUSH = QBrush(QColor("#ffeb9c"))
Index = QModelIndex | QPersistentModelIndex


def fit_grid_columns(grid: QTableView) -> None:
    """Columns as wide as what they show (the rows in view), but never so wide that one long
    header pushes the rest of the sheet out of sight. The headers (Excel's row 1) wrap onto
    up to :data:`HEADER_LINES` lines so "Hospital (Internal) Number" reads whole; a longer
    one ends in "…" and its tooltip has it whole."""
    grid.resizeColumnsToContents()
    widest = grid.fontMetrics().averageCharWidth() * MAX_COLUMN_CHARACTERS
    for column in range(grid.model().columnCount()):
        if grid.columnWidth(column) > widest:
            grid.setColumnWidth(column, widest)
    if grid.model().rowCount() > HEADER_ROW:
        grid.setWordWrap(True)
        grid.resizeRowToContents(HEADER_ROW)
        tallest = grid.fontMetrics().lineSpacing() * HEADER_LINES + 8
        grid.setRowHeight(HEADER_ROW, min(grid.rowHeight(HEADER_ROW), tallest))


def grid_position(finding: Finding) -> tuple[int | None, int | None]:
    """(row, column) indexes in the grid of a finding's cell; None where it has none."""
    row = finding.row - 1 if finding.row is not None else None
    column = column_index_from_string(finding.column) - 1 if finding.column else None
    return row, column


class SheetGridModel(QAbstractTableModel):
    def __init__(self, cells: SheetCells, findings: list[Finding]) -> None:
        super().__init__()
        self.cells = cells
        self.marks: dict[tuple[int, int], Finding] = {}
        for finding in findings:
            row, column = grid_position(finding)
            if row is None or column is None:
                continue
            known = self.marks.get((row, column))
            if known is None or known.severity is Severity.WARNING:
                self.marks[(row, column)] = finding

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.cells.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self.cells.width

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, column)
        mark = self.marks.get((row, column))
        if mark is None:
            if role == Qt.ItemDataRole.ToolTipRole:
                text = self._text(row, column)
                return text if text and (row == HEADER_ROW or len(text) > LONG_CELL) else None
            return None
        if role == Qt.ItemDataRole.DecorationRole:
            return icon("error" if mark.severity is Severity.ERROR else "warning")
        if role == Qt.ItemDataRole.BackgroundRole:
            return _ERROR_BRUSH if mark.severity is Severity.ERROR else _WARNING_BRUSH
        if role == Qt.ItemDataRole.ToolTipRole:
            kind = "Problem" if mark.severity is Severity.ERROR else "Warning"
            return f"{kind} in {mark.cell}: {mark.message}"
        return None

    def _text(self, row: int, column: int) -> str:
        values = self.cells.rows[row]
        return values[column] if column < len(values) else ""

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return get_column_letter(section + 1)
        return str(section + 1)
