"""UK dates: dd/mm/yyyy in grids and columns, "3 Dec 2026" in sentences."""

from __future__ import annotations

from datetime import date, datetime

from nccid_desktop.uk_dates import typed_date, uk_date, uk_date_time, uk_prose


def test_grid_dates_are_day_month_year_with_leading_zeros():
    assert uk_date(date(2026, 12, 3)) == "03/12/2026"
    assert uk_date(datetime(2026, 11, 23, 14, 5)) == "23/11/2026"
    assert uk_date(None) == ""


def test_prose_dates_name_the_month():
    assert uk_prose(date(2026, 12, 3)) == "3 Dec 2026"
    assert uk_prose(date(2020, 1, 31)) == "31 Jan 2020"
    assert uk_prose(None) == ""
    assert uk_date_time(datetime(2026, 12, 3, 9, 7)) == "3 Dec 2026 09:07"


def test_a_typed_date_keeps_impossible_days():
    assert typed_date(31, 2, 2026) == "31/02/2026"
