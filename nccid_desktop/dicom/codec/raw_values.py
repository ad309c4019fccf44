"""Read the text of DICOM elements straight from their raw bytes, for the verifier.

Why: the verifier looks at every element of every output, and pydicom's value conversion
(validation, number parsing, MultiValue objects) was most of its cost, although the checks
only need each value as text. For the character sets almost every file uses (the default
repertoire, Latin-1, UTF-8) the raw bytes decode directly; anything else (ISO 2022 code
extensions, other single-byte sets, VRs that depend on the dictionary) falls back to
pydicom's conversion, so no element goes unread. Used by :mod:`..verify.verifier` only, so the
verifier keeps sharing no code path with the de-identifier.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from pydicom.datadict import dictionary_VR
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

SPECIFIC_CHARACTER_SET = BaseTag(0x00080005)
_CHARSET_TAG = 0x00080005  # a plain int: comparing BaseTags calls Python code
_UNDEFINED = 0xFFFFFFFF

#: Specific Character Set values decoded directly, and the Python codec for each.
DIRECT_CODECS = {
    "": "latin-1", "ISO_IR 6": "latin-1", "ISO 2022 IR 6": "latin-1",
    "ISO_IR 100": "latin-1", "ISO 2022 IR 100": "latin-1", "ISO_IR 192": "utf-8",
}
#: VRs whose values are text in the dataset's character set.
CHARSET_VRS = frozenset({"LO", "LT", "PN", "SH", "ST", "UC", "UT"})
#: VRs whose values are plain ASCII text whatever the character set.
ASCII_VRS = frozenset({"AE", "AS", "CS", "DA", "DS", "DT", "IS", "TM", "UI", "UR"})


@cache
def dictionary_vr(tag: int) -> str:
    try:
        return str(dictionary_VR(tag))
    except KeyError:
        return "UN"


def dataset_codec(ds: Dataset, inherited: str | None = "latin-1") -> str | None:
    """The Python codec for the text of ``ds`` (an item inherits its parent's), or None when
    the character set needs pydicom's decoder."""
    elem = ds._dict.get(SPECIFIC_CHARACTER_SET)
    if elem is None:
        return inherited
    value = elem.value
    if isinstance(value, (bytes, bytearray)):
        return charset_codec(bytes(value))
    return _codec_for_terms([value] if isinstance(value, str)
                            else [str(v) for v in value or ()])


def charset_codec(value: bytes) -> str | None:
    """The Python codec for a raw Specific Character Set value, or None (pydicom decodes)."""
    return _codec_for_terms(value.decode("latin-1").split("\\"))


def codec_of(elements: Iterable[tuple[int, str, int, int, Any]], data: bytes,
             inherited: str | None) -> str | None:
    """:func:`dataset_codec` for the elements of a walked dataset (:mod:`.raw_walk`)."""
    charset = next(((s, n) for t, _, s, n, _ in elements if t == _CHARSET_TAG), None)
    return inherited if charset is None else charset_codec(data[charset[0]:sum(charset)])


def _codec_for_terms(terms: list[str]) -> str | None:
    terms = [t.strip(" \x00") for t in terms]
    if len(terms) > 1:
        return None  # code extensions (ISO 2022) switch sets inside a value
    return DIRECT_CODECS.get(terms[0] if terms else "")


def element_vr(elem: Any) -> str:
    """The element's VR as written, or the dictionary's for implicit VR files."""
    return elem.VR or dictionary_vr(int(elem.tag))


def needs_conversion(elem: Any, vr: str) -> bool:
    """Whether only pydicom can say what this element is (its VR depends on the dictionary
    or on other elements), so its converted form must be read instead of its bytes."""
    if not isinstance(elem, RawDataElement):
        return True
    if vr == "UN":
        return dictionary_vr(int(elem.tag)) != "UN"
    return " or " in vr


def raw_bytes(elem: DataElement | RawDataElement, data: bytes | None) -> bytes | None:
    """A raw element's value bytes (a value whose reading was deferred comes from ``data``);
    None for a converted element or a value that cannot be found."""
    if not isinstance(elem, RawDataElement):
        return None
    value = elem.value
    if value is not None:
        return bytes(value)
    if data is None or elem.length == _UNDEFINED or elem.value_tell + elem.length > len(data):
        return None
    return data[elem.value_tell:elem.value_tell + elem.length]


def raw_texts(value: bytes, vr: str, codec: str | None) -> list[str] | None:
    """The values of a raw text element, padding removed; None if pydicom must decode."""
    if vr in ASCII_VRS or vr == "UN":
        text = value.decode("latin-1")
    elif vr in CHARSET_VRS and codec is not None:
        text = value.decode(codec, errors="replace")
    else:
        return None
    if vr in ("LT", "ST", "UT", "UN"):
        parts: Iterable[str] = (text,)
    else:
        parts = text.split("\\")
    return [p for p in (part.strip(" \x00") for part in parts) if p]


def converted_texts(value: Any) -> list[str]:
    """The values of a converted (pydicom) element as trimmed text; bytes give nothing."""
    if value is None or isinstance(value, (bytes, bytearray)):
        return []
    if isinstance(value, str):
        items: Iterable[Any] = (value,)
    elif isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        items = value
    else:
        items = (value,)
    texts = (str(item).strip().rstrip("\x00").strip() for item in items)
    return [t for t in texts if t]
