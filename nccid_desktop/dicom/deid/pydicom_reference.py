"""De-identify one DICOM dataset in memory with the NCCID profile, failing closed.

Why one walk with an explicit stack: the cost of de-identifying a CT slice is per element, so
each element costs one dict lookup in the compiled profile (:mod:`.profile`); elements that
are kept stay as pydicom read them (raw bytes, never decoded), which also means pixel data is
never decoded nor re-encoded. Sequences are walked at every depth, so nothing hides in them.

The file's life cycle (read, write, verify, stage) is in :mod:`.one_file`, which re-exports
this module's names as the public API.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from pydicom import config
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import DataElement, RawDataElement, convert_raw_data_element
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag

from nccid_desktop.dicom.deid.marks import mark_deidentified
from nccid_desktop.dicom.deid.profile import (
    DUMMY_SCOPE_VRS,
    STANDARD_UID_ROOT,
    Action,
    CompiledProfile,
    compile_profile,
    is_removed_group,
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
from nccid_desktop.dicom.risk import burned_in_text_risk, header_view
from nccid_desktop.errors import IdentifierError
from nccid_desktop.keys import SiteKeys
from nccid_desktop.pseudonym import LinkingIdentifier, date_shift_days, pseudonym_for, remap_uid


@dataclass(frozen=True)
class DeidContext:
    """What de-identification needs besides the file: the site's keys and linking choice."""

    keys: SiteKeys
    linking: LinkingIdentifier = "hospital"


class Quarantined(Exception):
    """The object must not be sent; ``message`` explains why in plain English, no identifier."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @classmethod
    def no_sop_instance_uid(cls) -> Quarantined:
        return cls("no_sop_instance_uid",
                   "The object has no SOP Instance UID, so it cannot be named or sent.")


@cache
def _dictionary_vr(tag: int) -> str:
    try:
        return str(dictionary_VR(tag))
    except KeyError:
        return "UN"


class _Peek:
    """The values of a dataset by keyword (``.get``), leaving raw elements raw.

    Why: an element left raw is written back as its bytes; one converted merely to be read
    (the modality, a date, the IDs) would be re-encoded by pydicom's slower writer.
    """

    def __init__(self, ds: Dataset) -> None:
        self.ds = ds

    def get(self, keyword: str, default: Any = None) -> Any:
        number = tag_for_keyword(keyword)
        if number is None:
            return default
        tag = BaseTag(number)
        elem = self.ds._dict.get(tag)
        if elem is None:
            return default
        if isinstance(elem, RawDataElement) and elem.value is not None:
            return convert_raw_data_element(elem, encoding=self.ds._character_set,
                                            ds=self.ds).value
        return self.ds[tag].value


def _texts(elem: Any) -> list[str]:
    """The values of a raw or decoded string element, without padding."""
    value = elem.value
    if value is None:
        return []
    if isinstance(value, (bytes, bytearray)):
        return raw_text_values(bytes(value))
    if isinstance(value, str):
        return [value.strip(" \x00")] if value.strip(" \x00") else []
    return [str(v).strip(" \x00") for v in value]


def _new(tag: int, vr: str, value: Any) -> DataElement:
    """A new element, unvalidated: a value pydicom finds invalid is only warned about, and
    warnings are silenced while de-identifying (they could echo values); checking cost a
    tenth of the walk."""
    return DataElement(tag, vr, value, validation_mode=config.IGNORE)


def _element(tag: int, vr: str, values: list[str]) -> DataElement:
    return _new(tag, vr, values[0] if len(values) == 1 else (values or None))


@dataclass(frozen=True)
class _Plan:
    profile: CompiledProfile
    keys: SiteKeys
    pseudonym: str
    shift_days: int
    identifying: frozenset[str]


#: Every attribute :func:`identifying_strings` reads, and the character set it decodes them in.
_IDENTIFYING_INPUTS = tuple(BaseTag(t) for k in ("SpecificCharacterSet", *NAME_KEYWORDS,
                                                 *ID_KEYWORDS, "OtherPatientIDsSequence",
                                                 "PatientBirthDate")
                            if (t := tag_for_keyword(k)) is not None)
_CHARSET = BaseTag(0x00080005)


def _identifying_strings(values: _Peek) -> frozenset[str]:
    """:func:`identifying_strings`, computed once per patient in this process.

    Why: a CT series repeats the same patient module in every slice. The cache key is every
    input of the function as read from the file (raw bytes, VR, encoding), so a slice that
    carries one more name, or any other difference, is a different key: never a stale answer.
    An input pydicom has already decoded (other than the character set, always decoded, keyed
    on its text) is not keyed on at all: then nothing is cached.
    """
    ds = values.ds
    key: list[Any] = [ds.original_encoding]
    for tag in _IDENTIFYING_INPUTS:
        elem = ds._dict.get(tag)
        if elem is None:
            key.append(None)
        elif isinstance(elem, RawDataElement) and elem.value is not None:
            key.append((elem.VR, elem.value))
        elif tag == _CHARSET and isinstance(elem.value, (str, list, MultiValue)):
            key.append((elem.VR, str(elem.value)))  # pydicom decodes it on reading
        else:
            return identifying_strings(values)
    return identifying_strings_once(tuple(key), values)


def _patient_pseudonym(ds: _Peek, ctx: DeidContext) -> str:
    raw = ds.get("PatientID")
    return patient_pseudonym(str(raw).strip() if raw is not None else "", ctx)


def patient_pseudonym(text: str, ctx: DeidContext) -> str:
    """The pseudonym of the Patient ID ``text`` (stripped), or :class:`Quarantined`."""
    if not text:
        raise Quarantined("no_patient_id",
                          "The image has no Patient ID, so it cannot be linked to a patient.")
    try:
        if ctx.linking == "nhs":
            return pseudonym_for(ctx.keys, nhs_number=text, linking="nhs")
        return pseudonym_for(ctx.keys, hospital_number=text)
    except IdentifierError as exc:
        raise Quarantined(
            "no_patient_id",
            "The image's Patient ID is not a usable "
            + ("NHS/CHI number." if ctx.linking == "nhs" else "hospital number."),
        ) from exc


def remapped_uids(values: list[str], keys: SiteKeys) -> list[str]:
    """Every UID remapped by keyed hash, except the standard's own (classes, syntaxes)."""
    return [v if v.startswith(STANDARD_UID_ROOT) else remap_uid(keys, v) for v in values]


