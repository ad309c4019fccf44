"""De-identify a DICOM file by editing its bytes: the NCCID profile without pydicom objects.

Why: through pydicom, about half the time of de-identifying a CT slice went on building
``Dataset``/``DataElement`` objects for elements that are then written back unchanged, and on
encoding them again (:mod:`.pydicom_reference` on a dataset, then :mod:`..codec.part10_writer`). This module
applies the same compiled profile (:mod:`.profile`) to the element tree of the source bytes
(:mod:`..codec.raw_walk`): a kept element is copied as its bytes (runs of kept elements in one
slice), a changed one is replaced by its newly encoded value, a removed one is skipped, at
every depth of every sequence. Pixel data is copied once, never decoded.

The pydicom path stays the reference and the fallback: this module's output must be byte for
byte what that path writes, and its refusals (quarantine codes and messages) the same.
Whatever it does not reproduce exactly raises :class:`NeedsFullParser`, and the caller then
de-identifies that file through pydicom: big endian, a character set other than the default,
Latin-1 or UTF-8 (or one inside a sequence item), a new value that is not ASCII, a
multi-valued Patient ID or UID the profile reads as one, values pydicom would read lazily
(over 64 KB), a value to invent for an ambiguous VR, and anything unexpected.
``tests/dicom/test_deid_raw.py`` compares both paths on every file we have.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from struct import Struct
from typing import Any

from pydicom import config
from pydicom.datadict import tag_for_keyword
from pydicom.dataelem import DataElement
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_data_element
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, UID

from nccid_desktop.dicom.codec.raw_values import charset_codec
from nccid_desktop.dicom.codec.raw_walk import (
    TRANSFER_SYNTAX,
    UNDEFINED,
    Element,
    NeedsFullParser,
    Part10,
)
from nccid_desktop.dicom.deid.marks import IMPLEMENTATION_VERSION, encoded_marks
from nccid_desktop.dicom.deid.profile import Action, CompiledProfile, compile_profile, is_removed_group
from nccid_desktop.dicom.deid.pydicom_reference import (
    DUMMY_SCOPE_VRS,
    DeidContext,
    Quarantined,
    patient_pseudonym,
    remapped_uids,
)
from nccid_desktop.dicom.deid.values import (
    ID_KEYWORDS,
    NAME_KEYWORDS,
    birth_year,
    contains_identifier,
    dummy_value,
    identifying_strings,
    identifying_strings_once,
    patient_age,
    raw_text_values,
    shift_dates,
)
from nccid_desktop.dicom.risk import burned_in_text_risk
from nccid_desktop.dicom.verify.identity import SourceIdentity
from nccid_desktop.pseudonym import date_shift_days

__all__ = ["RawOutput", "deidentify_raw"]

#: Values longer than this are read lazily by the pydicom path, which then re-encodes them
#: (``source_read.DEFER_BYTES``); such files are left to it.
DEFER_BYTES = 64 * 1024

_CHARSET = 0x00080005
_SOP_CLASS = 0x00080016
_SOP_INSTANCE = 0x00080018
_PATIENT_AGE = 0x00101010
_PIXEL_DATA = 0x7FE00010
#: Top-level elements the pydicom path decodes on the way, and so writes re-encoded.
_TOP_REENCODED = frozenset({_CHARSET, _SOP_CLASS, _PIXEL_DATA})

_IMPLICIT_HEADER = Struct("<HHL")
_SHORT_HEADER = Struct("<HH2sH")
_LONG_HEADER = Struct("<HH2sHL")
_LENGTH = Struct("<L")
_LONG_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR",
                       "UT", "UV"})
_ITEM_UNDEFINED = _IMPLICIT_HEADER.pack(0xFFFE, 0xE000, UNDEFINED)
_ITEM_END = _IMPLICIT_HEADER.pack(0xFFFE, 0xE00D, 0)
_SEQUENCE_END = _IMPLICIT_HEADER.pack(0xFFFE, 0xE0DD, 0)
_FRAGMENT_START = b"\xfe\xff\x00\xe0"
_PREAMBLE_AND_PREFIX = bytes(128) + b"DICM"

#: VRs whose new values pydicom writes as ASCII text (``write_string``, ``write_text``,
#: ``write_PN``), padded to even length with a space, a UID with a NUL.
_TEXT_VRS = frozenset({"AE", "AS", "CS", "DA", "DT", "TM", "UR", "UI", "LO", "LT", "SH",
                       "ST", "UC", "UT", "PN"})
#: VRs pydicom converts by splitting at backslashes and stripping each value.
_SPLIT_TEXT_VRS = frozenset({"LO", "SH", "UC"})
#: VRs pydicom converts by stripping the whole value, then splitting it.
_SPLIT_STRING_VRS = frozenset({"AE", "AS", "CS", "DA", "DT", "TM", "UI"})

#: Actions whose new value depends on the old one.
_READS_VALUE = frozenset({Action.REMAP_UID, Action.DUMMY, Action.SHIFT_DATE,
                          Action.BIRTH_YEAR, Action.CLEAN_DESCRIPTION})

_RISK_KEYWORDS = ("BurnedInAnnotation", "SOPClassUID", "Modality", "ImageType",
                  "ConversionType", "SeriesDescription")


def _tag(keyword: str) -> int:
    tag = tag_for_keyword(keyword)
    assert tag is not None, keyword
    return tag


_TAGS = {k: _tag(k) for k in (*_RISK_KEYWORDS, *NAME_KEYWORDS, *ID_KEYWORDS, "PatientAge",
                              "PatientBirthDate", "StudyDate", "OtherPatientIDsSequence")}
_IDENTIFYING_TAGS = tuple(_TAGS[k] for k in (*NAME_KEYWORDS, *ID_KEYWORDS, "PatientBirthDate"))
_OTHER_IDS = _TAGS["OtherPatientIDsSequence"]


@dataclass(frozen=True)
class RawOutput:
    """A de-identified file's bytes, and what its check and its report need."""

    output: bytes
    identity: SourceIdentity
    pseudonym: str
    new_uid: str


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


