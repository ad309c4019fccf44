"""Cell coercion: Excel dates, UK text dates, numbers as text, text as numbers."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from nccid_desktop.sheets.values import (
    BadValue,
    DateFormatter,
    format_number,
    is_blank,
    to_date,
    to_ethnicity,
    to_integer,
    to_number,
    to_text,
)


@pytest.mark.parametrize("raw, expected", [
    (datetime(2020, 3, 1, 14, 30), date(2020, 3, 1)),
    (date(2020, 3, 1), date(2020, 3, 1)),
    ("01/03/2020", date(2020, 3, 1)),
    ("1/3/2020", date(2020, 3, 1)),
    (" 01-03-2020 ", date(2020, 3, 1)),
    ("01.03.2020", date(2020, 3, 1)),
    ("01/03/20", date(2020, 3, 1)),
    ("2020-03-01", date(2020, 3, 1)),
    ("01/03/2020 10:15", date(2020, 3, 1)),
    ("29/02/2020", date(2020, 2, 29)),
])
def test_dates_from_excel_cells_and_uk_text(raw, expected):
    assert to_date(raw) == (expected, False)


def test_a_serial_number_is_read_as_a_date_and_flagged():
    assert to_date(43891) == (date(2020, 3, 1), True)
    assert to_date("43891") == (date(2020, 3, 1), True)


@pytest.mark.parametrize("raw", [
    "03/25/2020",  # US order: there is no 25th month
    "31/02/2020", "29/02/2021", "yesterday", "", "2020", 12.5, 5, True, "01/03/2020x",
])
def test_what_is_not_a_date(raw):
    with pytest.raises(BadValue) as caught:
        to_date(raw)
    assert caught.value.code == "bad_date"
    assert str(caught.value) == "bad_date"  # the code only, never the cell's content


@pytest.mark.parametrize("raw, expected", [
    (12, 12), (12.0, 12.0), ("12", 12), (" 37.5 ", 37.5), ("+3", 3), ("1e2", 100),
    (".5", 0.5), ("-2", -2),
])
def test_numbers_from_cells_and_text(raw, expected):
    assert to_number(raw) == expected


@pytest.mark.parametrize("raw", ["", "12 mg", "1,5", "nan", "inf", True, None, "--1"])
def test_what_is_not_a_number(raw):
    with pytest.raises(BadValue):
        to_number(raw)


def test_whole_numbers_accept_integral_floats_only():
    assert to_integer(45.0) == 45
    assert to_integer("45") == 45
    with pytest.raises(BadValue) as caught:
        to_integer(45.5)
    assert caught.value.code == "not_whole"


@pytest.mark.parametrize("number, text", [
    (1, "1"), (1.0, "1"), (37.5, "37.5"), (0.1 + 0.2, "0.3"), (-0.0, "0"), (1e20, "1e+20"),
])
def test_numbers_are_written_without_spurious_decimals(number, text):
    assert format_number(number) == text


def test_text_is_trimmed_and_numbers_in_text_columns_become_text():
    assert to_text("  Royal   Sussex ") == "Royal Sussex"
    assert to_text(12.0) == "12"
    with pytest.raises(BadValue):
        to_text(datetime(2020, 1, 1))


@pytest.mark.parametrize("raw, code", [("a", "A"), (" cA ", "CA"), ("S", "S"), ("Z", "Z")])
def test_ethnic_categories(raw, code):
    assert to_ethnicity(raw) == code


@pytest.mark.parametrize("raw", ["I", "O", "Q", "T", "ABC", "1", 1, "", "A1"])
def test_what_is_not_an_ethnic_category(raw):
    with pytest.raises(BadValue):
        to_ethnicity(raw)


def test_blank_cells():
    assert is_blank(None) and is_blank("  \t") and not is_blank(0) and not is_blank("x")


def test_warehouse_date_orders():
    assert DateFormatter("%m/%d/%Y")(date(2020, 3, 1)) == "03/01/2020"
    assert DateFormatter("%d/%m/%Y")(date(2020, 3, 1)) == "01/03/2020"


@pytest.mark.parametrize("raw, shown", [
    ("31/02/2026", "31/02/2026"), ("29/2/2021", "29/02/2021"), ("03/25/2020", "03/25/2020"),
    ("2026-02-30", "30/02/2026"),
])
def test_a_date_that_does_not_exist_is_named_as_typed_in_uk_order(raw, shown):
    with pytest.raises(BadValue) as caught:
        to_date(raw)
    assert caught.value.code == "bad_date" and caught.value.shown == shown
    assert str(caught.value) == "bad_date"


@pytest.mark.parametrize("raw", ["yesterday", "2020", "01/03/2020x", "12.5"])
def test_what_is_no_date_at_all_shows_nothing(raw):
    with pytest.raises(BadValue) as caught:
        to_date(raw)
    assert caught.value.shown == ""
