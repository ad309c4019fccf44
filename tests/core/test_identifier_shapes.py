"""Identifier-shaped values inside other text: one detector for the sheets, DICOM and the service.

An NHS/CHI number is found whatever digits write it (ASCII, full-width, Arabic-Indic,
Devanagari ...), with or without spaces and dashes, next to letters; a site's hospital-number
pattern is found inside text when the site has one. Neither is found by chance in a longer run
of digits or inside a longer word.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nccid_desktop.identifier_shapes import (
    NHS_SHAPES,
    IdentifierShapes,
    holds_nhs_number,
    hospital_search_pattern,
    normalise_digits,
)
from nccid_desktop.identifiers import check_nhs_number
from nccid_desktop.pseudonym import PSEUDONYM_DIGITS, is_pseudonym
from tests.conftest import VALID_NHS_NUMBERS

#: Zero of a few scripts whose digits are consecutive code points from it.
ZEROS = {"ascii": "0", "full-width": "\uff10", "arabic-indic": "\u0660",
         "extended arabic-indic": "\u06f0", "devanagari": "\u0966", "bengali": "\u09e6",
         "thai": "\u0e50", "mathematical bold": "\U0001d7ce"}
SEPARATORS = ["", " ", "-", "\u3000", "\uff0d", "\u2013", "\u2212", "\u00a0"]


def _written(number: str, zero: str, separator: str) -> str:
    digits = "".join(chr(ord(zero) + int(d)) for d in number)
    return separator.join((digits[:3], digits[3:6], digits[6:]))


@pytest.mark.parametrize("script", sorted(ZEROS))
@pytest.mark.parametrize("separator", SEPARATORS)
def test_an_nhs_number_is_found_in_any_digits_and_separators(script: str, separator: str) -> None:
    written = _written(VALID_NHS_NUMBERS[0], ZEROS[script], separator)
    assert holds_nhs_number(written)
    assert holds_nhs_number(f"NHS {written} (checked)")
    assert NHS_SHAPES.find(f"id{written}") == "nhs_number"


@settings(max_examples=200, deadline=None)
@given(number=st.text(alphabet="0123456789", min_size=10, max_size=10),
       zero=st.sampled_from(sorted(ZEROS.values())), separator=st.sampled_from(SEPARATORS),
       before=st.text(alphabet="ABCxyz ;:/", max_size=5),
       after=st.text(alphabet="ABCxyz ;:/", max_size=5))
def test_found_exactly_when_the_ten_digits_are_a_valid_number(
        number: str, zero: str, separator: str, before: str, after: str) -> None:
    text = before + _written(number, zero, separator) + after
    assert holds_nhs_number(text) is check_nhs_number(number).ok


@pytest.mark.parametrize("text", [
    "19434765919",            # eleven digits: a longer number, not an NHS number
    "94347659190",
    "9434765918",             # wrong check digit
    "943 476 591",            # nine digits
    "0000000000",             # a placeholder
    "1.2.826.0.1.3680043.9434765919",  # digits after a dot are still a run of ten
    "ZZTESTPATIENT",
    "",
])
def test_what_is_not_an_nhs_number(text: str) -> None:
    expected = text.endswith("9434765919") and "." in text
    assert holds_nhs_number(text) is expected


def test_digits_of_every_script_become_ascii_after_nfkc() -> None:
    assert normalise_digits("\u0669\u0664\u0663") == "943"
    assert normalise_digits("\uff19\u3000\uff14") == "9 4"
    assert normalise_digits("x\u00b2") == "x2"  # a compatibility form, mapped by NFKC
    assert normalise_digits("plain text") == "plain text"


def test_a_site_hospital_pattern_is_searched_inside_text() -> None:
    shapes = IdentifierShapes.for_site(r"^HOSPX\d{5}$")
    assert shapes.find("HOSPX12345") == "hospital_number"
    assert shapes.find("HOSPX12345 Hospital") == "hospital_number"
    assert shapes.find("seen at hospx\uff11\uff12\uff13\uff14\uff15") == "hospital_number"
    assert shapes.find("XHOSPX12345") is None and shapes.find("HOSPX123456") is None
    assert shapes.find("Royal Surrey") is None
    assert IdentifierShapes.for_site(None) == NHS_SHAPES == IdentifierShapes.for_site("  ")


def test_anchors_are_dropped_but_an_escaped_dollar_stays() -> None:
    assert hospital_search_pattern(r"\ART\d{3}\Z").search("x RT123 y")
    assert hospital_search_pattern(r"^A\$$").search("cost A$ paid")
    with pytest.raises(re.error):
        IdentifierShapes.for_site("RR(")


def test_pseudonyms_are_ascii_only() -> None:
    assert is_pseudonym("Covid" + "1" * PSEUDONYM_DIGITS)
    assert not is_pseudonym("Covid" + "\u0661" * PSEUDONYM_DIGITS)
    assert not is_pseudonym("Covid" + "\uff11" * PSEUDONYM_DIGITS)
    assert not is_pseudonym("Covid" + "1" * PSEUDONYM_DIGITS + "\n")
    assert not is_pseudonym("covid" + "1" * PSEUDONYM_DIGITS)