class _Values:
    """The values of one walked level by keyword, as pydicom's ``Dataset.get`` gives them:
    None when absent, a string for one value, a list for several (what
    :func:`~.deid_values.identifying_strings` and the risk rule read)."""

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
        tag = _TAGS[keyword]
        if tag == _OTHER_IDS:
            return list(self.items(tag)) if tag in self.by_tag else default
        values = self.strings(tag)
        if values is None:
            return default
        return values[0] if len(values) == 1 else values

    def items(self, tag: int) -> Iterator[_Values]:
        items = self.by_tag[tag][4]
        if items is None:
            raise NeedsFullParser("a sequence that is not one")
        for item in items:
            yield _Values(self.data, item, self.codec)

    def single(self, keyword: str) -> str:
        """A value the profile reads as one string; several values are left to pydicom
        (which would read their list's printed form)."""
        value = self.get(keyword)
        if isinstance(value, list):
            raise NeedsFullParser("several values where one is read")
        return value or ""

    def risk_header(self) -> dict[str, Any]:
        header = {k: self.get(k) for k in _RISK_KEYWORDS}
        for keyword, value in header.items():
            if isinstance(value, list):
                if keyword == "SOPClassUID":
                    raise NeedsFullParser("several SOP Class UIDs")
                header[keyword] = "\\".join(value)
        return header




def _identifying(values: _Values) -> frozenset[str]:
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


def _text(vr: str, values: list[str]) -> bytes:
    """A new text value as pydicom writes it: joined, padded to even length; none is empty."""
    if vr not in _TEXT_VRS:
        raise NeedsFullParser("a new value for a VR pydicom writes itself")
    text = "\\".join(values)
    if not text.isascii():
        raise NeedsFullParser("a new value that is not ASCII")
    if len(text) % 2:
        text += "\0" if vr == "UI" else " "
    return text.encode("ascii")


def _kept_text(values: list[str], codec: str) -> bytes:
    """A kept descriptor as pydicom re-encodes it (``write_text``): each value in the
    dataset's character set, joined, padded to even length with a space."""
    encoded = "\\".join(values).encode(codec)
    return encoded + b" " if len(encoded) % 2 else encoded


@cache
def _dummy(vr: str) -> bytes:
    """The dummy value of a VR, encoded by pydicom's own writer (once per VR)."""
    if " or " in vr or vr == "SQ":
        raise NeedsFullParser("a dummy for an ambiguous VR")
    elem = DataElement(0x00100010, vr, dummy_value(vr), validation_mode=config.IGNORE)
    fp = DicomBytesIO()
    fp.is_implicit_VR, fp.is_little_endian = True, True
    write_data_element(fp, elem)
    return fp.getvalue()[8:]


@dataclass(frozen=True)
class _Plan:
    profile: CompiledProfile
    ctx: DeidContext
    pseudonym: str
    shift_days: int
    identifying: frozenset[str]
    codec: str


