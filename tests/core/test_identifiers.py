from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nccid_desktop.identifiers import (
    check_hospital_number,
    check_nhs_number,
    nhs_check_digit,
    normalise_nhs_number,
)
from tests.conftest import VALID_NHS_NUMBERS


@pytest.mark.parametrize("number", VALID_NHS_NUMBERS)
def test_valid_numbers_pass(number: str) -> None:
    result = check_nhs_number(number)
    assert result.ok and result.value == number


@pytest.mark.parametrize("written", ["943 476 5919", "943-476-5919", " 9434765919 ", "943.476.5919"])
def test_people_write_numbers_with_separators(written: str) -> None:
    assert normalise_nhs_number(written) == "9434765919"


def test_numeric_cell_that_lost_its_leading_zero_is_repaired() -> None:
    assert normalise_nhs_number(123456789) == "0123456789"
    assert normalise_nhs_number(123456789.0) == "0123456789"


def test_text_that_lost_a_zero_is_not_guessed() -> None:
    assert check_nhs_number("123456789").code == "nhs_length"


def test_check_digit_known_answers() -> None:
    assert nhs_check_digit("943476591") == 9
    assert nhs_check_digit("012345678") == 9
    assert nhs_check_digit("000000000") == 0


def test_check_digit_of_ten_means_no_valid_number() -> None:
    # 1,0,0,0,0,0,0,0,1 -> 10 + 2 = 12 -> 11 - 1 = 10: no valid check digit exists
    assert nhs_check_digit("100000001") is None
    assert not check_nhs_number("1000000010").ok


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (None, "nhs_missing"),
        ("  ", "nhs_missing"),
        ("94347659X9", "nhs_not_digits"),
        ("943476591", "nhs_length"),
        ("94347659190", "nhs_length"),
        ("9434765918", "nhs_check_digit"),
        ("0000000000", "nhs_placeholder"),
        ("٩٤٣٤٧٦٥٩١٩", "nhs_not_digits"),
    ],
)
def test_problems_are_explained_without_echoing_the_number(raw: object, code: str) -> None:
    result = check_nhs_number(raw)
    assert not result.ok and result.value is None and result.code == code
    assert result.message
    digits = "".join(ch for ch in str(raw) if ch.isdigit())
    if len(digits) >= 4:
        assert digits not in result.message
        assert str(raw) not in result.message


#: The fixed wording of every kind of answer: a piece of it in a message is not an echo.
_WORDING = " ".join(check_nhs_number(sample).message for sample in (
    None, "", "abc", "12", "123456789", "1234567890", "12345678901", "9434765918", "94347 65919",
    "943-476-5919", 94347659.5, True, "0000000000", "\u0669" * 10))


@given(st.one_of(st.text(), st.integers(), st.floats(allow_nan=True), st.none(), st.booleans()))
@settings(max_examples=300)
def test_any_input_is_answered_never_raised(raw: object) -> None:
    result = check_nhs_number(raw)
    assert result.ok == (result.value is not None)
    if result.ok:
        assert len(result.value) == 10 and result.value.isdigit()
    elif raw is not None and len(str(raw)) >= 4 and str(raw) not in _WORDING:
        assert str(raw) not in result.message, "the message must not echo what was typed"


def test_a_word_of_the_message_typed_in_is_not_taken_for_an_echo() -> None:
    """Hypothesis found "digi": the input is part of the fixed words, not repeated back."""
    assert "digi" in _WORDING
    assert "9434765918" not in _WORDING and "9434765918" not in check_nhs_number(
        "9434765918").message


def test_hospital_number_is_put_in_pacs_form() -> None:
    assert check_hospital_number(" rr 1234 5678 ").value == "RR12345678"
    assert check_hospital_number(12345678).value == "12345678"


def test_hospital_number_pattern_gives_a_warning_not_an_error() -> None:
    odd = check_hospital_number("12345", pattern=r"^RR\d{8}$")
    assert odd.ok and odd.warning and odd.code == "hospital_pattern"
    assert "12345" not in odd.message
    good = check_hospital_number("RR12345678", pattern=r"^RR\d{8}$")
    assert good.ok and not good.warning


@pytest.mark.parametrize("raw", [None, "", "   ", "A" * 65, "AB\\CD", "AB\x00CD"])
def test_unusable_hospital_numbers_are_errors(raw: object) -> None:
    result = check_hospital_number(raw)
    assert not result.ok and result.value is None and result.message
