"""How dates are written to the people who use the app: the UK way, the same everywhere.

Why one helper: the sheets are written ``dd/mm/yyyy``, so the app, the terminal and the
messages must be too (ISO ``2026-11-23`` reads as a code, and US order as a different day).
Grids and columns use :func:`uk_date` (``03/12/2026``); sentences use :func:`uk_prose`
(``3 Dec 2026``).
"""

from __future__ import annotations

from datetime import date, datetime

UK_DATE = "%d/%m/%Y"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def uk_date(day: date | datetime | None) -> str:
    """``03/12/2026``; blank for no date (a column with nothing to say)."""
    if day is None:
        return ""
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"


def uk_prose(day: date | datetime | None) -> str:
    """``3 Dec 2026``, for sentences; blank for no date."""
    if day is None:
        return ""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def uk_date_time(moment: datetime) -> str:
    """``3 Dec 2026 14:05`` (local time as given), for when something happened."""
    return f"{uk_prose(moment)} {moment.hour:02d}:{moment.minute:02d}"


def uk_prose_of(text: str) -> str:
    """A date the service sent as ISO text (``2026-12-03``, or a timestamp), said the UK way;
    anything that is not such a date is returned as it came."""
    try:
        return uk_prose(datetime.fromisoformat(text.strip()))
    except ValueError:
        return text


def typed_date(day: int, month: int, year: int) -> str:
    """Day, month and year as the user typed them, ``31/02/2026``, even when no such day
    exists (built from the numbers alone, so nothing else in a cell can slip into a message)."""
    return f"{day:02d}/{month:02d}/{year:04d}"