class _Editor:
    """Writes the de-identified elements of a walked file as a list of byte chunks."""

    def __init__(self, data: bytes, walked: Part10, plan: _Plan, compressed: bool) -> None:
        self.data = data
        self.view = memoryview(data)
        self.walked = walked
        self.implicit = walked.implicit
        self.plan = plan
        self.compressed = compressed

    def header(self, tag: int, vr: str, length: int) -> bytes:
        """Tag, VR and length as pydicom writes them (little endian)."""
        if self.implicit:
            return _IMPLICIT_HEADER.pack(tag >> 16, tag & 0xFFFF, length)
        if vr in _LONG_VRS:
            return _LONG_HEADER.pack(tag >> 16, tag & 0xFFFF, vr.encode(), 0, length)
        if length > 0xFFFF or len(vr) != 2:
            raise NeedsFullParser("a value pydicom would write with another VR")
        return _SHORT_HEADER.pack(tag >> 16, tag & 0xFFFF, vr.encode(), length)

    def level(self, elements: list[Element], dummy_scope: bool, out: list[Any],
              additions: list[tuple[int, bytes]] | None = None) -> None:
        """Every element of one level, in order; ``additions`` (top level only, sorted by
        descending tag) are new elements merged in, replacing any element with their tag."""
        data, view, implicit = self.data, self.view, self.implicit
        actions = self.plan.profile.actions
        action_for = self.plan.profile.action_for
        keep, top = Action.KEEP, additions is not None
        run_start = run_end = -1
        for tag, vr, start, length, items in elements:
            if additions and additions[-1][0] <= tag:
                if run_end >= 0:
                    out.append(view[run_start:run_end])
                    run_start = run_end = -1
                replaced = False
                while additions and additions[-1][0] <= tag:
                    added_tag, encoded = additions.pop()
                    out.append(encoded)
                    replaced = replaced or added_tag == tag
                if replaced:
                    continue
            if not tag & 0xFFFF or is_removed_group(tag >> 16):
                continue
            action = actions.get(tag) or action_for(tag, vr)
            if dummy_scope and action is keep and vr in DUMMY_SCOPE_VRS:
                action = Action.DUMMY
            elif action is Action.SHIFT_DATE and vr == "TM":
                action = keep  # whole-day shifts leave times as they are
            if action is keep and items is None:
                if tag in _TOP_REENCODED:
                    if top:
                        if run_end >= 0:
                            out.append(view[run_start:run_end])
                            run_start = run_end = -1
                        self.top_special(tag, vr, start, length, out)
                        continue
                    if tag == _CHARSET:
                        raise NeedsFullParser("a character set inside a sequence item")
                if length == UNDEFINED or (top and length > DEFER_BYTES):
                    raise NeedsFullParser("a value the pydicom path reads lazily")
                if implicit:
                    header_start = start - 8
                elif vr in _LONG_VRS:
                    header_start = start - 12
                    if data[start - 6:start - 4] != b"\0\0":
                        raise NeedsFullParser("reserved header bytes that are not zero")
                else:
                    header_start = start - 8
                if header_start == run_end:
                    run_end = start + length
                else:
                    if run_end >= 0:
                        out.append(view[run_start:run_end])
                    run_start, run_end = header_start, start + length
                continue
            if run_end >= 0:
                out.append(view[run_start:run_end])
                run_start = run_end = -1
            if items is not None:
                self.sequence(tag, start, length, items, action, dummy_scope, out)
                continue
            if top and length > DEFER_BYTES and action in _READS_VALUE:
                raise NeedsFullParser("a value the pydicom path reads lazily")
            value = self.new_value(vr, action, data[start:start + length])
            if value is not None:
                out.append(self.header(tag, vr, len(value)))
                out.append(value)
        if run_end >= 0:
            out.append(view[run_start:run_end])
        while additions:
            out.append(additions.pop()[1])

    def sequence(self, tag: int, start: int, length: int, items: list[list[Element]],
                 action: Action, dummy_scope: bool, out: list[Any]) -> None:
        """A kept sequence with each item edited, its lengths recomputed; an emptied one."""
        if action is Action.REMOVE:
            return
        if action is Action.EMPTY:
            out.append(self.header(tag, "SQ", 0))
            return
        inner_scope = dummy_scope or action is Action.DUMMY
        forms = self.walked.undefined_items[start]
        if len(forms) != len(items):
            raise NeedsFullParser("items not as walked")
        parts: list[Any] = []
        for item, undefined in zip(items, forms, strict=True):
            item_parts: list[Any] = []
            self.level(item, inner_scope, item_parts)
            body = b"".join(item_parts)
            if undefined:
                parts += (_ITEM_UNDEFINED, body, _ITEM_END)
            else:
                parts += (_IMPLICIT_HEADER.pack(0xFFFE, 0xE000, len(body)), body)
        body = b"".join(parts)
        if length == UNDEFINED:
            out += (self.header(tag, "SQ", UNDEFINED), body, _SEQUENCE_END)
        else:
            out += (self.header(tag, "SQ", len(body)), body)

    def new_value(self, vr: str, action: Action, raw: bytes) -> bytes | None:
        """The new value of an element the profile changes; None removes it."""
        plan = self.plan
        if action is Action.REMOVE:
            return None
        if action is Action.EMPTY:
            return b""
        if action is Action.REMAP_UID or (action is Action.DUMMY and vr == "UI"):
            if vr != "UI":
                raise NeedsFullParser("a UID in an element that is not a UI")
            return _text(vr, remapped_uids(raw_text_values(raw), plan.ctx.keys))
        if action is Action.DUMMY:
            return _dummy(vr)
        if action is Action.SHIFT_DATE:
            if vr in ("DA", "DT"):
                return _text(vr, shift_dates(raw_text_values(raw), plan.shift_days, vr))
            return None
        if action is Action.PSEUDONYM:
            return _text(vr, [plan.pseudonym])
        if action is Action.BIRTH_YEAR:
            years = [birth_year(v) for v in raw_text_values(raw)]
            return _text(vr, [y for y in years if y][:1])
        if action is Action.CLEAN_DESCRIPTION:
            if vr != "LO":
                raise NeedsFullParser("a descriptor that is not LO")
            values = converted_strings(raw, vr, plan.codec)
            texts = [t for v in values if (t := v.strip(" \x00"))]
            if any(contains_identifier(t, plan.identifying) for t in texts):
                return None
            return _kept_text(values, plan.codec)
        raise NeedsFullParser(f"an action this module does not apply ({action.value})")

    def top_special(self, tag: int, vr: str, start: int, length: int, out: list[Any]) -> None:
        """Elements the pydicom path decodes on its way (so re-encodes), and pixel data."""
        raw = self.data[start:start + length] if tag != _PIXEL_DATA else b""
        if tag == _CHARSET:
            if vr != "CS":
                raise NeedsFullParser("a character set that is not CS")
            value = _text("CS", raw.decode("latin-1").rstrip(" \x00").split("\\"))
            out += (self.header(tag, vr, len(value)), value)
        elif tag == _SOP_CLASS:
            value = _text("UI", [sop_class_text(raw, vr)])
            out += (self.header(tag, vr, len(value)), value)
        elif not self.implicit and vr not in ("OB", "OW"):
            raise NeedsFullParser("pixel data pydicom would convert")
        elif self.compressed:
            span = self.walked.pixel_span
            if length != UNDEFINED or span is None or span[0] != start:
                raise NeedsFullParser("compressed pixel data that is not encapsulated")
            fragments = self.view[start:span[1]]
            if len(fragments) % 2 or bytes(fragments[:4]) != _FRAGMENT_START:
                raise NeedsFullParser("encapsulated pixel data pydicom would refuse or pad")
            out += (self.header(tag, vr, UNDEFINED), fragments, _SEQUENCE_END)
        else:
            if length == UNDEFINED or length % 2:
                raise NeedsFullParser("pixel data pydicom would convert or pad")
            out += (self.header(tag, vr, length), self.view[start:start + length])


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
        return _LONG_HEADER.pack(0x0002, number, b"OB", 0, len(value)) + value
    return _SHORT_HEADER.pack(0x0002, number, vr.encode(), len(value)) + value


