"""Learning the form of a site's hospital numbers from examples, never keeping a number."""

from __future__ import annotations

import re

import pytest

from nccid_desktop.identifiers import describe_shape, infer_hospital_form


def test_a_letter_prefix_and_digit_count_are_learnt():
    form = infer_hospital_form(["RR00000123", " rr00000456 ", "RR12345678"])
    assert form is not None
    assert (form.pattern, form.describe(), form.example()) == (
        "RR[0-9]{8}", "RR followed by 8 digits", "RR12345678")
    assert form.matches("RR00000001") and not form.matches("12345678")
    assert not form.matches("RR0000001") and not form.matches("XX00000001")


def test_prefixes_that_differ_are_learnt_as_letters():
    form = infer_hospital_form(["AB123456", "CD654321", "XY123456", "QQ000001"])
    assert form is not None
    assert (form.pattern, form.describe()) == ("[A-Z]{2}[0-9]{6}", "2 letters followed by 6 digits")
    assert form.matches("ZZ999999") and not form.matches("Z9999999")


def test_lengths_that_vary_are_learnt_as_a_range():
    form = infer_hospital_form(["RR123456", "RR1234567", "RR12345678"])
    assert form is not None and form.pattern == "RR[0-9]{6,8}"
    assert form.describe() == "RR followed by 6 to 8 digits"


def test_symbols_are_kept_and_the_pattern_is_a_valid_site_pattern():
    form = infer_hospital_form(["K123-45", "K999-01"])
    assert form is not None and form.describe() == "K followed by 3 digits followed by “-” " \
                                                   "followed by 2 digits"
    assert re.fullmatch(form.pattern, "K555-55")


def test_no_form_when_no_shape_is_shared_widely_enough():
    assert infer_hospital_form(["RR123", "12345", "X-1"]) is None
    assert infer_hospital_form([]) is None
    assert infer_hospital_form(["RR1", "RR2", "RR3"], min_examples=4) is None


def test_the_majority_wins_over_a_stray_value():
    form = infer_hospital_form(["RR00000001", "RR00000002", "RR00000003", "12345678"],
                               min_share=0.7)
    assert form is not None and form.pattern == "RR[0-9]{8}"


@pytest.mark.parametrize("name", ["FOTHERINGAY", "SMITHSON1"])
def test_long_letter_runs_are_never_kept_as_they_are(name):
    form = infer_hospital_form([name, name])
    assert form is not None and name not in form.describe() and name not in form.pattern


def test_a_shape_is_described_without_its_characters():
    assert describe_shape("12345678") == "8 digits"
    assert describe_shape("RX0012") == "2 letters followed by 4 digits"
    assert describe_shape("A-1") == "1 letter followed by a symbol followed by 1 digit"
