"""The bytes of a new element's value, exactly as pydicom's writer encodes it, for the encoder.

Why apart from :mod:`.part10_writer`: the elements the de-identifier creates (texts, UIDs, dates,
empty values) are the only ones the encoder has to encode rather than copy; these few rules
say how ``write_string`` and ``write_text`` encode them, and leave every other value to
pydicom's writer.
"""

from __future__ import annotations

from functools import cache
from struct import pack
from typing import Any

from pydicom.charset import convert_encodings
from pydicom.dataelem import DataElement
from pydicom.multival import MultiValue
from pydicom.uid import UID

#: VRs pydicom writes with ``write_string``: Latin-1, padded with a space (UI: a NUL).
_STRING_VRS = frozenset({"AE", "AS", "CS", "DA", "DT", "TM", "UR", "UI"})
#: VRs pydicom writes with ``write_text`` in the dataset's character set, space-padded.
_TEXT_VRS = frozenset({"LO", "LT", "SH", "ST", "UC", "UT"})
#: ``struct`` formats of single integers, by VR and then by little endianness.
_INTEGER_FORMATS = {vr: {True: "<" + f, False: ">" + f}
                    for vr, f in (("US", "H"), ("UL", "L"), ("SS", "h"), ("SL", "l"))}
#: Value types whose text is the value itself (pydicom keeps UIDs as a ``str`` subclass).
_PLAIN_STRINGS = (str, UID)
#: Python codecs (as pydicom names them) in which ASCII text is encoded as ASCII.
_ASCII_COMPATIBLE = frozenset({"iso8859", "latin_1", "UTF8", "utf_8", "ascii"})


def simple_value(elem: DataElement, encodings: Any, little: bool) -> bytes | None:
    """The encoded value of an empty or plain-text element, as pydicom's ``write_string`` and
    ``write_text`` encode it; None for anything else (names, numbers, bytes, non-ASCII text
    in a character set that needs pydicom), which pydicom then writes itself."""
    if elem.is_undefined_length:
        return None
    value = elem.value
    if value is None or (type(value) in (str, bytes) and not value):
        return b""
    if type(value) in _PLAIN_STRINGS:
        values = [value]
    elif type(value) in (list, MultiValue) and all(type(v) in _PLAIN_STRINGS for v in value):
        values = list(value)
        if not values:
            return b""
    else:
        return None
    vr = elem.VR
    if type(value) is int and vr in _INTEGER_FORMATS:
        return pack(_INTEGER_FORMATS[vr][little], value)
    if type(value) is bytes and vr in ("OB", "OW"):
        return value + b"\x00" if len(value) % 2 else value
    if vr in _STRING_VRS:
        text = "\\".join(values)
        if not text.isascii():
            return None
        padding = "\0" if vr == "UI" else " "
        return (text + padding if len(text) % 2 else text).encode("ascii")
    if vr in _TEXT_VRS and all(v.isascii() for v in values) and _ascii_compatible(encodings):
        encoded = "\\".join(values).encode("ascii")
        return encoded + b" " if len(encoded) % 2 else encoded
    return None


def _ascii_compatible(encodings: Any) -> bool:
    if isinstance(encodings, str):
        encodings = [encodings]
    return _ascii_compatible_names(tuple(str(e) for e in encodings or ()))


@cache
def _ascii_compatible_names(encodings: tuple[str, ...]) -> bool:
    try:
        return all(c in _ASCII_COMPATIBLE for c in convert_encodings(list(encodings) or [""]))
    except LookupError:
        return False