def _apply_value_action(ds: Dataset, tag: BaseTag, vr: str, action: Action, plan: _Plan) -> None:
    """Carry out one non-sequence action on the element ``tag`` of ``ds``."""
    if action is Action.REMOVE:
        del ds[tag]
    elif action is Action.EMPTY:
        ds[tag] = _new(tag, vr, None)
    elif action is Action.REMAP_UID or (action is Action.DUMMY and vr == "UI"):
        ds[tag] = _element(tag, vr, remapped_uids(_texts(ds._dict[tag]), plan.keys))
    elif action is Action.DUMMY:
        ds[tag] = _new(tag, vr, dummy_value(vr))
    elif action is Action.SHIFT_DATE:
        if vr in ("DA", "DT"):
            ds[tag] = _element(tag, vr, shift_dates(_texts(ds._dict[tag]), plan.shift_days, vr))
        elif vr != "TM":
            del ds[tag]
    elif action is Action.PSEUDONYM:
        ds[tag] = _new(tag, vr, plan.pseudonym)
    elif action is Action.BIRTH_YEAR:
        years = [birth_year(v) for v in _texts(ds._dict[tag])]
        ds[tag] = _element(tag, vr, [y for y in years if y][:1])
    elif action is Action.CLEAN_DESCRIPTION:
        texts = _texts(ds[tag])  # decoded with the dataset's character set
        if any(contains_identifier(t, plan.identifying) for t in texts):
            del ds[tag]




def _walk(root: Dataset, plan: _Plan) -> None:
    """Apply the profile to every element of ``root`` and of every sequence item within.

    A sequence whose action is D (dummy) keeps its structure, but inside it every text
    value that the table would keep is replaced by a dummy as well: a code meaning in a
    Person Identification Code Sequence names a person even though Code Meaning is not in
    the table.
    """
    profile = plan.profile
    stack: list[tuple[Dataset, bool]] = [(root, False)]
    while stack:
        ds, dummy_scope = stack.pop()
        elements = ds._dict
        for tag in list(elements):
            if is_removed_group(tag >> 16) or not tag & 0xFFFF:
                del ds[tag]
                continue
            elem = elements[tag]
            vr = elem.VR or _dictionary_vr(tag)
            if vr == "UN" and _dictionary_vr(tag) != "UN":
                vr = ds[tag].VR  # pydicom decodes UN with the dictionary VR
            action = profile.action_for(int(tag), vr)  # int keys: no BaseTag.__eq__
            if dummy_scope and action is Action.KEEP and vr in DUMMY_SCOPE_VRS:
                action = Action.DUMMY
            if vr == "SQ":
                if action is Action.REMOVE:
                    del ds[tag]
                elif action is Action.EMPTY:
                    ds[tag] = DataElement(tag, "SQ", Sequence())
                else:
                    inner_scope = dummy_scope or action is Action.DUMMY
                    stack.extend((item, inner_scope) for item in ds[tag].value)
            elif action is not Action.KEEP:
                _apply_value_action(ds, tag, vr, action, plan)
        _forget_private_blocks(ds)


def _forget_private_blocks(ds: Dataset) -> None:
    blocks = getattr(ds, "_private_blocks", None)
    if blocks:
        blocks.clear()


def _add_age_if_missing(ds: Dataset, values: _Peek) -> None:
    if str(values.get("PatientAge") or "").strip():
        return
    age = patient_age(str(values.get("PatientBirthDate") or ""),
                      str(values.get("StudyDate") or ""))
    if age is not None:
        ds.PatientAge = age


def deidentify_dataset(ds: Dataset, ctx: DeidContext) -> str:
    """De-identify ``ds`` in place with the NCCID profile; return the patient's pseudonym.

    Raises :class:`Quarantined` (before changing anything) for objects that may carry
    burned-in text and for images without a usable Patient ID. The file meta, if any, is
    left to the caller (:func:`deidentify_file` writes a new one).
    """
    values = _Peek(ds)
    risk = burned_in_text_risk(header_view(values))
    if risk is not None:
        raise Quarantined(risk.code, risk.message)
    pseudonym = _patient_pseudonym(values, ctx)
    plan = _Plan(compile_profile(), ctx.keys, pseudonym, date_shift_days(ctx.keys, pseudonym),
                 _identifying_strings(values))
    _add_age_if_missing(ds, values)
    _walk(ds, plan)
    mark_deidentified(ds)
    return pseudonym
