"""The second, independent check of every de-identified file before it may be sent.

Why a second pass: the de-identifier edits a dataset in memory following the profile; a bug
there (a sequence not walked, a new attribute, a vendor quirk) would otherwise leak silently.
This module parses the output bytes as another program would and looks for what must not be
there: private tags, overlays, curves, attributes the profile removes, source UIDs, and any
identifying string of the source, both in the parsed elements at any depth and in the raw bytes
of the file outside the pixel data. It shares no code path with the de-identifier, so one
mistake cannot hide itself. A non-empty list of problems means the file must not be sent.

The output is walked as bytes (:mod:`..codec.raw_walk`: a tree of tags, VRs and value offsets, no
pydicom dataset per sequence item) and its values read as text from those bytes
(:mod:`..codec.raw_values`); a file the walker leaves to pydicom (an unusual transfer syntax or
character set) is parsed by pydicom instead, with the same checks. The pixel data is neither
read into memory nor copied: the check costs a walk of the header, not of the file.
Problems name the attribute or tag, never the value found, so they can be shown and logged.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable
from pathlib import Path

from pydicom import dcmread
from pydicom.datadict import keyword_for_tag, tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

from nccid_desktop.dicom.codec.raw_values import (
    codec_of,
    converted_texts,
    dataset_codec,
    element_vr,
    needs_conversion,
    raw_bytes,
    raw_texts,
)
from nccid_desktop.dicom.codec.raw_walk import Element, NeedsFullParser, walk_part10
from nccid_desktop.dicom.verify.identity import SourceIdentity
from nccid_desktop.dicom.verify.match import Matcher, matcher_for, raw_haystack
from nccid_desktop.dicom.verify.rules import (
    MARKER_KEYWORDS,
    MARKER_SEQUENCES,
    TEXT_VRS,
    removed_tags,
)

__all__ = ["SourceIdentity", "check_parsed", "check_walked", "verify_output"]

log = logging.getLogger(__name__)

_MARKER_TAGS = frozenset(t for k in MARKER_KEYWORDS if (t := tag_for_keyword(k)))
_MARKER_PATHS = tuple(f"{k} item" for k in MARKER_SEQUENCES)
_PIXEL_DATA_ORDER = (0x7FE00010, 0x7FE00008, 0x7FE00009)
_PIXEL_DATA_TAGS = frozenset(_PIXEL_DATA_ORDER)
_UNDEFINED = 0xFFFFFFFF
#: Values longer than this are not read when parsing an output (the pixel data).
_DEFER_BYTES = 64 * 1024
#: String VRs that are not free text: searched for identifiers that are not only digits.
_OTHER_STRING_VRS = frozenset({"AS", "DA", "DS", "DT", "IS", "TM"})
#: What is read of an element: numbers and bytes are not (their text is digits and signs,
#: which only numbers-only identifiers could match, and those are searched in free text).
_READ_VRS = TEXT_VRS | _OTHER_STRING_VRS | {"UI", "SQ"}
_FILE_META = "file meta > "
_UNREADABLE = "The de-identified file cannot be read back as DICOM."
_PATIENT_NAME, _PATIENT_ID, _IDENTITY_REMOVED = 0x00100010, 0x00100020, 0x00120062
_IDENTITY_MARKERS = frozenset({_PATIENT_NAME, _PATIENT_ID, _IDENTITY_REMOVED})


def _tag_text(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def _label(tag: int, path: str) -> str:
    keyword = keyword_for_tag(tag)
    return f"{path}{keyword} {_tag_text(tag)}" if keyword else f"{path}{_tag_text(tag)}"


def _is_overlay_or_curve(tag: int) -> bool:
    return (tag >> 16) & 0xFF01 in (0x6000, 0x5000)


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
    [] means safe. One walk of the header, one regex search of the bytes outside the pixel
    data.
    """
    try:
        data = bytes(output) if isinstance(output, (bytes, bytearray, memoryview)) \
            else Path(output).read_bytes()
    except OSError as exc:
        log.warning("De-identified output could not be re-read (%s).", type(exc).__name__)
        return [_UNREADABLE]
    matcher = matcher_for(identity.strings, identity.words)
    try:
        return check_walked(data, identity, matcher, pseudonym)
    except NeedsFullParser:
        return check_parsed(data, identity, matcher, pseudonym)


def check_walked(data: bytes, identity: SourceIdentity, matcher: Matcher,
                 pseudonym: str) -> list[str]:
    """The checks over the bytes walked by :mod:`..codec.raw_walk`; raises
    :class:`~.raw_walk.NeedsFullParser` when pydicom must parse this file instead."""
    walked = walk_part10(data)
    check = _WalkedCheck(data, identity, matcher, pseudonym)
    check.dataset(walked.dataset, "", codec_of(walked.dataset, data, "latin-1"))
    check.dataset(walked.meta, _FILE_META, "latin-1")
    top = {tag: (start, length) for tag, _, start, length, _ in walked.dataset
           if tag in _IDENTITY_MARKERS}
    check.problems.extend(_marker_problems(
        lambda tag: data[top[tag][0]:sum(top[tag])].decode("latin-1") if tag in top else "",
        pseudonym))
    return check.finish(walked.pixel_span)