def file_meta(sop_class: str, sop_instance: str, transfer_syntax: str) -> bytes:
    """A fresh file meta, as the pydicom path completes and writes it: nothing of the
    source's meta (AE titles, private information) survives."""
    body = b"".join((
        _meta_element(0x0001, "OB", b"\x00\x01"),
        _meta_element(0x0002, "UI", _text("UI", [sop_class])),
        _meta_element(0x0003, "UI", _text("UI", [sop_instance])),
        _meta_element(0x0010, "UI", _text("UI", [transfer_syntax])),
        _meta_element(0x0012, "UI", _text("UI", [PYDICOM_IMPLEMENTATION_UID])),
        _meta_element(0x0013, "SH", _text("SH", [IMPLEMENTATION_VERSION])),
    ))
    return _meta_element(0x0000, "UL", _LENGTH.pack(len(body))) + body


def _transfer_syntax(walked: Part10, data: bytes) -> UID:
    found = next(((s, n) for t, _, s, n, _ in walked.meta if t == TRANSFER_SYNTAX), None)
    if found is None:
        raise NeedsFullParser("no transfer syntax")
    text = data[found[0]:sum(found)].decode("latin-1").rstrip("\x00 ")
    if text != text.strip() or "\\" in text:
        raise NeedsFullParser("a transfer syntax written oddly")
    return UID(text)


