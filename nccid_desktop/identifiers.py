"""NHS/CHI numbers and hospital numbers: normalise, validate, explain, never echo.

Why so careful: these are the values that must never leave the site. Everything here returns
the normalised value to the caller (who turns it into a pseudonym at once) and explains a
problem in words that never repeat the number, so a message can be shown, logged or uploaded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
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


# The form of a site's hospital numbers, learnt from examples -------------------------------
#
# Why learn it: a hospital number in another system's form (12345678 where PACS writes
# RR12345678) passes every check yet links no image. Most sites never set a pattern, but the
# images' PatientIDs (and the sheet's own numbers) show the form PACS uses. A form says only
# which kinds of characters come in which order and how many (plus a letter prefix all the
# examples share), never a number, so it may be shown, logged or kept as a setting.

_RUN = re.compile(r"[A-Z]+|[0-9]+|[^A-Z0-9]")
#: Longer runs of letters are never kept as they are: a prefix is short, a name is not.
MAX_PREFIX_LETTERS = 4


@dataclass(frozen=True)
class Run:
    """Letters, digits or one other character, ``low`` to ``high`` long; ``literal`` when
    every example has the same text there (a prefix such as ``RR``, or a ``-``)."""

    kind: str  # "letters", "digits" or "other"
    low: int
    high: int
    literal: str | None = None

    def regex(self) -> str:
        if self.literal is not None:
            return re.escape(self.literal)
        count = f"{{{self.low}}}" if self.low == self.high else f"{{{self.low},{self.high}}}"
        return ("[A-Z]" if self.kind == "letters" else "[0-9]") + count

    def words(self) -> str:
        if self.literal is not None:
            return self.literal if self.kind == "letters" else f"“{self.literal}”"
        count = str(self.low) if self.low == self.high else f"{self.low} to {self.high}"
        noun = "letter" if self.kind == "letters" else "digit"
        return f"{count} {noun}" + ("" if count == "1" else "s")

    def sample(self) -> str:
        if self.literal is not None:
            return self.literal
        source = "ABCDEFGHJK" if self.kind == "letters" else "1234567890"
        return (source * (self.high // len(source) + 1))[:self.high]


@dataclass(frozen=True)
class HospitalNumberForm:
    """The form of a site's hospital numbers, e.g. ``RR`` followed by 8 digits."""

    runs: tuple[Run, ...]

    @property
    def pattern(self) -> str:
        """A regular expression for the form: usable as the site's hospital-number pattern."""
        return "".join(run.regex() for run in self.runs)

    @cached_property
    def _compiled(self) -> re.Pattern[str]:
        return re.compile(self.pattern)

    def matches(self, value: str) -> bool:
        return self._compiled.fullmatch(value) is not None

    def describe(self) -> str:
        return " followed by ".join(run.words() for run in self.runs)

    def example(self) -> str:
        """A made-up number of this form, to show what is expected."""
        return "".join(run.sample() for run in self.runs)


def _runs(value: str) -> list[str]:
    return _RUN.findall(value)


def _kind(part: str) -> str:
    return "letters" if part[0].isalpha() else "digits" if part[0].isdigit() else "other"


def describe_shape(value: str) -> str:
    """The shape of one hospital number in words ("8 digits"), never its characters."""
    words = []
    for part in _runs(value):
        kind = _kind(part)
        if kind == "other":
            words.append("a symbol")
        else:
            noun = "letter" if kind == "letters" else "digit"
            words.append(f"{len(part)} {noun}" + ("" if len(part) == 1 else "s"))
    return " followed by ".join(words) or "empty"


def _literal(part: str, keep_letters: bool) -> bool:
    kind = _kind(part)
    return kind == "other" or (keep_letters and kind == "letters"
                               and len(part) <= MAX_PREFIX_LETTERS)


def _form_of(group: list[list[str]], keep_letters: bool) -> HospitalNumberForm:
    runs = []
    for index, first in enumerate(group[0]):
        parts = [parts[index] for parts in group]
        kind = _kind(first)
        literal = first if len(set(parts)) == 1 and _literal(first, keep_letters) else None
        lengths = [len(p) for p in parts]
        runs.append(Run(kind, min(lengths), max(lengths), literal))
    return HospitalNumberForm(tuple(runs))


def infer_hospital_form(examples: Iterable[Any], *, min_examples: int = 1,
                        min_share: float = 0.6) -> HospitalNumberForm | None:
    """The form most examples share, or None when no form is shared widely enough.

    Examples are normalised as hospital numbers (unusable ones are ignored). They are grouped
    first by their runs with the letters themselves (``RR`` + digits), then, if no group holds
    ``min_share`` of them, by the kinds of runs alone (two letters + digits). Lengths within a
    group may vary (6 to 8 digits).
    """
    values = [v for v in (normalise_hospital_number(e) for e in examples) if v]
    if len(values) < min_examples or not values:
        return None
    split = [_runs(v) for v in values]
    for keep_letters in (True, False):
        groups: dict[tuple[str, ...], list[list[str]]] = {}
        for parts in split:
            key = tuple(p if _literal(p, keep_letters) else _kind(p) for p in parts)
            groups.setdefault(key, []).append(parts)
        best = max(groups.values(), key=len)
        if len(best) >= min_examples and len(best) >= min_share * len(values):
            return _form_of(best, keep_letters)
    return None
