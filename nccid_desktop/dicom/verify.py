"""The second, independent check of every de-identified file before it may be sent.

Why a second pass: the de-identifier edits a dataset in memory following the profile; a bug
there (a sequence not walked, a new attribute, a vendor quirk) would otherwise leak silently.
This module parses the output bytes as another program would and looks for what must not be
there: private tags, overlays, curves, attributes the profile removes, source UIDs, and any
identifying string of the source, both in the parsed elements at any depth and in the raw bytes
of the file outside the pixel data. It shares no code path with the de-identifier, so one
mistake cannot hide itself. A non-empty list of problems means the file must not be sent.

Values are read as text from their raw bytes (:mod:`.raw_values`), and the pixel data is
neither read into memory nor copied: the check costs a parse of the header, not of the file.
Problems name the attribute or tag, never the value found, so they can be shown and logged.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from pydicom import dcmread
from pydicom.datadict import keyword_for_tag, tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

from nccid_desktop.dicom.raw_values import (
    converted_texts,
    dataset_codec,
    element_vr,
    needs_conversion,
    raw_bytes,
    raw_texts,
)
from nccid_desktop.dicom.verify_identity import SourceIdentity
from nccid_desktop.dicom.verify_rules import (
    MARKER_KEYWORDS,
    MARKER_SEQUENCES,
    MIN_OWN_VALUE_LENGTH,
    MIN_RAW_DIGITS,
    TEXT_VRS,
    removed_tags,
)

__all__ = ["SourceIdentity", "verify_output"]

log = logging.getLogger(__name__)

_MARKER_TAGS = frozenset(t for k in MARKER_KEYWORDS if (t := tag_for_keyword(k)))
_MARKER_PATHS = tuple(f"{k} item" for k in MARKER_SEQUENCES)
_PIXEL_DATA_TAGS = tuple(BaseTag(t) for t in (0x7FE00010, 0x7FE00008, 0x7FE00009))
_UNDEFINED = 0xFFFFFFFF
#: Values longer than this are not read when parsing an output (the pixel data).
_DEFER_BYTES = 64 * 1024
#: String VRs that are not free text: searched for identifiers that are not only digits.
_OTHER_STRING_VRS = frozenset({"AS", "DA", "DS", "DT", "IS", "TM"})
#: What is read of an element: numbers and bytes are not (their text is digits and signs,
#: which only numbers-only identifiers could match, and those are searched in free text).
_READ_VRS = TEXT_VRS | _OTHER_STRING_VRS | {"UI", "SQ"}
_FILE_META = "file meta > "


def _tag_text(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def _label(tag: int, path: str) -> str:
    keyword = keyword_for_tag(tag)
    return f"{path}{keyword} {_tag_text(tag)}" if keyword else f"{path}{_tag_text(tag)}"


def _is_overlay_or_curve(tag: int) -> bool:
    return (tag >> 16) & 0xFF01 in (0x6000, 0x5000)


class _Matcher:
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
def _matcher(strings: frozenset[str], words: frozenset[str]) -> _Matcher:
    """One matcher per patient: the slices of a series share their identifying strings."""
    return _Matcher(strings, words)


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


def _parse(data: bytes) -> Dataset:
    """The output parsed without reading its pixel data, unless the end of a value that was
    not read cannot be known (an encapsulated one): then everything is read."""
    ds = dcmread(io.BytesIO(data), defer_size=_DEFER_BYTES)
    if any(isinstance(e, RawDataElement) and e.value is None and e.length == _UNDEFINED
           for e in ds._dict.values()):
        ds = dcmread(io.BytesIO(data))
    return ds


def verify_output(output: Path | bytes, identity: SourceIdentity, pseudonym: str) -> list[str]:
    """Problems that forbid sending the de-identified ``output`` (its bytes, or a file);
    [] means safe. One header parse, one regex search of the bytes outside the pixel data.
    """
    try:
        data = bytes(output) if isinstance(output, (bytes, bytearray, memoryview)) \
            else Path(output).read_bytes()
        ds = _parse(data)
    except Exception as exc:  # any parse failure fails closed
        log.warning("De-identified output could not be re-read (%s).", type(exc).__name__)
        return ["The de-identified file cannot be read back as DICOM."]
    check = _OutputCheck(data, identity, _matcher(identity.strings, identity.words),
                         pseudonym)
    check.dataset(ds, "", dataset_codec(ds))
    if ds.file_meta is not None:
        check.dataset(ds.file_meta, _FILE_META, "latin-1")
    check.problems.extend(_marker_problems(ds, pseudonym))
    raw = check.matcher.raw
    if raw is not None and raw.search(_raw_haystack(data, _pixel_data_span(ds),
                                                    check.own_values)):
        check.problems.append("An identifying value of the source is still present in the "
                              "file's bytes outside the pixel data.")
    return check.problems


class _OutputCheck:
    """One walk over every element at every depth, collecting problems."""

    def __init__(self, data: bytes, identity: SourceIdentity, matcher: _Matcher,
                 pseudonym: str) -> None:
        self.data = data
        self.identity = identity
        self.matcher = matcher
        self.removed = removed_tags()
        self.own_values: set[str] = {pseudonym}
        self.problems: list[str] = []

    def dataset(self, ds: Dataset, path: str, codec: str | None) -> None:
        in_meta = path.startswith(_FILE_META)
        data = self.data if path in ("", _FILE_META) else None  # offsets are the file's
        for base_tag, elem in list(ds._dict.items()):
            tag = int(base_tag)
            if (tag >> 16) & 1:
                self.problems.append(f"Private tag {_label(tag, path)} is still present.")
                continue
            if _is_overlay_or_curve(tag):
                self.problems.append(f"Overlay or curve {_label(tag, path)} is still present.")
                continue
            if tag in self.removed and not in_meta:
                self.problems.append(f"{_label(tag, path)} should have been removed.")
            if tag in _PIXEL_DATA_TAGS:
                continue
            vr = element_vr(elem)
            texts = None
            convert = needs_conversion(elem, vr)
            if vr not in _READ_VRS and not convert:
                continue
            if vr != "SQ" and not convert:
                value = raw_bytes(elem, data)
                texts = raw_texts(value, vr, codec) if value is not None else None
            if texts is None:
                converted = ds[tag]
                vr = converted.VR
                if vr == "SQ":
                    self.sequence(tag, converted.value or (), path, codec)
                    continue
                if isinstance(converted.value, (bytes, bytearray)):
                    texts = [bytes(converted.value).decode("latin-1")] if vr == "UN" else []
                else:
                    texts = converted_texts(converted.value)
            self.values(tag, vr, texts, path)

    def sequence(self, tag: int, items: Iterable[Dataset], path: str,
                 codec: str | None) -> None:
        name = keyword_for_tag(tag) or _tag_text(tag)
        for index, item in enumerate(items, start=1):
            self.dataset(item, f"{path}{name} item {index} > ", dataset_codec(item, codec))

    def values(self, tag: int, vr: str, texts: list[str], path: str) -> None:
        if vr == "UI":
            values = set(texts)
            self.own_values.update(values)
            if values & self.identity.uids:
                self.problems.append(f"{_label(tag, path)} still holds a UID of the source.")
            return
        if tag in _MARKER_TAGS or path.startswith(_MARKER_PATHS):
            self.own_values.update(texts)
            return
        if vr not in _READ_VRS:
            return
        if self.matcher.text_hit(vr, texts):
            self.problems.append(f"{_label(tag, path)} contains an identifying value of the "
                                 "source.")


def _marker_problems(ds: Dataset, pseudonym: str) -> Iterable[str]:
    if str(ds.get("PatientID", "")).strip() != pseudonym:
        yield "PatientID is not the patient's pseudonym."
    if str(ds.get("PatientName", "")).strip() != pseudonym:
        yield "PatientName is not the patient's pseudonym."
    if str(ds.get("PatientIdentityRemoved", "")).strip().upper() != "YES":
        yield "PatientIdentityRemoved is not set to YES."


def _pixel_data_span(ds: Dataset) -> tuple[int, int] | None:
    """Where the pixel data value lies in the file, from its raw element (never read)."""
    for tag in _PIXEL_DATA_TAGS:
        raw = ds._dict.get(tag)
        if not isinstance(raw, RawDataElement):
            continue
        if raw.value is not None:
            return raw.value_tell, raw.value_tell + len(raw.value)
        if raw.length != _UNDEFINED:
            return raw.value_tell, raw.value_tell + raw.length
    return None


def _raw_haystack(data: bytes, pixel_span: tuple[int, int] | None,
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
