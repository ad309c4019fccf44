"""The sheet's cells as display text, collected while the validator reads the rows.

Why collected during validation: the sheet page shows the workbook in a grid beside its
problems, and opening and parsing a 10,000-row workbook a second time for the grid doubled the
wait. The validator streams every row once; :class:`GridCells` keeps the display text of the
rows it streams (and of the rows above the data), up to :data:`MAX_GRID_ROWS`. The text is
for the user's own screen only: it never reaches a log, a report or an error message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Protocol

MAX_GRID_ROWS = 20_000


@dataclass(frozen=True)
class SheetCells:
    """The cells of the patient sheet as display text; row 0 is Excel's row 1."""

    sheet_name: str
    rows: list[tuple[str, ...]] = field(repr=False)
    width: int
    truncated: bool = False


def display_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime) and value.time() == time(0):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, date | datetime):
        return value.strftime("%d/%m/%Y %H:%M") if isinstance(value, datetime) \
            else value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class RowSheet(Protocol):
    """What :class:`GridCells` needs of a worksheet (openpyxl's read-only sheet)."""

    title: str

    def iter_rows(self, *args: Any, **kwargs: Any) -> Any: ...


class GridCells:
    """Collects the grid as the validator reads the sheet: :meth:`begin` once, then
    :meth:`row` for every row below the header, in order; :meth:`cells` is the result."""

    def __init__(self, max_rows: int = MAX_GRID_ROWS) -> None:
        self.max_rows = max_rows
        self._name = ""
        self._rows: list[tuple[str, ...]] = []
        self._truncated = False
        self._begun = False

    def begin(self, sheet: RowSheet, header_row: int) -> None:
        """Keep the rows down to the header (titles and the header itself)."""
        self._begun, self._name = True, sheet.title
        for values in sheet.iter_rows(max_row=header_row, values_only=True):
            self._add(values)

    def row(self, _number: int, values: tuple[Any, ...]) -> None:
        self._add(values)

    def _add(self, values: tuple[Any, ...]) -> None:
        if len(self._rows) >= self.max_rows:
            self._truncated = True
            return
        self._rows.append(tuple(display_text(v) for v in values))

    def cells(self) -> SheetCells | None:
        """The collected grid (trailing blank rows dropped), or None if no sheet was read."""
        if not self._begun:
            return None
        rows = self._rows
        while rows and not any(rows[-1]):
            rows.pop()
        width = max((len(r) for r in rows), default=0)
        return SheetCells(self._name, rows, width, self._truncated)
