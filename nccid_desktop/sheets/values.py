"""Turning what a spreadsheet cell holds into a typed value and its warehouse text.

Why a module of its own: the same cell may arrive as an Excel date, a serial number, UK text
(``dd/mm/yyyy``), a number stored as text or text stored as a number, depending on who typed
or pasted it. Every coercer returns the typed value (for range, order and condition checks)
and the string the warehouse record gets, or raises :class:`BadValue` with a code. A
:class:`BadValue` never carries the cell's content, so nothing read can leak through it.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta
from typing import Any

from nccid_desktop.uk_dates import typed_date

_NUMBER_TEXT = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_UK_DATE_TEXT = re.compile(
    r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_ISO_DATE_TEXT = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_EXCEL_EPOCH = date(1899, 12, 30)
#: Serial numbers Excel uses for 1 Jan 1990 and 31 Dec 2099: outside this, a number is no date.
_SERIAL_RANGE = (32874, 73050)
_ETHNIC_LETTERS = frozenset("ABCDEFGHJKLMNPRSZ")


class BadValue(ValueError):
    """A cell value that does not fit its column. ``code`` names the rule it broke."""

    def __init__(self, code: str, *, shown: str = "") -> None:
        super().__init__(code)
        self.code = code
        #: For a date that does not exist, the day as typed, rebuilt from its numbers alone
        #: (``31/02/2026``), so the message can say which; blank otherwise.
        self.shown = shown


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def format_number(number: float) -> str:
    """Warehouse text of a number: integers without ``.0``, others to 15 significant digits."""
    if isinstance(number, int):
        return str(number)
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return f"{number:.15g}"


def to_number(value: Any) -> float | int:
    """A number from a numeric cell or from digits typed as text (``"37.5"``, ``" 12 "``)."""
    if isinstance(value, bool):
        raise BadValue("not_a_number")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        raise BadValue("not_a_number")
    if isinstance(value, str):
        text = value.strip()
        if _NUMBER_TEXT.fullmatch(text):
            number = float(text)
            if math.isfinite(number):
                return int(number) if number.is_integer() and abs(number) < 1e15 else number
    raise BadValue("not_a_number")


def to_integer(value: Any) -> int:
    number = to_number(value)
    if isinstance(number, float):
        if not number.is_integer():
            raise BadValue("not_whole")
        return int(number)
    return number


def to_text(value: Any) -> str:
    """Free text: trimmed, inner whitespace collapsed; numbers written as the warehouse would."""
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, bool):
        raise BadValue("not_text")
    if isinstance(value, int | float):
        return format_number(value)
    raise BadValue("not_text")


def to_ethnicity(value: Any) -> str:
    """NHS ethnic category: one letter A-S (I, O, Q unused) or Z, optionally a second letter."""
    if not isinstance(value, str):
        raise BadValue("bad_ethnicity")
    code = value.strip().upper()
    if 1 <= len(code) <= 2 and code[0] in _ETHNIC_LETTERS and code.isascii() and code.isalpha():
        return code
    raise BadValue("bad_ethnicity")


def _checked_date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise BadValue("bad_date", shown=typed_date(day, month, year)) from None


def to_date(value: Any) -> tuple[date, bool]:
    """A date and whether it came from a bare serial number (worth a warning).

    Accepts Excel date cells, UK text (``dd/mm/yyyy``, also with ``-`` or ``.``, two-digit
    years read as 20yy), ISO text (``yyyy-mm-dd``), and a serial number in a cell that lost
    its date format. US order (``03/25/2020``) is refused: a month cannot be 25.
    """
    if isinstance(value, datetime):
        return value.date(), False
    if isinstance(value, date):
        return value, False
    if isinstance(value, bool):
        raise BadValue("bad_date")
    if isinstance(value, int | float):
        if isinstance(value, float) and not value.is_integer():
            raise BadValue("bad_date")
        if not _SERIAL_RANGE[0] <= value <= _SERIAL_RANGE[1]:
            raise BadValue("bad_date")
        return _EXCEL_EPOCH + timedelta(days=int(value)), True
    if isinstance(value, str):
        text = value.strip()
        match = _UK_DATE_TEXT.fullmatch(text)
        if match:
            day, month, year = (int(g) for g in match.groups())
            if len(match.group(3)) == 2:
                year += 2000
            return _checked_date(year, month, day), False
        match = _ISO_DATE_TEXT.fullmatch(text)
        if match:
            year, month, day = (int(g) for g in match.groups())
            return _checked_date(year, month, day), False
        if _NUMBER_TEXT.fullmatch(text):
            return to_date(float(text))
    raise BadValue("bad_date")


class DateFormatter:
    """Formats dates in the warehouse order, remembering each one (sheets repeat dates a lot)."""

    def __init__(self, pattern: str) -> None:
        self._order = {"%m/%d/%Y": "mdy", "%d/%m/%Y": "dmy"}[pattern]
        self._cache: dict[date, str] = {}

    def __call__(self, day: date) -> str:
        text = self._cache.get(day)
        if text is None:
            if self._order == "mdy":
                text = f"{day.month:02d}/{day.day:02d}/{day.year:04d}"
            else:
                text = f"{day.day:02d}/{day.month:02d}/{day.year:04d}"
            self._cache[day] = text
        return text
