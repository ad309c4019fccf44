"""A minimal reader for the first attributes of a Part-10 file: the scan's fast path.

Why not just pydicom: pydicom builds a full element object for every attribute, which is
the right thing when de-identifying but costs most of a scan, where only about twenty
attributes are wanted and all of them sit before group 0028. This reader walks the bytes of
the common encodings (explicit and implicit VR little endian, encapsulated pixel data) up to
the last wanted tag and stops. Anything it is not sure of (big endian, deflate, an unknown
character set, a header longer than the bytes given, a malformed length) makes it return
None, and the caller falls back to pydicom. The tests check that both give the same values.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping

PREAMBLE_END = 132
IMPLICIT_LITTLE = "1.2.840.10008.1.2"
#: Transfer syntaxes this reader refuses: big endian and deflated data sets.
UNSUPPORTED_SYNTAXES = frozenset({"1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99"})
#: Character sets whose bytes decode without escape sequences.
CHARSETS = {"": "latin-1", "ISO_IR 6": "latin-1", "ISO_IR 100": "latin-1",
            "ISO_IR 192": "utf-8"}
_LONG_VRS = frozenset({b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN",
                       b"UR", b"UT", b"UV"})
_UNDEFINED = 0xFFFFFFFF
_ITEM, _ITEM_END, _SEQUENCE_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
_CHARSET_TAG = 0x00080005
_TAG = struct.Struct("<HH")
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")


class _Unsure(Exception):
    """The bytes are not what the fast path handles; let pydicom read the file."""


def _element(buf: bytes, pos: int, explicit: bool) -> tuple[int, int, int]:
    """(tag, value offset, value length) of the element at ``pos``."""
    if pos + 8 > len(buf):
        raise _Unsure
    group, number = _TAG.unpack_from(buf, pos)
    tag = group << 16 | number
    if group == 0xFFFE or not explicit:
        return tag, pos + 8, _U32.unpack_from(buf, pos + 4)[0]
    vr = buf[pos + 4:pos + 6]
    if vr in _LONG_VRS:
        if pos + 12 > len(buf):
            raise _Unsure
        return tag, pos + 12, _U32.unpack_from(buf, pos + 8)[0]
    if not (65 <= vr[0] <= 90 and 65 <= vr[1] <= 90):
        raise _Unsure
    return tag, pos + 8, _U16.unpack_from(buf, pos + 6)[0]


def _skip_undefined(buf: bytes, pos: int, explicit: bool, depth: int = 0) -> int:
    """Offset just past the sequence (or undefined-length value) starting at ``pos``."""
    if depth > 32:
        raise _Unsure
    while True:
        tag, start, length = _element(buf, pos, explicit)
        if tag == _SEQUENCE_END:
            return start
        if tag != _ITEM:
            raise _Unsure
        if length != _UNDEFINED:
            pos = start + length
            continue
        pos = start
        while True:
            tag, start, length = _element(buf, pos, explicit)
            if tag == _ITEM_END:
                pos = start
                break
            if length != _UNDEFINED:
                pos = start + length
                continue
            inner_explicit = explicit and buf[pos + 4:pos + 6] != b"UN"
            pos = _skip_undefined(buf, start, inner_explicit, depth + 1)


def _meta(buf: bytes) -> tuple[dict[int, bytes], int]:
    """The file meta group (always explicit VR little endian) and where the data set starts."""
    values: dict[int, bytes] = {}
    pos = PREAMBLE_END
    while pos + 8 <= len(buf) and buf[pos:pos + 2] == b"\x02\x00":
        tag, start, length = _element(buf, pos, True)
        if length == _UNDEFINED:
            raise _Unsure
        values[tag] = buf[start:start + length]
        pos = start + length
    return values, pos


def _text(raw: bytes, encoding: str) -> str:
    return raw.decode(encoding).strip(" \x00")


def read_fast(buf: bytes, wanted: Mapping[int, str], decoded: frozenset[str], *,
              complete: bool) -> tuple[dict[str, str], dict[int, str]] | None:
    """Values of the ``wanted`` tags (tag -> keyword) from the start of a Part-10 file.

    ``buf`` starts with the preamble; ``complete`` says whether it is the whole file (else
    running out of bytes before the last wanted tag means "unsure"). Keywords in ``decoded``
    are free text decoded in the file's character set; the others are codes and UIDs.
    Returns the values (missing ones as "") and the file meta values as text, or None when
    pydicom must read this file instead.
    """
    try:
        return _read(buf, wanted, decoded, complete)
    except (_Unsure, struct.error, UnicodeDecodeError, IndexError):
        return None


def _read(buf: bytes, wanted: Mapping[int, str], decoded: frozenset[str], complete: bool
          ) -> tuple[dict[str, str], dict[int, str]] | None:
    meta_raw, pos = _meta(buf)
    meta = {tag: _text(value, "latin-1") for tag, value in meta_raw.items()}
    syntax = meta.get(0x00020010, "")
    if not syntax or syntax in UNSUPPORTED_SYNTAXES:
        return None
    explicit = syntax != IMPLICIT_LITTLE
    last = max(wanted)
    raw: dict[str, bytes] = {}
    charset = ""
    while True:
        if pos == len(buf) and complete:
            break  # a header-only object that ends before the last wanted tag
        tag, start, length = _element(buf, pos, explicit)
        if tag > last:
            break
        if length == _UNDEFINED:
            # An undefined-length UN value holds an implicit VR sequence (PS3.5 6.2.2).
            inner_explicit = explicit and buf[pos + 4:pos + 6] != b"UN"
            pos = _skip_undefined(buf, start, inner_explicit)
            continue
        end = start + length
        if end > len(buf):
            raise _Unsure
        if tag == _CHARSET_TAG:
            charset = _text(buf[start:end], "latin-1")
        keyword = wanted.get(tag)
        if keyword is not None:
            raw[keyword] = buf[start:end]
        pos = end
    encoding = CHARSETS.get(charset)
    if encoding is None:
        return None
    values = {keyword: _text(raw.get(keyword, b""), "latin-1") for keyword in wanted.values()}
    for keyword in decoded:
        values[keyword] = raw.get(keyword, b"").decode(encoding).strip(" \x00").strip()
    return values, meta
