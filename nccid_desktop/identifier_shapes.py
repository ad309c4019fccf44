"""Identifier-shaped values inside other text: one detector for the sheets, DICOM and the service.

Why one: the sheet validator, the DICOM profile check and the collection service all refuse a
value that holds an NHS/CHI number or a hospital number, and they must agree on what "holds"
means, whatever digits or separators were used to write it. Like :mod:`.identifiers`, nothing
here returns or repeats the value found, only its kind.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from nccid_desktop.identifiers import NHS_NUMBER_LENGTH, check_nhs_number

#: Between the digits of an NHS/CHI number people write spaces or dashes (after NFKC, which
#: turns full-width and other compatibility forms into these); any Unicode dash counts.
_DIGIT_RUN = re.compile(r"(?<!\d)\d(?:[ \t\-\u2010-\u2015\u2212]?\d){9}(?!\d)")
_NOT_DIGIT = re.compile(r"[^0-9]")
_NHS_SHAPED = "nhs_number"
_HOSPITAL_SHAPED = "hospital_number"


class _AsciiDigits(dict[int, int]):
    """``str.translate`` table: a decimal digit of any script (Unicode category Nd) -> its
    ASCII digit, every other character to itself; filled as characters are met."""

    def __missing__(self, code: int) -> int:
        char = chr(code)
        self[code] = ord("0") + unicodedata.decimal(char) if char.isdecimal() else code
        return self[code]


_ASCII_DIGITS = _AsciiDigits()


def normalise_digits(text: str) -> str:
    """``text`` after Unicode NFKC, with the decimal digits of any script as ASCII digits.

    NFKC turns full-width digits, spaces and dashes into their plain forms; digits of other
    scripts (Arabic-Indic, Devanagari ...) are digits in their own right and are mapped here.
    """
    if text.isascii():
        return text
    return unicodedata.normalize("NFKC", text).translate(_ASCII_DIGITS)


def holds_nhs_number(text: str) -> bool:
    """Whether ``text`` holds a valid NHS/CHI number: ten digits of any script, alone or
    written with spaces or dashes between them, not part of a longer run of digits."""
    if len(text) < NHS_NUMBER_LENGTH:
        return False
    normal = normalise_digits(text)
    for match in _DIGIT_RUN.finditer(normal):
        digits = _NOT_DIGIT.sub("", match.group())
        if check_nhs_number(digits).ok:
            return True
    return False


def hospital_search_pattern(pattern: str | re.Pattern[str]) -> re.Pattern[str]:
    """A site's hospital-number pattern (written for a whole value, ``^RR\\d{8}$``) as a
    search for such a number inside other text: anchors dropped, not inside a longer word."""
    source = pattern.pattern if isinstance(pattern, re.Pattern) else pattern
    source = source.strip()
    for anchor in ("^", "\\A"):
        if source.startswith(anchor):
            source = source[len(anchor):]
    for anchor in ("$", "\\Z", "\\z"):
        if source.endswith(anchor) and not source.endswith("\\" + anchor):
            source = source[:-len(anchor)]
    return re.compile(rf"(?<![A-Za-z0-9])(?:{source})(?![A-Za-z0-9])", re.IGNORECASE)


@dataclass(frozen=True)
class IdentifierShapes:
    """What an identifier looks like at one site: a valid NHS/CHI number always, and the
    site's hospital-number pattern when it is known.

    :meth:`find` names the kind found (``"nhs_number"`` or ``"hospital_number"``), never the
    value, so the answer can be shown, logged and sent back to a client.
    """

    hospital: re.Pattern[str] | None = None

    @classmethod
    def for_site(cls, hospital_pattern: str | re.Pattern[str] | None) -> IdentifierShapes:
        """Raises ``re.error`` for a pattern that does not compile."""
        if hospital_pattern is None or (isinstance(hospital_pattern, str)
                                        and not hospital_pattern.strip()):
            return cls()
        return cls(hospital_search_pattern(hospital_pattern))

    def find(self, text: str) -> str | None:
        if holds_nhs_number(text):
            return _NHS_SHAPED
        if self.hospital is not None and text and self.hospital.search(normalise_digits(text)):
            return _HOSPITAL_SHAPED
        return None


#: Without a site pattern: NHS/CHI numbers only.
NHS_SHAPES = IdentifierShapes()
