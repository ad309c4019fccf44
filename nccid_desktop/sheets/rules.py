"""Cell rules interpreted from the template definitions, with the words each problem gets.

Why one place for the words: the validator, the annotated copy, the template's input hints and
its instructions sheet all say what a column expects, and they must say the same thing. Every
message names the column and what is expected; none repeats what the cell holds.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from nccid_desktop.sheets.definitions import BEFORE_COVID, IMPLAUSIBLY_OLD, Column, Template
from nccid_desktop.sheets.values import (
    BadValue,
    DateFormatter,
    format_number,
    to_date,
    to_ethnicity,
    to_integer,
    to_number,
    to_text,
)

#: A checker turns a non-blank cell into (typed value, warehouse text, warning code or None).
Checker = Callable[[Any], tuple[Any, str, str | None]]


def _range_words(column: Column) -> str:
    lo, hi = column.minimum, column.maximum
    if lo is not None and hi is not None:
        return f" from {format_number(lo)} to {format_number(hi)}"
    if lo is not None:
        return f" of {format_number(lo)} or more"
    if hi is not None:
        return f" of {format_number(hi)} or less"
    return ""


def expected(column: Column) -> str:
    """What a column expects, in words that finish the sentence "Enter ..."."""
    if column.kind == "nhs":
        return "the patient's 10-digit NHS or CHI number"
    if column.kind == "hospital":
        return "the patient's hospital number exactly as Radiology (PACS) shows it"
    if column.kind == "text":
        return "text"
    if column.kind == "date":
        return "a date as dd/mm/yyyy"
    if column.kind == "ethnicity":
        return "an NHS ethnic category code: a letter from A to S (such as A, or CA), or Z"
    if column.kind == "code":
        if column.codes:
            meanings = sorted(column.codes, key=lambda item: item[1])
            words = [f"{code} ({label})" for label, code in meanings]
        else:
            words = [str(code) for code in column.allowed_codes]
        return "one of " + ", ".join(words[:-1]) + " or " + words[-1]
    noun = "a whole number" if column.kind == "integer" else "a number"
    return noun + _range_words(column)


def message_for(column: Column, code: str, shown: str = "") -> str:
    """The sentence for a problem ``code`` found in a cell of ``column``; ``shown`` is a date
    as typed that does not exist (``31/02/2026``), said as such rather than as a bad format."""
    name = column.name
    if code == "bad_date" and shown:
        return (f"{shown} is not a real date (no such day or month). Enter {name} as a date "
                "that exists, as dd/mm/yyyy.")
    if code == "missing":
        return f"{name} is required. Enter {expected(column)}."
    if code == "recommended":
        return f"{name} is blank. Enter {expected(column)} if it is known."
    if code == "date_future":
        return f"{name} is in the future. Check the date (dd/mm/yyyy)."
    if code == "date_too_old":
        return f"{name} is before {IMPLAUSIBLY_OLD.year}, which is not plausible. Check the year."
    if code == "date_before_covid":
        return (f"{name} is before {BEFORE_COVID.year}, earlier than COVID-19 in the UK. "
                "Check the year.")
    if code == "date_serial":
        return (f"{name} holds a plain number that was read as a date. Format the cell as a "
                "date (dd/mm/yyyy) to be sure it is the date you meant.")
    if code == "identifier_in_cell":
        return (f"{name} seems to contain an NHS/CHI or hospital number. Patient identifiers "
                "belong only in the first two columns.")
    return f"{name} must be {expected(column)}."


def _in_range(column: Column, number: float) -> None:
    if (column.minimum is not None and number < column.minimum) or (
        column.maximum is not None and number > column.maximum
    ):
        raise BadValue("out_of_range")


def make_checker(column: Column, template: Template, today: date) -> Checker:
    """The checker for one non-identifier column (identifiers have their own module)."""
    kind = column.kind
    if kind == "text":
        return lambda value: (None, to_text(value), None)
    if kind == "ethnicity":
        def ethnicity(value: Any) -> tuple[Any, str, str | None]:
            code = to_ethnicity(value)
            return code, code, None
        return ethnicity
    if kind == "code":
        allowed = {code: str(code) for code in column.allowed_codes}

        def coded(value: Any) -> tuple[Any, str, str | None]:
            try:
                code = to_integer(value)
            except BadValue:
                raise BadValue("bad_code") from None
            text = allowed.get(code)
            if text is None:
                raise BadValue("bad_code")
            return code, text, None
        return coded
    if kind in ("integer", "number"):
        coerce = to_integer if kind == "integer" else to_number

        def numeric(value: Any) -> tuple[Any, str, str | None]:
            number = coerce(value)
            _in_range(column, number)
            return number, format_number(number), None
        return numeric
    if kind == "date":
        render = DateFormatter(template.record_date_format)

        def dated(value: Any) -> tuple[Any, str, str | None]:
            day, from_serial = to_date(value)
            if day > today:
                raise BadValue("date_future")
            if day < IMPLAUSIBLY_OLD:
                raise BadValue("date_too_old")
            warning = "date_serial" if from_serial else None
            if warning is None and day < BEFORE_COVID:
                warning = "date_before_covid"
            return day, render(day), warning
        return dated
    raise ValueError(f"no checker for kind {kind!r}")
