"""The second, independent check of every de-identified file before it may be sent.

Why a second pass: the de-identifier edits a dataset in memory following the profile; a bug
there (a sequence not walked, a new attribute, a vendor quirk) would otherwise leak silently.
This module parses the output bytes as another program would and looks for what must not be
there: everything the profile forbids (:mod:`.conformance`, the same check the collection
service runs on every instance it receives: private tags, overlays, curves, attributes the
profile removes, empties or replaces holding anything else, identifier-shaped values, the
markers, burned-in text), plus what only the source shows: its UIDs and any identifying
string of it, both in the parsed elements at any depth and in the raw bytes of the file
outside the pixel data. It shares the profile's data with the de-identifier but no code path,
so one mistake cannot hide itself. A non-empty list of problems means the file must not be
sent.

The output is walked as bytes (:mod:`..codec.raw_walk`: a tree of tags, VRs and value offsets, no
pydicom dataset per sequence item) and its values read as text from those bytes
(:mod:`..codec.raw_values`); a file the walker leaves to pydicom (an unusual transfer syntax or
character set) is parsed by pydicom instead, with the same checks. The pixel data is neither
read into memory nor copied: the check costs a walk of the header, not of the file.
Problems name the attribute or tag, never the value found, so they can be shown and logged.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pydicom.datadict import tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

from nccid_desktop.dicom.codec.raw_values import codec_of, dataset_codec
from nccid_desktop.dicom.codec.raw_walk import NeedsFullParser, walk_part10
from nccid_desktop.dicom.deid.profile import Action
from nccid_desktop.dicom.verify.conformance import ElementCheck, Problem, label
from nccid_desktop.dicom.verify.identity import SourceIdentity
from nccid_desktop.dicom.verify.match import Matcher, matcher_for, raw_haystack
from nccid_desktop.dicom.verify.rules import MARKER_KEYWORDS, MARKER_SEQUENCES
from nccid_desktop.dicom.verify.traversal import (
    FILE_META,
    READ_VRS,
    UNDEFINED,
    parse_output,
    walk_dataset,
    walk_elements,
)

__all__ = ["SourceIdentity", "check_parsed", "check_walked", "verify_output"]

log = logging.getLogger(__name__)

_MARKER_TAGS = frozenset(t for k in MARKER_KEYWORDS if (t := tag_for_keyword(k)))
_MARKER_PATHS = tuple(f"{k} item" for k in MARKER_SEQUENCES)
_PIXEL_DATA_ORDER = (0x7FE00010, 0x7FE00008, 0x7FE00009)
_UNREADABLE = "The de-identified file cannot be read back as DICOM."
#: Rules of the source checks (beside the profile's, :mod:`.conformance`).
SOURCE_UID = "source_uid"
SOURCE_VALUE = "source_value"


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
    check = _OutputCheck(data, identity, matcher, pseudonym)
    walk_elements(check, walked.dataset, "", codec_of(walked.dataset, data, "latin-1"))
    walk_elements(check, walked.meta, FILE_META, "latin-1")
    return check.messages(walked.pixel_span)


def check_parsed(data: bytes, identity: SourceIdentity, matcher: Matcher,
                 pseudonym: str) -> list[str]:
    """The same checks over the dataset pydicom parses from ``data``."""
    try:
        ds = parse_output(data)
    except Exception as exc:  # any parse failure fails closed
        log.warning("De-identified output could not be re-read (%s).", type(exc).__name__)
        return [_UNREADABLE]
    check = _OutputCheck(data, identity, matcher, pseudonym)
    walk_dataset(check, ds, "", dataset_codec(ds))
    if ds.file_meta is not None:
        walk_dataset(check, ds.file_meta, FILE_META, "latin-1")
    return check.messages(_pixel_data_span(ds))


class _OutputCheck(ElementCheck):
    """The profile's checks (:class:`~.conformance.ElementCheck`), plus what needs the source:
    its UIDs and identifying strings in the elements, and in the raw bytes; the values the
    profile wrote itself are collected on the way (ignored in the raw bytes)."""

    def __init__(self, data: bytes, identity: SourceIdentity, matcher: Matcher,
                 pseudonym: str) -> None:
        super().__init__(data, pseudonym)
        self.identity = identity
        self.matcher = matcher
        self.own_values: set[str] = {pseudonym}

    def values(self, tag: int, vr: str, texts: list[str], path: str, action: Action,
               in_meta: bool) -> None:
        super().values(tag, vr, texts, path, action, in_meta)
        if vr == "UI":
            values = set(texts)
            self.own_values.update(values)
            if values & self.identity.uids:
                self.add(SOURCE_UID, tag, f"{label(tag, path)} still holds a UID of the source.")
            return
        if tag in _MARKER_TAGS or path.startswith(_MARKER_PATHS):
            self.own_values.update(texts)
            return
        if vr in READ_VRS and self.matcher.text_hit(vr, texts):
            self.add(SOURCE_VALUE, tag,
                     f"{label(tag, path)} contains an identifying value of the source.")

    def messages(self, pixel_span: tuple[int, int] | None) -> list[str]:
        """Every problem's sentence, the search of the bytes outside the pixel data last."""
        problems = self.finish()
        raw = self.matcher.raw
        if raw is not None and raw.search(raw_haystack(self.data, pixel_span,
                                                       self.own_values)):
            problems.append(Problem(SOURCE_VALUE, "", "An identifying value of the source is "
                                    "still present in the file's bytes outside the pixel "
                                    "data."))
        return [problem.message for problem in problems]


def _pixel_data_span(ds: Dataset) -> tuple[int, int] | None:
    """Where the pixel data value lies in the file, from its raw element (never read)."""
    for tag in _PIXEL_DATA_ORDER:
        raw = ds._dict.get(BaseTag(tag))
        if not isinstance(raw, RawDataElement):
            continue
        if raw.value is not None:
            return raw.value_tell, raw.value_tell + len(raw.value)
        if raw.length != UNDEFINED:
            return raw.value_tell, raw.value_tell + raw.length
    return None
