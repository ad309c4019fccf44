"""Walk the elements of DICOM Part 10 bytes, at every depth, without building pydicom datasets.

Why: the checks (:mod:`..verify.verifier`, :mod:`..verify.identity`) only need each element's tag, VR and
where its value lies; pydicom builds a ``Dataset`` per sequence item and a ``DataElement`` per
value on the way, which was most of the cost of checking a CT slice. This walker gives a tree
of plain tuples instead, and refuses (:class:`NeedsFullParser`) whatever it does not handle
exactly as pydicom does: deflated or private transfer syntaxes, a missing preamble, a VR that
is not a VR, a length that overruns its container, elements out of order (bytes misread), a
UN value that pydicom would decode with the dictionary's VR. The callers then use pydicom for
that file, so nothing goes unchecked.

It is a generic reader of the encoding (PS3.5 sections 7.1 to 7.5 and A.4), not of the
profile: it knows nothing about which elements identify anyone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from struct import Struct

from pydicom.uid import UID, DeflatedExplicitVRLittleEndian

from nccid_desktop.dicom.codec.raw_values import dictionary_vr

UNDEFINED = 0xFFFFFFFF
ITEM = 0xFFFEE000
ITEM_END = 0xFFFEE00D
SEQUENCE_END = 0xFFFEE0DD
#: Pixel Data, Float and Double Float Pixel Data: the first present is "the" pixel data.
PIXEL_DATA_ORDER = (0x7FE00010, 0x7FE00008, 0x7FE00009)
PIXEL_DATA_TAGS = frozenset(PIXEL_DATA_ORDER)
TRANSFER_SYNTAX = 0x00020010
_META_GROUP = 0x0002
_LONG_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR",
                       "UT", "UV"})
_VRS = _LONG_VRS | {"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FL", "FD", "IS", "LO", "LT",
                    "PN", "SH", "SL", "SS", "ST", "TM", "UI", "UL", "US"}

#: One element: (tag, VR, value offset in the bytes, value length, items or None). ``items``
#: is a list of item element lists for a sequence; the VR of an implicit VR file is the
#: dictionary's (possibly ambiguous, such as ``"US or SS"``). The length is ``UNDEFINED`` for
#: an undefined-length sequence and for encapsulated pixel data (its span is ``pixel_span``).
Element = tuple[int, str, int, int, "list[list[Element]] | None"]


class NeedsFullParser(Exception):
    """These bytes use something only pydicom's parser reads faithfully; use it instead."""


@dataclass(frozen=True)
class Part10:
    """A walked Part 10 file: its meta elements, its dataset and where its pixel data lies."""

    meta: list[Element]
    dataset: list[Element]
    pixel_span: tuple[int, int] | None
    implicit: bool = False
    little: bool = True
    #: For each sequence (by its value offset), whether each of its items had an undefined
    #: length (ended by a delimiter): what a writer needs to write the items as they were.
    undefined_items: dict[int, list[bool]] = field(default_factory=dict)