def check_parsed(data: bytes, identity: SourceIdentity, matcher: Matcher,
                 pseudonym: str) -> list[str]:
    """The same checks over the dataset pydicom parses from ``data``."""
    try:
        ds = _parse(data)
    except Exception as exc:  # any parse failure fails closed
        log.warning("De-identified output could not be re-read (%s).", type(exc).__name__)
        return [_UNREADABLE]
    check = _ParsedCheck(data, identity, matcher, pseudonym)
    check.dataset(ds, "", dataset_codec(ds))
    if ds.file_meta is not None:
        check.dataset(ds.file_meta, _FILE_META, "latin-1")
    check.problems.extend(_marker_problems(
        lambda tag: str(ds[tag].value) if tag in ds._dict else "", pseudonym))
    return check.finish(_pixel_data_span(ds))


class _OutputCheck:
    """What one walk over every element at every depth found: problems, and the values the
    profile wrote itself (ignored in the raw bytes)."""

    def __init__(self, data: bytes, identity: SourceIdentity, matcher: Matcher,
                 pseudonym: str) -> None:
        self.data = data
        self.identity = identity
        self.matcher = matcher
        self.removed = removed_tags()
        self.own_values: set[str] = {pseudonym}
        self.problems: list[str] = []

    def admit(self, tag: int, path: str, in_meta: bool) -> bool:
        """Note what the tag alone shows is wrong; whether its value is to be read."""
        if (tag >> 16) & 1:
            self.problems.append(f"Private tag {_label(tag, path)} is still present.")
            return False
        if _is_overlay_or_curve(tag):
            self.problems.append(f"Overlay or curve {_label(tag, path)} is still present.")
            return False
        if tag in self.removed and not in_meta:
            self.problems.append(f"{_label(tag, path)} should have been removed.")
        return tag not in _PIXEL_DATA_TAGS

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

    def finish(self, pixel_span: tuple[int, int] | None) -> list[str]:
        """Add the search of the file's bytes outside the pixel data; all problems found."""
        raw = self.matcher.raw
        if raw is not None and raw.search(raw_haystack(self.data, pixel_span,
                                                       self.own_values)):
            self.problems.append("An identifying value of the source is still present in "
                                 "the file's bytes outside the pixel data.")
        return self.problems


class _WalkedCheck(_OutputCheck):
    def dataset(self, elements: list[Element], path: str, codec: str | None) -> None:
        in_meta = path.startswith(_FILE_META)
        data = self.data
        for tag, vr, start, length, items in elements:
            if not self.admit(tag, path, in_meta):
                continue
            if items is not None:
                name = keyword_for_tag(tag) or _tag_text(tag)
                for index, item in enumerate(items, start=1):
                    self.dataset(item, f"{path}{name} item {index} > ",
                                 codec_of(item, data, codec))
            elif vr in _READ_VRS:
                texts = raw_texts(data[start:start + length], vr, codec)
                if texts is None:
                    raise NeedsFullParser("a character set only pydicom decodes")
                self.values(tag, vr, texts, path)


class _ParsedCheck(_OutputCheck):
    def dataset(self, ds: Dataset, path: str, codec: str | None) -> None:
        in_meta = path.startswith(_FILE_META)
        data = self.data if path in ("", _FILE_META) else None  # offsets are the file's
        for base_tag, elem in list(ds._dict.items()):
            tag = int(base_tag)
            if not self.admit(tag, path, in_meta):
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


def _marker_problems(value_of: Callable[[int], str], pseudonym: str) -> Iterable[str]:
    """What is wrong with the three attributes that say the file is de-identified."""
    if value_of(_PATIENT_ID).strip(" \x00") != pseudonym:
        yield "PatientID is not the patient's pseudonym."
    if value_of(_PATIENT_NAME).strip(" \x00") != pseudonym:
        yield "PatientName is not the patient's pseudonym."
    if value_of(_IDENTITY_REMOVED).strip(" \x00").upper() != "YES":
        yield "PatientIdentityRemoved is not set to YES."


def _pixel_data_span(ds: Dataset) -> tuple[int, int] | None:
    """Where the pixel data value lies in the file, from its raw element (never read)."""
    for tag in _PIXEL_DATA_ORDER:
        raw = ds._dict.get(BaseTag(tag))
        if not isinstance(raw, RawDataElement):
            continue
        if raw.value is not None:
            return raw.value_tell, raw.value_tell + len(raw.value)
        if raw.length != _UNDEFINED:
            return raw.value_tell, raw.value_tell + raw.length
    return None
