"""Values and headers in the bytes pydicom would write, and text read as pydicom reads it.

Why apart from the editor (:mod:`.byte_editor`): these are the rules that make the byte path's
output identical to the pydicom reference path's (:mod:`.pydicom_reference` then
:mod:`..codec.part10_writer`): how a header, a new text value, a kept descriptor, a dummy value
and the file meta are encoded, and what pydicom's conversion makes of a raw text value. The
editor decides *what* to write; this module says *how* pydicom would have written it, and
raises :class:`NeedsFullParser` where it cannot say exactly.
"""

from __future__ import annotations

from functools import cache
from struct import Struct

from pydicom import config
from pydicom.dataelem import DataElement
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_data_element
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID

from nccid_desktop.dicom.codec.raw_walk import UNDEFINED, NeedsFullParser
from nccid_desktop.dicom.deid.marks import IMPLEMENTATION_VERSION
from nccid_desktop.dicom.deid.values import dummy_value

IMPLICIT_HEADER = Struct("<HHL")
SHORT_HEADER = Struct("<HH2sH")
LONG_HEADER = Struct("<HH2sHL")
LENGTH = Struct("<L")
LONG_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR",
                      "UT", "UV"})
ITEM_UNDEFINED = IMPLICIT_HEADER.pack(0xFFFE, 0xE000, UNDEFINED)
ITEM_END = IMPLICIT_HEADER.pack(0xFFFE, 0xE00D, 0)
SEQUENCE_END = IMPLICIT_HEADER.pack(0xFFFE, 0xE0DD, 0)

#: VRs whose new values pydicom writes as ASCII text (``write_string``, ``write_text``,
#: ``write_PN``), padded to even length with a space, a UID with a NUL.
_TEXT_VRS = frozenset({"AE", "AS", "CS", "DA", "DT", "TM", "UR", "UI", "LO", "LT", "SH",
                       "ST", "UC", "UT", "PN"})
#: VRs pydicom converts by splitting at backslashes and stripping each value.
_SPLIT_TEXT_VRS = frozenset({"LO", "SH", "UC"})
#: VRs pydicom converts by stripping the whole value, then splitting it.
_SPLIT_STRING_VRS = frozenset({"AE", "AS", "CS", "DA", "DT", "TM", "UI"})


def element_header(implicit: bool, tag: int, vr: str, length: int) -> bytes:
    """Tag, VR and length as pydicom writes them (little endian)."""
    if implicit:
        return IMPLICIT_HEADER.pack(tag >> 16, tag & 0xFFFF, length)
    if vr in LONG_VRS:
        return LONG_HEADER.pack(tag >> 16, tag & 0xFFFF, vr.encode(), 0, length)
    if length > 0xFFFF or len(vr) != 2:
        raise NeedsFullParser("a value pydicom would write with another VR")
    return SHORT_HEADER.pack(tag >> 16, tag & 0xFFFF, vr.encode(), length)


def converted_strings(raw: bytes, vr: str, codec: str) -> list[str]:
    """The values pydicom's conversion gives a raw text element, as strings: what the
    profile's reads (risk, Patient ID, age, identifying strings, descriptions) see.
    An empty element gives one empty value, as pydicom's empty string does."""
    if vr == "PN":
        return _decode(raw.rstrip(b"\x00 "), codec).split("\\")
    if vr in _SPLIT_TEXT_VRS:
        return [v.rstrip("\x00 ") for v in _decode(raw, codec).split("\\")]
    if vr in _SPLIT_STRING_VRS:
        return raw.decode("latin-1").rstrip(" \x00").split("\\")
    if vr == "ST":
        return [_decode(raw, codec).rstrip("\x00 ")]
    raise NeedsFullParser("an identity attribute with a VR read only through pydicom")


def _decode(raw: bytes, codec: str) -> str:
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as exc:  # pydicom decodes with replacements and warnings
        raise NeedsFullParser("text that does not decode") from exc


def new_text(vr: str, values: list[str]) -> bytes:
    """A new text value as pydicom writes it: joined, padded to even length; none is empty."""
    if vr not in _TEXT_VRS:
        raise NeedsFullParser("a new value for a VR pydicom writes itself")
    text = "\\".join(values)
    if not text.isascii():
        raise NeedsFullParser("a new value that is not ASCII")
    if len(text) % 2:
        text += "\0" if vr == "UI" else " "
    return text.encode("ascii")


def kept_text(values: list[str], codec: str) -> bytes:
    """A kept descriptor as pydicom re-encodes it (``write_text``): each value in the
    dataset's character set, joined, padded to even length with a space."""
    encoded = "\\".join(values).encode(codec)
    return encoded + b" " if len(encoded) % 2 else encoded


@cache
def dummy(vr: str) -> bytes:
    """The dummy value of a VR, encoded by pydicom's own writer (once per VR)."""
    if " or " in vr or vr == "SQ":
        raise NeedsFullParser("a dummy for an ambiguous VR")
    elem = DataElement(0x00100010, vr, dummy_value(vr), validation_mode=config.IGNORE)
    fp = DicomBytesIO()
    fp.is_implicit_VR, fp.is_little_endian = True, True
    write_data_element(fp, elem)
    return fp.getvalue()[8:]


def sop_class_text(raw: bytes, vr: str) -> str:
    """The SOP Class UID as pydicom reads it (one value, padding stripped)."""
    text = raw.decode("latin-1").rstrip("\x00 ")
    if vr != "UI" and vr != "UN":
        raise NeedsFullParser("a SOP Class UID that is not a UI")
    if "\\" in text or not text:
        raise NeedsFullParser("a SOP Class UID pydicom would refuse to write")
    return text


def _meta_element(number: int, vr: str, value: bytes) -> bytes:
    if vr == "OB":
        return LONG_HEADER.pack(0x0002, number, b"OB", 0, len(value)) + value
    return SHORT_HEADER.pack(0x0002, number, vr.encode(), len(value)) + value


def file_meta(sop_class: str, sop_instance: str, transfer_syntax: str) -> bytes:
    """A fresh file meta, as the pydicom path completes and writes it: nothing of the
    source's meta (AE titles, private information) survives."""
    body = b"".join((
        _meta_element(0x0001, "OB", b"\x00\x01"),
        _meta_element(0x0002, "UI", new_text("UI", [sop_class])),
        _meta_element(0x0003, "UI", new_text("UI", [sop_instance])),
        _meta_element(0x0010, "UI", new_text("UI", [transfer_syntax])),
        _meta_element(0x0012, "UI", new_text("UI", [PYDICOM_IMPLEMENTATION_UID])),
        _meta_element(0x0013, "SH", new_text("SH", [IMPLEMENTATION_VERSION])),
    ))
    return _meta_element(0x0000, "UL", LENGTH.pack(len(body))) + body