class _Walker:
    def __init__(self, data: bytes, implicit: bool, little: bool) -> None:
        order = "<" if little else ">"
        self.data = data
        self.implicit = implicit
        self.tag_length = Struct(order + "HHL")
        self.short_length = Struct(order + "H")
        self.long_length = Struct(order + "L")
        self.pixel_spans: dict[int, tuple[int, int]] = {}
        self.undefined_items: dict[int, list[bool]] = {}

    def dataset(self, pos: int, end: int | None, depth: int) -> tuple[list[Element], int]:
        """Elements from ``pos`` to ``end``, or to an item delimiter when ``end`` is None."""
        data, implicit = self.data, self.implicit
        limit = len(data) if end is None else end
        elements: list[Element] = []
        previous = -1
        while pos < limit:
            if pos + 8 > limit:
                raise NeedsFullParser("an element header is cut short")
            group, number, length = self.tag_length.unpack_from(data, pos)
            tag = group << 16 | number
            if tag <= previous:
                raise NeedsFullParser("elements out of order (or bytes misread)")
            previous = tag
            if group == 0xFFFE:
                if tag == ITEM_END and end is None and depth:
                    return elements, pos + 8
                raise NeedsFullParser("a delimiter where an element was expected")
            if implicit:
                vr = dictionary_vr(tag)
                pos += 8
            else:
                vr = data[pos + 4:pos + 6].decode("latin-1")
                if vr in _LONG_VRS:
                    (length,) = self.long_length.unpack_from(data, pos + 8)
                    pos += 12
                elif vr in _VRS:
                    (length,) = self.short_length.unpack_from(data, pos + 6)
                    pos += 8
                else:
                    raise NeedsFullParser("not a value representation")
                if vr == "UN" and dictionary_vr(tag) != "UN":
                    raise NeedsFullParser("a UN value pydicom reads with the dictionary VR")
            if length == UNDEFINED:
                pos = self._undefined(tag, vr, pos, depth, elements)
                continue
            if pos + length > limit:
                raise NeedsFullParser("a value overruns its container")
            items = self.sequence(pos, pos + length, depth)[0] if vr == "SQ" else None
            elements.append((tag, vr, pos, length, items))
            if tag in PIXEL_DATA_TAGS and not depth:
                self.pixel_spans[tag] = (pos, pos + length)
            pos += length
        if end is None and depth:
            raise NeedsFullParser("an item has no end")
        return elements, pos

    def _undefined(self, tag: int, vr: str, pos: int, depth: int,
                   elements: list[Element]) -> int:
        """An undefined-length value: encapsulated pixel data or a sequence; where it ends."""
        if tag == 0x7FE00010 and not depth and vr in ("OB", "OW", "OB or OW"):
            value_end = self._fragments(pos)
            elements.append((tag, vr, pos, UNDEFINED, None))
            self.pixel_spans[tag] = (pos, value_end)
            return value_end + 8
        if vr == "SQ" or (self.implicit and vr == "UN"):
            items, after = self.sequence(pos, None, depth)
            elements.append((tag, "SQ", pos, UNDEFINED, items))
            return after
        raise NeedsFullParser("an undefined length on a value that is not a sequence")

    def sequence(self, pos: int, end: int | None, depth: int) -> tuple[list[list[Element]], int]:
        data = self.data
        limit = len(data) if end is None else end
        items: list[list[Element]] = []
        forms = self.undefined_items[pos] = []
        while pos < limit:
            if pos + 8 > limit:
                raise NeedsFullParser("an item header is cut short")
            group, number, length = self.tag_length.unpack_from(data, pos)
            tag = group << 16 | number
            pos += 8
            if tag == SEQUENCE_END and end is None:
                return items, pos
            if tag != ITEM:
                raise NeedsFullParser("a sequence holds something other than items")
            forms.append(length == UNDEFINED)
            if length == UNDEFINED:
                elements, pos = self.dataset(pos, None, depth + 1)
            else:
                if pos + length > limit:
                    raise NeedsFullParser("an item overruns its sequence")
                elements, _ = self.dataset(pos, pos + length, depth + 1)
                pos += length
            items.append(elements)
        if end is None:
            raise NeedsFullParser("a sequence has no end")
        return items, pos

    def _fragments(self, pos: int) -> int:
        """Where the fragments of encapsulated pixel data end (the sequence delimiter)."""
        data = self.data
        while pos + 8 <= len(data):
            group, number, length = self.tag_length.unpack_from(data, pos)
            tag = group << 16 | number
            if tag == SEQUENCE_END:
                return pos
            if tag != ITEM or length == UNDEFINED:
                raise NeedsFullParser("encapsulated pixel data is not a list of fragments")
            pos += 8 + length
        raise NeedsFullParser("encapsulated pixel data has no end")


def _encoding(syntax: str) -> tuple[bool, bool]:
    """(implicit VR, little endian) of a transfer syntax this walker reads."""
    uid = UID(syntax)
    if not uid.is_transfer_syntax or uid.is_private or uid == DeflatedExplicitVRLittleEndian:
        raise NeedsFullParser("a transfer syntax left to pydicom")
    return uid.is_implicit_VR, uid.is_little_endian


def _meta(data: bytes) -> tuple[list[Element], int]:
    """The file meta elements (group 0002, explicit VR little endian) and where they end."""
    walker = _Walker(data, False, True)
    pos, elements = 132, []
    while pos + 8 <= len(data) and data[pos:pos + 2] == b"\x02\x00":
        vr = data[pos + 4:pos + 6].decode("latin-1")
        if vr == "SQ" or vr not in _VRS:
            raise NeedsFullParser("an unexpected file meta element")
        if vr in _LONG_VRS:
            end = pos + 12 + walker.long_length.unpack_from(data, pos + 8)[0]
        else:
            end = pos + 8 + walker.short_length.unpack_from(data, pos + 6)[0]
        elements.extend(walker.dataset(pos, end, 0)[0])
        pos = end
    return elements, pos


def walk_part10(data: bytes) -> Part10:
    """The element tree of a Part 10 file; raises :class:`NeedsFullParser` when pydicom
    must read it instead."""
    if len(data) < 132 or data[128:132] != b"DICM":
        raise NeedsFullParser("no Part 10 preamble")
    meta, start = _meta(data)
    syntax = next((data[s:s + n] for t, _, s, n, _ in meta if t == TRANSFER_SYNTAX), None)
    if syntax is None:
        raise NeedsFullParser("no transfer syntax")
    implicit, little = _encoding(syntax.decode("latin-1").strip(" \x00"))
    if implicit and data[start + 4:start + 6].decode("latin-1") in _VRS:
        raise NeedsFullParser("explicit VR bytes under an implicit VR transfer syntax")
    walker = _Walker(data, implicit, little)
    dataset, _ = walker.dataset(start, len(data), 0)
    spans = walker.pixel_spans
    return Part10(meta, dataset, next((spans[t] for t in PIXEL_DATA_ORDER if t in spans), None),
                  implicit, little, walker.undefined_items)
