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
``tests/dicom/deid/test_byte_editor.py`` compares both paths on every file we have.

This module decides what each element becomes; what the profile reads from the source before
that is :mod:`.walked_values`, and how pydicom would have encoded each new value is
:mod:`.byte_encoding`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydicom.uid import UID

from nccid_desktop.dicom.codec.raw_values import charset_codec
from nccid_desktop.dicom.codec.raw_walk import (
    TRANSFER_SYNTAX,
    UNDEFINED,
    Element,
    NeedsFullParser,
    Part10,
)
from nccid_desktop.dicom.deid.byte_encoding import (
    IMPLICIT_HEADER,
    ITEM_END,
    ITEM_UNDEFINED,
    LONG_VRS,
    SEQUENCE_END,
    converted_strings,
    dummy,
    element_header,
    file_meta,
    kept_text,
    new_text,
    sop_class_text,
)
from nccid_desktop.dicom.deid.marks import encoded_marks
from nccid_desktop.dicom.deid.profile import Action, CompiledProfile, compile_profile, is_removed_group
from nccid_desktop.dicom.deid.pydicom_reference import (
    DUMMY_SCOPE_VRS,
    DeidContext,
    Quarantined,
    patient_pseudonym,
    remapped_uids,
)
from nccid_desktop.dicom.deid.values import (
    birth_year,
    contains_identifier,
    patient_age,
    raw_text_values,
    shift_dates,
)
from nccid_desktop.dicom.deid.walked_values import WalkedValues, identifying
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

_FRAGMENT_START = b"\xfe\xff\x00\xe0"
_PREAMBLE_AND_PREFIX = bytes(128) + b"DICM"

#: Actions whose new value depends on the old one.
_READS_VALUE = frozenset({Action.REMAP_UID, Action.DUMMY, Action.SHIFT_DATE,
                          Action.BIRTH_YEAR, Action.CLEAN_DESCRIPTION})


@dataclass(frozen=True)
class RawOutput:
    """A de-identified file's bytes, and what its check and its report need."""

    output: bytes
    identity: SourceIdentity
    pseudonym: str
    new_uid: str


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
        return element_header(self.implicit, tag, vr, length)

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
                elif vr in LONG_VRS:
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
                parts += (ITEM_UNDEFINED, body, ITEM_END)
            else:
                parts += (IMPLICIT_HEADER.pack(0xFFFE, 0xE000, len(body)), body)
        body = b"".join(parts)
        if length == UNDEFINED:
            out += (self.header(tag, "SQ", UNDEFINED), body, SEQUENCE_END)
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
            return new_text(vr, remapped_uids(raw_text_values(raw), plan.ctx.keys))
        if action is Action.DUMMY:
            return dummy(vr)
        if action is Action.SHIFT_DATE:
            if vr in ("DA", "DT"):
                return new_text(vr, shift_dates(raw_text_values(raw), plan.shift_days, vr))
            return None
        if action is Action.PSEUDONYM:
            return new_text(vr, [plan.pseudonym])
        if action is Action.BIRTH_YEAR:
            years = [birth_year(v) for v in raw_text_values(raw)]
            return new_text(vr, [y for y in years if y][:1])
        if action is Action.CLEAN_DESCRIPTION:
            if vr != "LO":
                raise NeedsFullParser("a descriptor that is not LO")
            values = converted_strings(raw, vr, plan.codec)
            texts = [t for v in values if (t := v.strip(" \x00"))]
            if any(contains_identifier(t, plan.identifying) for t in texts):
                return None
            return kept_text(values, plan.codec)
        raise NeedsFullParser(f"an action this module does not apply ({action.value})")

    def top_special(self, tag: int, vr: str, start: int, length: int, out: list[Any]) -> None:
        """Elements the pydicom path decodes on its way (so re-encodes), and pixel data."""
        raw = self.data[start:start + length] if tag != _PIXEL_DATA else b""
        if tag == _CHARSET:
            if vr != "CS":
                raise NeedsFullParser("a character set that is not CS")
            value = new_text("CS", raw.decode("latin-1").rstrip(" \x00").split("\\"))
            out += (self.header(tag, vr, len(value)), value)
        elif tag == _SOP_CLASS:
            value = new_text("UI", [sop_class_text(raw, vr)])
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
            out += (self.header(tag, vr, UNDEFINED), fragments, SEQUENCE_END)
        else:
            if length == UNDEFINED or length % 2:
                raise NeedsFullParser("pixel data pydicom would convert or pad")
            out += (self.header(tag, vr, length), self.view[start:start + length])


def _transfer_syntax(walked: Part10, data: bytes) -> UID:
    found = next(((s, n) for t, _, s, n, _ in walked.meta if t == TRANSFER_SYNTAX), None)
    if found is None:
        raise NeedsFullParser("no transfer syntax")
    text = data[found[0]:sum(found)].decode("latin-1").rstrip("\x00 ")
    if text != text.strip() or "\\" in text:
        raise NeedsFullParser("a transfer syntax written oddly")
    return UID(text)


def _additions(editor: _Editor, values: WalkedValues, plan: _Plan) -> list[tuple[int, bytes]]:
    """PatientAge (when missing or blank, from birth and study dates) and the marks of
    de-identification, encoded, sorted by descending tag for :meth:`_Editor.level`."""
    added: dict[int, bytes] = {}
    current_age = values.get("PatientAge")
    if not (isinstance(current_age, list) or (current_age or "").strip()):
        age = patient_age(values.date_text("PatientBirthDate"), values.date_text("StudyDate"))
        if age is not None:
            added[_PATIENT_AGE] = editor.header(_PATIENT_AGE, "AS", len(age)) + age.encode()
    for mark in encoded_marks(editor.implicit, True):
        value = bytes(mark.value or b"")
        added[int(mark.tag)] = editor.header(int(mark.tag), mark.VR or "", len(value)) + value
    return sorted(added.items(), reverse=True)


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
    top = WalkedValues(data, elements, "latin-1")
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
                 identifying(top), codec)
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


def _new_sop_instance_uid(top: WalkedValues, plan: _Plan) -> str:
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
