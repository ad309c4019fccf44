"""The second, independent check of every de-identified file before it may be sent.

Why a second pass: the de-identifier edits a dataset in memory following the profile; a bug
there (a sequence not walked, a new attribute, a vendor quirk) would otherwise leak silently.
This module re-reads the written file as another program would and looks for what must not be
there: private tags, overlays, curves, attributes the profile removes, source UIDs, and any
identifying string of the source, both in the parsed elements at any depth and in the raw bytes
of the file outside the pixel data. It shares no code path with the de-identifier, so one
mistake cannot hide itself. A non-empty list of problems means the file must not be sent.

Problems name the attribute or tag, never the value found, so they can be shown and logged.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pydicom import dcmread
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

from nccid_desktop.dicom.verify_rules import (
    CLASS_UID_KEYWORDS,
    IDENTIFYING_KEYWORDS,
    MARKER_KEYWORDS,
    MARKER_SEQUENCES,
    MIN_NEEDLE_LENGTH,
    MIN_OWN_VALUE_LENGTH,
    MIN_RAW_DIGITS,
    STANDARD_UID_ROOT,
    TEXT_VRS,
    removed_tags,
)

log = logging.getLogger(__name__)

_IDENTIFYING_TAGS = frozenset(t for k in IDENTIFYING_KEYWORDS if (t := tag_for_keyword(k)))
_CLASS_UID_TAGS = frozenset(t for k in CLASS_UID_KEYWORDS if (t := tag_for_keyword(k)))
_MARKER_TAGS = frozenset(t for k in MARKER_KEYWORDS if (t := tag_for_keyword(k)))
_MARKER_PATHS = tuple(f"{k} item" for k in MARKER_SEQUENCES)
_PIXEL_DATA_TAGS = (0x7FE00010, 0x7FE00008, 0x7FE00009)
_BIRTH_DATE = 0x00100030
_IDENTITY_VRS = frozenset({"SQ", "PN", "UI", "UN"})
_NAME_SPLIT = re.compile(r"[\^=\s,]+")
_ALNUM = re.compile(r"[^\W_]")


@dataclass(frozen=True)
class SourceIdentity:
    """What identified the patient in a source file, collected before it is de-identified.

    ``strings`` are matched anywhere (case-insensitive substring): whole names in ``^``-joined
    and space-joined forms, IDs, accession number, birth date, addresses, institution.
    ``words`` are name components (>= 3 characters) matched as whole words, so that a short
    surname such as "ANN" is found in "SMITH ANN" but not in "SCANNER".
    ``uids`` are the source's UIDs outside the DICOM root, all of which must have changed.
    """

    strings: frozenset[str]
    uids: frozenset[str]
    words: frozenset[str] = frozenset()

    @classmethod
    def from_dataset(cls, ds: Dataset) -> SourceIdentity:
        """Collect from every level of ``ds`` and its file meta. Call BEFORE de-identifying."""
        strings: set[str] = set()
        words: set[str] = set()
        uids: set[str] = set()
        for elem in _relevant_elements(ds):
            _collect(elem, strings, words, uids)
        meta = getattr(ds, "file_meta", None)
        if meta is not None:
            for elem in _relevant_elements(meta):
                _collect(elem, strings, words, uids)
        return cls(frozenset(strings), frozenset(uids), frozenset(words - strings))

    @property
    def is_empty(self) -> bool:
        return not (self.strings or self.words or self.uids)


def _relevant_elements(ds: Dataset) -> Iterator[DataElement]:
    """Names, UIDs, identifying attributes and sequences at every depth, decoding nothing else.

    Why: most of a CT header is numbers the identity does not need, and pydicom's value
    conversion is the largest cost of reading a header; the raw element already says its VR.
    """
    for tag in list(ds.keys()):
        raw = ds.get_item(tag)
        vr = getattr(raw, "VR", None) or _dictionary_vr(tag)
        if vr not in _IDENTITY_VRS and tag not in _IDENTIFYING_TAGS:
            continue
        elem = ds[tag]
        if elem.VR == "SQ":
            for item in elem.value or ():
                yield from _relevant_elements(item)
        else:
            yield elem


@cache
def _dictionary_vr(tag: int) -> str:
    try:
        return str(dictionary_VR(tag))
    except KeyError:
        return "UN"


def _values(elem: DataElement) -> Iterator[str]:
    value = elem.value
    if value is None or isinstance(value, (bytes, bytearray)):
        return
    items = value if elem.VM > 1 or isinstance(value, (list, tuple)) else [value]
    for item in items:
        text = str(item).strip().rstrip("\x00").strip()
        if text:
            yield text


def _collect(elem: DataElement, strings: set[str], words: set[str], uids: set[str]) -> None:
    vr = elem.VR
    if vr == "SQ":
        return
    if vr == "UI":
        if elem.tag in _CLASS_UID_TAGS:
            return
        uids.update(v for v in _values(elem) if not v.startswith(STANDARD_UID_ROOT))
        return
    if vr == "PN":
        for name in _values(elem):
            _collect_name(name, strings, words)
        return
    if elem.tag not in _IDENTIFYING_TAGS:
        return
    for text in _values(elem):
        if elem.tag == _BIRTH_DATE and text.endswith("0101"):
            continue  # equals its year-reduced form, which the profile keeps on purpose
        if len(text) >= MIN_NEEDLE_LENGTH and _ALNUM.search(text):
            strings.add(text.upper())


def _collect_name(name: str, strings: set[str], words: set[str]) -> None:
    trimmed = name.strip("^= ")
    parts = [p for p in _NAME_SPLIT.split(trimmed) if p]
    parts = [p for p in parts if _ALNUM.search(p)]  # "----" is a placeholder, not a name
    for form in (trimmed, "^".join(parts), " ".join(parts), " ".join(reversed(parts))):
        if len(form) >= MIN_NEEDLE_LENGTH and _ALNUM.search(form):
            strings.add(form.upper())
    words.update(p.upper() for p in parts if len(p) >= MIN_NEEDLE_LENGTH)


def _walk(ds: Dataset, path: str = "") -> Iterator[tuple[DataElement, str]]:
    """Every element at every depth, with a readable location (keywords, no values)."""
    for elem in ds:
        yield elem, path
        if elem.VR == "SQ" and elem.value:
            name = elem.keyword or _tag_text(elem.tag)
            for index, item in enumerate(elem.value, start=1):
                yield from _walk(item, f"{path}{name} item {index} > ")


def _tag_text(tag: int) -> str:
    tag = BaseTag(tag)
    return f"({tag.group:04X},{tag.element:04X})"


def _label(elem: DataElement, path: str) -> str:
    name = elem.keyword or _tag_text(elem.tag)
    return f"{path}{name}" if not elem.keyword else f"{path}{name} {_tag_text(elem.tag)}"


def _is_overlay_or_curve(tag: BaseTag) -> bool:
    return tag.group & 0xFF01 in (0x6000, 0x5000)


class _Matcher:
    """The source's identifying strings compiled once: one regex for text, one for bytes."""

    def __init__(self, identity: SourceIdentity) -> None:
        strong = sorted(identity.strings, key=len, reverse=True)
        words = sorted(identity.words, key=len, reverse=True)
        self.all_text = _text_pattern(strong, words)
        self.textual_only = _text_pattern([s for s in strong if not s.isdigit()], words)
        raw = [s for s in strong if not s.isdigit() or len(s) >= MIN_RAW_DIGITS]
        self.raw = _bytes_pattern(raw, words)

    def text_hit(self, elem: DataElement) -> bool:
        """Whether a string element holds an identifying string.

        Numbers-only identifiers are looked for in free-text elements only: a short hospital
        number also occurs by chance in times, numbers and the (hashed) UIDs.
        """
        pattern = self.all_text if elem.VR in TEXT_VRS else self.textual_only
        if pattern is None:
            return False
        value = elem.value
        if isinstance(value, (bytes, bytearray)):
            if elem.VR != "UN":
                return False
            value = bytes(value).decode("latin-1")
        return any(pattern.search(text) for text in _texts(value))


