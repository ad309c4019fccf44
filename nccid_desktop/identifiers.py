"""NHS/CHI numbers and hospital numbers: normalise, validate, explain, never echo.

Why so careful: these are the values that must never leave the site. Everything here returns
the normalised value to the caller (who turns it into a pseudonym at once) and explains a
problem in words that never repeat the number, so a message can be shown, logged or uploaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

NHS_NUMBER_LENGTH = 10
_SEPARATORS = re.compile(r"[\s\-./]")
_MOD11_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)


@dataclass(frozen=True)
class IdentifierCheck:
    """Outcome of checking one identifier.

    ``value`` is the normalised identifier when ``ok``; ``code`` and ``message`` explain a
    problem (``message`` never contains the identifier itself). ``warning`` marks a value that
    is usable but looks unusual (for example a hospital number not in the Radiology format).
    """

    ok: bool
    value: str | None
    code: str = ""
    message: str = ""
    warning: bool = False


def nhs_check_digit(first_nine: str) -> int | None:
    """Modulus-11 check digit of the first nine digits, or None when no valid digit exists."""
    total = sum(int(d) * w for d, w in zip(first_nine, _MOD11_WEIGHTS, strict=True))
    check = 11 - (total % 11)
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def _raw_text(raw: Any) -> tuple[str, bool]:
    """Text of a cell value and whether it came from a number (which may have lost a zero)."""
    if isinstance(raw, bool):
        return str(raw), False
    if isinstance(raw, int):
        return str(raw), True
    if isinstance(raw, float):
        if raw.is_integer():
            return str(int(raw)), True
        return repr(raw), True
    return str(raw).strip(), False


def check_nhs_number(raw: Any) -> IdentifierCheck:
    """Normalise and validate an NHS or CHI number (both: 10 digits, modulus-11 check digit).

    Accepts spaces and dashes as people write them, and a numeric spreadsheet cell whose
    leading zero was dropped (CHI numbers begin with the day of birth, so ``0`` is common).
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return IdentifierCheck(False, None, "nhs_missing", "The NHS/CHI number is missing.")
    text, from_number = _raw_text(raw)
    digits = _SEPARATORS.sub("", text)
    if not digits.isdigit() or not digits.isascii():
        return IdentifierCheck(
            False, None, "nhs_not_digits",
            "The NHS/CHI number must contain only digits (spaces and dashes are fine).",
        )
    if from_number and len(digits) == NHS_NUMBER_LENGTH - 1:
        digits = "0" + digits
    if len(digits) != NHS_NUMBER_LENGTH:
        return IdentifierCheck(
            False, None, "nhs_length",
            f"The NHS/CHI number must have 10 digits; this one has {len(digits)}.",
        )
    if len(set(digits)) == 1:
        return IdentifierCheck(
            False, None, "nhs_placeholder",
            "The NHS/CHI number looks like a placeholder (all digits the same).",
        )
    expected = nhs_check_digit(digits[:9])
    if expected is None or expected != int(digits[9]):
        return IdentifierCheck(
            False, None, "nhs_check_digit",
            "The NHS/CHI number is not valid: its last digit (the check digit) does not match. "
            "Check for a typing error.",
        )
    return IdentifierCheck(True, digits)


def normalise_nhs_number(raw: Any) -> str | None:
    """The normalised NHS/CHI number, or None when it is not valid."""
    return check_nhs_number(raw).value


def check_hospital_number(raw: Any, pattern: str | re.Pattern[str] | None = None) -> IdentifierCheck:
    """Normalise a hospital number to the Radiology/PACS form (trimmed, upper case, no spaces).

    The hospital number links the sheet to the DICOM PatientID, so it must be written the way
    PACS writes it. ``pattern`` (a site setting such as ``^RR\\d{8}$``) turns an unusual value
    into a warning rather than an error: the site knows its formats better than we do.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return IdentifierCheck(False, None, "hospital_missing", "The hospital number is missing.")
    text, _ = _raw_text(raw)
    value = re.sub(r"\s+", "", text).upper()
    if not value or len(value) > 64 or not value.isprintable() or "\\" in value:
        return IdentifierCheck(
            False, None, "hospital_invalid",
            "The hospital number must be up to 64 letters or digits, as PACS shows it.",
        )
    if pattern is not None:
        compiled = re.compile(pattern) if isinstance(pattern, str) else pattern
        if not compiled.fullmatch(value):
            return IdentifierCheck(
                True, value, "hospital_pattern",
                "The hospital number does not look like the Radiology (PACS) format your site "
                "uses. Use the number exactly as PACS shows it, or images will not link.",
                warning=True,
            )
    return IdentifierCheck(True, value)


def normalise_hospital_number(raw: Any) -> str | None:
    """The hospital number as PACS writes it, or None when it is missing or unusable."""
    return check_hospital_number(raw).value
