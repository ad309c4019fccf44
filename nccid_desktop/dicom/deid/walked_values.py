"""What the profile reads from a walked source file, as pydicom's ``Dataset.get`` gives it.

Why apart from the editor (:mod:`.byte_editor`): before anything is written, the burned-in text
rule, the Patient ID, the age and the identifying strings of a patient are read from the
source. The pydicom path reads them from a ``Dataset``; the byte path reads the same values
from the walked element tree (:mod:`..codec.raw_walk`) with pydicom's conversions
(:func:`.byte_encoding.converted_strings`), so both paths decide alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydicom.datadict import tag_for_keyword

from nccid_desktop.dicom.codec.raw_walk import UNDEFINED, Element, NeedsFullParser
from nccid_desktop.dicom.deid.byte_encoding import converted_strings
from nccid_desktop.dicom.deid.values import (
    ID_KEYWORDS,
    NAME_KEYWORDS,
    identifying_strings,
    identifying_strings_once,
)

RISK_KEYWORDS = ("BurnedInAnnotation", "SOPClassUID", "Modality", "ImageType",
                 "ConversionType", "SeriesDescription")


def _tag(keyword: str) -> int:
    tag = tag_for_keyword(keyword)
    assert tag is not None, keyword
    return tag


TAGS = {k: _tag(k) for k in (*RISK_KEYWORDS, *NAME_KEYWORDS, *ID_KEYWORDS, "PatientAge",
                             "PatientBirthDate", "StudyDate", "OtherPatientIDsSequence")}
_IDENTIFYING_TAGS = tuple(TAGS[k] for k in (*NAME_KEYWORDS, *ID_KEYWORDS, "PatientBirthDate"))
_OTHER_IDS = TAGS["OtherPatientIDsSequence"]


class WalkedValues:
    """The values of one walked level by keyword, as pydicom's ``Dataset.get`` gives them:
    None when absent, a string for one value, a list for several (what
    :func:`~.values.identifying_strings` and the risk rule read)."""

    def __init__(self, data: bytes, elements: list[Element], codec: str) -> None:
        self.data = data
        self.by_tag = {element[0]: element for element in elements}
        self.codec = codec

    def strings(self, tag: int) -> list[str] | None:
        element = self.by_tag.get(tag)
        if element is None:
            return None
        _, vr, start, length, items = element
        if items is not None or length == UNDEFINED:
            raise NeedsFullParser("a sequence where a value was expected")
        return converted_strings(self.data[start:start + length], vr, self.codec)

    def get(self, keyword: str, default: Any = None) -> Any:
        tag = TAGS[keyword]
        if tag == _OTHER_IDS:
            return list(self.items(tag)) if tag in self.by_tag else default
        values = self.strings(tag)
        if values is None:
            return default
        return values[0] if len(values) == 1 else values

    def items(self, tag: int) -> Iterator[WalkedValues]:
        items = self.by_tag[tag][4]
        if items is None:
            raise NeedsFullParser("a sequence that is not one")
        for item in items:
            yield WalkedValues(self.data, item, self.codec)

    def single(self, keyword: str) -> str:
        """A value the profile reads as one string; several values are left to pydicom
        (which would read their list's printed form)."""
        value = self.get(keyword)
        if isinstance(value, list):
            raise NeedsFullParser("several values where one is read")
        return value or ""

    def date_text(self, keyword: str) -> str:
        """A date read as one string; several values read as none."""
        value = self.get(keyword)
        return "" if isinstance(value, list) else (value or "")

    def risk_header(self) -> dict[str, Any]:
        header = {k: self.get(k) for k in RISK_KEYWORDS}
        for keyword, value in header.items():
            if isinstance(value, list):
                if keyword == "SOPClassUID":
                    raise NeedsFullParser("several SOP Class UIDs")
                header[keyword] = "\\".join(value)
        return header


def identifying(values: WalkedValues) -> frozenset[str]:
    """:func:`identifying_strings`, once per patient (:func:`identifying_strings_once`): keyed
    on every input's raw bytes and VR (every element of the other IDs' items) and the
    character set."""
    data, by_tag = values.data, values.by_tag
    key: list[Any] = [values.codec]
    for tag in _IDENTIFYING_TAGS:
        element = by_tag.get(tag)
        key.append(None if element is None
                   else (element[1], data[element[2]:element[2] + element[3]]))
    other_ids = by_tag.get(_OTHER_IDS)
    if other_ids is not None:
        if other_ids[4] is None or any(e[4] is not None for item in other_ids[4] for e in item):
            return identifying_strings(values)
        key.append(tuple(tuple((t, vr, data[s:s + n]) for t, vr, s, n, _ in item)
                         for item in other_ids[4]))
    return identifying_strings_once(tuple(key), values)