def _texts(value: object) -> Iterable[str]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return (str(v) for v in value)  # type: ignore[attr-defined]
    return (str(value),)


def _text_pattern(strings: list[str], words: list[str]) -> re.Pattern[str] | None:
    alternatives = [re.escape(s) for s in strings]
    if words:
        joined = "|".join(re.escape(w) for w in words)
        alternatives.append(rf"(?<![A-Za-z0-9])(?:{joined})(?![A-Za-z0-9])")
    return re.compile("|".join(alternatives), re.IGNORECASE) if alternatives else None


def _bytes_pattern(strings: list[str], words: list[str]) -> re.Pattern[bytes] | None:
    alternatives: list[bytes] = []
    for text in strings:
        alternatives.extend(re.escape(form) for form in _encodings(text))
    word_forms = [re.escape(form) for w in words for form in _encodings(w)]
    if word_forms:
        alternatives.append(rb"(?<![A-Za-z0-9])(?:" + b"|".join(word_forms) + rb")(?![A-Za-z0-9])")
    return re.compile(b"|".join(alternatives), re.IGNORECASE) if alternatives else None


def _encodings(text: str) -> set[bytes]:
    forms = {text.encode("utf-8")}
    if text.isascii() or all(ord(c) < 256 for c in text):
        forms.add(text.encode("latin-1"))
    return forms