def _additions(editor: _Editor, values: _Values, plan: _Plan) -> list[tuple[int, bytes]]:
    """PatientAge (when missing or blank, from birth and study dates) and the marks of
    de-identification, encoded, sorted by descending tag for :meth:`_Editor.level`."""
    added: dict[int, bytes] = {}
    current_age = values.get("PatientAge")
    if not (isinstance(current_age, list) or (current_age or "").strip()):
        age = patient_age(_date_text(values, "PatientBirthDate"), _date_text(values, "StudyDate"))
        if age is not None:
            added[_PATIENT_AGE] = editor.header(_PATIENT_AGE, "AS", len(age)) + age.encode()
    for mark in encoded_marks(editor.implicit, True):
        value = bytes(mark.value or b"")
        added[int(mark.tag)] = editor.header(int(mark.tag), mark.VR or "", len(value)) + value
    return sorted(added.items(), reverse=True)


def _date_text(values: _Values, keyword: str) -> str:
    value = values.get(keyword)
    return "" if isinstance(value, list) else (value or "")


def deidentify_raw(data: bytes, walked: Part10, ctx: DeidContext) -> RawOutput:
    """The de-identified Part 10 bytes of ``data`` (walked as ``walked``), exactly as the
    pydicom path (:func:`.deidentify._prepare` then :func:`.part10.encode_part10`) writes them.

    Raises :class:`Quarantined` as that path does (same code and message), and
    :class:`NeedsFullParser` for a file that path must de-identify instead.
    """
    elements = walked.dataset
    if not walked.little:
        raise NeedsFullParser("big endian: left to pydicom")
    if not elements or (elements[0][0] >> 16 <= 2
                        and any(t >> 16 in (0, 2) for t, *_ in elements)):
        raise NeedsFullParser("an empty dataset, a command set or file meta in the dataset")
    syntax = _transfer_syntax(walked, data)
    top = _Values(data, elements, "latin-1")
    charset = top.by_tag.get(_CHARSET)
    codec = charset_codec(data[charset[2]:charset[2] + charset[3]]) if charset else "latin-1"
    if codec is None or (charset is not None and charset[3] == UNDEFINED):
        raise NeedsFullParser("a character set only pydicom decodes")
    top.codec = codec
    risk = burned_in_text_risk(top.risk_header())
    if risk is not None:
        raise Quarantined(risk.code, risk.message)
    pseudonym = patient_pseudonym(top.single("PatientID").strip(), ctx)
    plan = _Plan(compile_profile(), ctx, pseudonym, date_shift_days(ctx.keys, pseudonym),
                 _identifying(top), codec)
    identity = SourceIdentity.from_walk(data, walked)
    editor = _Editor(data, walked, plan, syntax.is_compressed)
    out: list[Any] = [_PREAMBLE_AND_PREFIX, b""]
    editor.level(elements, False, out, _additions(editor, top, plan))
    new_uid = _new_sop_instance_uid(top, plan)
    if not new_uid or _SOP_CLASS not in top.by_tag:
        raise Quarantined.no_sop_instance_uid()
    sop_class = top.by_tag[_SOP_CLASS]
    out[1] = file_meta(sop_class_text(data[sop_class[2]:sop_class[2] + sop_class[3]],
                                      sop_class[1]), new_uid, syntax)
    return RawOutput(b"".join(out), identity, pseudonym, new_uid)


def _new_sop_instance_uid(top: _Values, plan: _Plan) -> str:
    element = top.by_tag.get(_SOP_INSTANCE)
    if element is None:
        return ""
    _, vr, start, length, items = element
    if vr != "UI" or items is not None:
        raise NeedsFullParser("a SOP Instance UID that is not a UI")
    uids = remapped_uids(raw_text_values(top.data[start:start + length]), plan.ctx.keys)
    if len(uids) > 1:
        raise NeedsFullParser("several SOP Instance UIDs")
    return uids[0].strip() if uids else ""
