"""The source's identifying strings as compiled patterns, and the bytes they are searched in.

Why apart from :mod:`.verifier`: compiling the patterns is done once per patient (the slices of
a series share their identifying strings) and is the same whichever parser read the output;
the verifier's walks only decide where to look.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from nccid_desktop.dicom.verify.rules import MIN_OWN_VALUE_LENGTH, MIN_RAW_DIGITS, TEXT_VRS


class Matcher:
    """The source's identifying strings compiled once: one regex for text, one for bytes.

    Strings with a digit (IDs, dates, accession numbers) are found anywhere. Strings without
    one (names, institution, department) are found as whole tokens, so that an institution
    "TOSHIBA" is found in "TOSHIBA MEC" but not inside the kept manufacturer "TOSHIBA_MEC";
    name parts are found as whole words, "_" separating them. The bytes pattern is lower
    case and searched in lower-cased bytes: the same ASCII-only case folding as a bytes
    regex with IGNORECASE, without its cost.
    """

    def __init__(self, strings: frozenset[str], words: frozenset[str]) -> None:
        strong = sorted(strings, key=len, reverse=True)
        ordered_words = sorted(words, key=len, reverse=True)
        self.all_text = _text_pattern(strong, ordered_words)
        self.textual_only = _text_pattern([s for s in strong if not s.isdigit()],
                                          ordered_words)
        raw = [s for s in strong if not s.isdigit() or len(s) >= MIN_RAW_DIGITS]
        self.raw = _bytes_pattern(raw, ordered_words)

    def text_hit(self, vr: str, texts: Iterable[str]) -> bool:
        """Whether any of the texts of an element of VR ``vr`` holds an identifying string.

        Numbers-only identifiers are looked for in free-text elements only: a short hospital
        number also occurs by chance in times, numbers and the (hashed) UIDs.
        """
        pattern = self.all_text if vr in TEXT_VRS else self.textual_only
        return pattern is not None and any(pattern.search(text) for text in texts)


@lru_cache(maxsize=64)
def matcher_for(strings: frozenset[str], words: frozenset[str]) -> Matcher:
    """One matcher per patient: the slices of a series share their identifying strings."""
    return Matcher(strings, words)


_DIGIT = re.compile(r"\d")


def _has_digit(text: str) -> bool:
    return _DIGIT.search(text) is not None


def _text_pattern(strings: list[str], words: list[str]) -> re.Pattern[str] | None:
    alternatives = [re.escape(s) for s in strings if _has_digit(s)]
    tokens = [re.escape(s) for s in strings if not _has_digit(s)]
    if tokens:
        alternatives.append(rf"(?<!\w)(?:{'|'.join(tokens)})(?!\w)")
    if words:
        joined = "|".join(re.escape(w) for w in words)
        alternatives.append(rf"(?<![A-Za-z0-9])(?:{joined})(?![A-Za-z0-9])")
    return re.compile("|".join(alternatives), re.IGNORECASE) if alternatives else None


def _bytes_pattern(strings: list[str], words: list[str]) -> re.Pattern[bytes] | None:
    """Lower-case alternatives, for a search in ``data.lower()``."""
    alternatives = [re.escape(f) for s in strings if _has_digit(s) for f in _encodings(s)]
    tokens = [re.escape(f) for s in strings if not _has_digit(s) for f in _encodings(s)]
    if tokens:
        alternatives.append(rb"(?<!\w)(?:" + b"|".join(tokens) + rb")(?!\w)")
    word_forms = [re.escape(form) for w in words for form in _encodings(w)]
    if word_forms:
        alternatives.append(rb"(?<![a-z0-9])(?:" + b"|".join(word_forms) + rb")(?![a-z0-9])")
    return re.compile(b"|".join(alternatives)) if alternatives else None


def _encodings(text: str) -> set[bytes]:
    forms = {text.encode("utf-8").lower()}
    if text.isascii() or all(ord(c) < 256 for c in text):
        forms.add(text.encode("latin-1").lower())
    return forms


def raw_haystack(data: bytes, pixel_span: tuple[int, int] | None,
                  own_values: set[str]) -> bytes:
    """The file's bytes in lower case, minus the pixel data value and the values this profile
    wrote itself.

    The pixel data is excluded because image bytes match short names by chance (burned-in text
    is handled by quarantine rules instead); our own UIDs, pseudonym and method text are
    excluded because a hashed UID contains short digit runs by chance.
    """
    haystack = data
    if pixel_span is not None:
        haystack = data[:pixel_span[0]] + data[pixel_span[1]:]
    haystack = haystack.lower()
    for value in sorted(own_values, key=len, reverse=True):
        if len(value) >= MIN_OWN_VALUE_LENGTH:
            haystack = haystack.replace(value.encode("utf-8", "replace").lower(), b"")
    return haystack