def verify_output(path: Path, identity: SourceIdentity, pseudonym: str) -> list[str]:
    """Problems that forbid sending the de-identified file at ``path``; [] means safe.

    One parse with pydicom, one regex search of the raw bytes outside the pixel data value.
    """
    try:
        data = Path(path).read_bytes()
        ds = dcmread(io.BytesIO(data))
    except Exception as exc:  # any parse failure fails closed
        log.warning("De-identified output could not be re-read (%s).", type(exc).__name__)
        return ["The de-identified file cannot be read back as DICOM."]
    matcher = _Matcher(identity)
    pixel_span = _pixel_data_span(ds)
    problems: list[str] = []
    own_values: set[str] = {pseudonym}
    removed = removed_tags()
    elements = list(_walk(ds))
    if ds.file_meta is not None:
        elements.extend(_walk(ds.file_meta, "file meta > "))
    for elem, where in elements:
        problems.extend(_element_problems(elem, where, identity, matcher, removed, own_values))
    problems.extend(_marker_problems(ds, pseudonym))
    if matcher.raw is not None and matcher.raw.search(_raw_haystack(data, pixel_span, own_values)):
        problems.append("An identifying value of the source is still present in the file's "
                        "bytes outside the pixel data.")
    return problems


def _element_problems(elem: DataElement, where: str, identity: SourceIdentity,
                      matcher: _Matcher, removed: frozenset[int],
                      own_values: set[str]) -> Iterator[str]:
    tag = elem.tag
    label = _label(elem, where)
    if tag.is_private:
        yield f"Private tag {label} is still present."
        return
    if _is_overlay_or_curve(tag):
        yield f"Overlay or curve {label} is still present."
        return
    if tag in removed and not where.startswith("file meta"):
        yield f"{label} should have been removed."
    if elem.VR == "SQ" or tag in _PIXEL_DATA_TAGS:
        return
    if elem.VR == "UI":
        values = set(_values(elem))
        own_values.update(values)
        if values & identity.uids:
            yield f"{label} still holds a UID of the source."
        return
    if tag in _MARKER_TAGS or where.startswith(_MARKER_PATHS):
        own_values.update(_values(elem))
        return
    if matcher.text_hit(elem):
        yield f"{label} contains an identifying value of the source."


def _marker_problems(ds: Dataset, pseudonym: str) -> Iterator[str]:
    if str(ds.get("PatientID", "")).strip() != pseudonym:
        yield "PatientID is not the patient's pseudonym."
    if str(ds.get("PatientName", "")).strip() != pseudonym:
        yield "PatientName is not the patient's pseudonym."
    if str(ds.get("PatientIdentityRemoved", "")).strip().upper() != "YES":
        yield "PatientIdentityRemoved is not set to YES."


def _pixel_data_span(ds: Dataset) -> tuple[int, int] | None:
    """Where the pixel data value lies in the file, read before anything converts it."""
    for tag in _PIXEL_DATA_TAGS:
        if tag not in ds:
            continue
        raw = ds.get_item(tag)
        tell = getattr(raw, "value_tell", None)
        value = getattr(raw, "value", None)
        if tell is not None and isinstance(value, (bytes, bytearray)):
            return tell, tell + len(value)
    return None


def _raw_haystack(data: bytes, pixel_span: tuple[int, int] | None,
                  own_values: set[str]) -> bytes:
    """The file's bytes minus the pixel data value and the values this profile wrote itself.

    The pixel data is excluded because image bytes match short names by chance (burned-in text
    is handled by quarantine rules instead); our own UIDs, pseudonym and method text are
    excluded because a hashed UID contains short digit runs by chance.
    """
    haystack = data
    if pixel_span is not None:
        haystack = data[:pixel_span[0]] + data[pixel_span[1]:]
    for value in sorted(own_values, key=len, reverse=True):
        if len(value) >= MIN_OWN_VALUE_LENGTH:
            haystack = haystack.replace(value.encode("utf-8", "replace"), b"")
    return haystack
