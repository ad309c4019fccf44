"""An answer key for the NCCID profile, in the spirit of the MIDI-B benchmark.

Why: a de-identifier is only as good as the attribute it forgot. This module plants a distinct,
recognisable value in EVERY attribute of PS3.15 Table E.1-1 (at the top level and again three
sequence levels down), then says, per attribute, what the NCCID profile must have done to it:
removed, emptied, replaced with a dummy, retained, date shifted by the patient's offset, UID
changed (to the site's keyed UID), pseudonym, birth year. The expectations are derived here from
the table's action codes and the NCCID options as the project brief states them, independently
of the de-identifier's own compiled profile; where the standard leaves a choice (``X/Z``, ...),
every safe outcome of the choice is accepted and the planted value must still be gone.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from nccid_desktop.dicom.deid._annex_e import ROWS
from nccid_desktop.keys import SiteKeys
from nccid_desktop.pseudonym import remap_uid
from tests.dicom import builders

PLANTED_DATE = "20190315"
PLANTED_TIME = "101112"
#: Kept real by NCCID to relate images to swab and admission dates.
REAL_DATES = frozenset({"StudyDate", "StudyTime", "SeriesDate", "SeriesTime", "AcquisitionDate",
                        "AcquisitionTime", "AcquisitionDateTime", "ContentDate", "ContentTime"})
CLEAN_DESCRIPTORS = frozenset({"StudyDescription", "SeriesDescription", "ProtocolName"})
#: Read by the burned-in-text rule: planting them at the top would quarantine the fixture.
RISK_KEYWORDS = frozenset({"SeriesDescription"})
#: File meta and command groups cannot live in a dataset body.
SKIPPED_GROUPS = (0x0000, 0x0002)
BASIC_OUTCOMES = {
    "X": {"removed"}, "Z": {"emptied"}, "D": {"replaced"}, "U": {"uid changed"},
    "X/Z": {"removed", "emptied"}, "X/D": {"removed", "replaced"},
    "X/Z/D": {"removed", "emptied", "replaced"}, "Z/D": {"emptied", "replaced"},
    "X/Z/U*": {"removed", "emptied", "uid changed"},
}


@dataclass(frozen=True)
class Expectation:
    """One planted attribute and the outcomes that pass; ``category`` is how it is scored."""

    tag: int
    keyword: str
    vr: str
    level: str            # "top" or "nested"
    planted: object
    category: str
    accepted: frozenset[str]


#: The top level carries the patient's real identifiers (the pseudonym is computed from them).
PATIENT_VALUES = {"PatientID": builders.PATIENT.hospital_number,
                  "PatientName": builders.PATIENT.name,
                  "PatientBirthDate": builders.PATIENT.birth_date}


def marker(tag: int) -> str:
    return f"LEAK{tag:08X}"


def planted_uid(tag: int, level: str) -> str:
    return builders.uid(9, 1 if level == "top" else 3, tag)


def planted_value(tag: int, vr: str, level: str) -> object:
    """A valid value of ``vr`` that names its attribute, so any leak is traceable."""
    text = marker(tag)
    values: dict[str, object] = {
        "DA": PLANTED_DATE, "TM": PLANTED_TIME, "DT": PLANTED_DATE + PLANTED_TIME,
        "UI": planted_uid(tag, level), "DS": "4242.5", "IS": "4242", "US": 4242, "AS": "058Y",
        "OB": text.encode("ascii"), "UN": text.encode("ascii"),
        "UR": f"http://leak.example/{text}",
    }
    return values.get(vr, text)


def _sequence_value(tag: int, level: str) -> Sequence:
    item = builders.code_item("LEAKCODE", marker(tag))
    item.ReferencedSOPClassUID = builders.CT_IMAGE
    item.ReferencedSOPInstanceUID = planted_uid(tag, level)
    return Sequence([item])


def table_rows() -> Iterator[tuple[int, str, str, str, dict[str, str]]]:
    """(tag, keyword, vr, basic action, options) of every exact-tag row of Table E.1-1."""
    for tag_text, keyword, _name, vr, basic, options in ROWS:
        if len(tag_text) != 8 or "x" in tag_text:
            continue
        tag = int(tag_text, 16)
        if tag >> 16 in SKIPPED_GROUPS:
            continue
        yield tag, keyword, vr.split(" or ")[0], basic, options


def expected_outcomes(keyword: str, vr: str, basic: str, options: dict[str, str],
                      level: str) -> tuple[str, frozenset[str]]:
    """(category, accepted outcomes) for one attribute, from the table and the NCCID options."""
    if keyword in ("PatientID", "PatientName"):
        if level == "top":
            return "pseudonym", frozenset({"pseudonym"})
        return "pseudonym", frozenset({"pseudonym", "removed", "emptied", "replaced"})
    if keyword == "PatientBirthDate":
        return "birth year", frozenset({"birth year"})
    if keyword in REAL_DATES:
        return "retained", frozenset({"retained"})
    if keyword in CLEAN_DESCRIPTORS:
        return "retained", frozenset({"retained"})  # clean planted text: kept
    if vr == "UI":
        removal = {o for o in BASIC_OUTCOMES[basic] if o in ("removed", "emptied")}
        return "uid changed", frozenset({"uid changed"} | removal)
    if vr == "SQ":
        return _sequence_expectation(basic, options)
    keep = options.get("rtnPatCharsOpt") == "K" or options.get("rtnDevIdOpt") == "K"
    shift = options.get("rtnLongModifDatesOpt") == "C"
    if keep:
        if shift and vr in ("DA", "DT"):  # both options apply: either is safe
            return "retained", frozenset({"retained", "date shifted"})
        return "retained", frozenset({"retained"})
    if shift and vr in ("DA", "DT"):
        return "date shifted", frozenset({"date shifted"})
    if shift and vr == "TM":
        return "retained", frozenset({"retained"})  # whole-day shifts leave times alone
    accepted = BASIC_OUTCOMES[basic] - {"uid changed"}
    return _primary(basic), frozenset(accepted or {"removed"})


def _sequence_expectation(basic: str, options: dict[str, str]) -> tuple[str, frozenset[str]]:
    if options.get("rtnPatCharsOpt") == "K" or options.get("rtnDevIdOpt") == "K":
        return "retained", frozenset({"content kept"})
    accepted = {o.replace("replaced", "content replaced") for o in BASIC_OUTCOMES[basic]}
    if "uid changed" in accepted:  # X/Z/U*: references kept with every UID remapped
        accepted = (accepted - {"uid changed"}) | {"content kept", "content replaced"}
    return _primary(basic), frozenset(accepted)


def _primary(basic: str) -> str:
    return {"X": "removed", "Z": "emptied", "D": "replaced", "U": "uid changed"}.get(
        basic.split("/")[0], "removed")


def expectations() -> list[Expectation]:
    out: list[Expectation] = []
    for level in ("top", "nested"):
        for tag, keyword, vr, basic, options in table_rows():
            if level == "top" and keyword in RISK_KEYWORDS:
                continue
            category, accepted = expected_outcomes(keyword, vr, basic, options, level)
            planted: object = (_sequence_value(tag, level) if vr == "SQ"
                               else planted_value(tag, vr, level))
            if keyword == "PatientBirthDate" or (level == "top" and keyword in PATIENT_VALUES):
                planted = PATIENT_VALUES[keyword]  # a birth date must differ from other dates
            out.append(Expectation(tag, keyword, vr, level, planted, category, accepted))
    return out


def plant(ds: Dataset, items: list[Expectation]) -> Dataset:
    """Put every expectation's value into ``ds`` (top) or the innermost nested item."""
    keywords, innermost = builders.nested_chain(3)
    for exp in items:
        target = ds if exp.level == "top" else innermost
        target[exp.tag] = DataElement(exp.tag, exp.vr, exp.planted)
    for target in (ds, innermost):
        builders.add_private_tags(target, text=marker(0x00290010))
        builders.add_overlay(target)
        builders.add_curve(target)
    return builders.attach_chain(ds, keywords, innermost)


def answer_key_dataset(items: list[Expectation], *, other_instance: bool = False) -> Dataset:
    """A CT slice with every Table E.1-1 attribute planted, at the top and 3 levels down.

    ``other_instance`` gives a second image of the same series (only its SOP Instance UID
    differs), to check that shared UIDs map to the same new UIDs across files.
    """
    ds = builders.ct_slice(instance=2 if other_instance else 1)
    plant(ds, items)
    if other_instance:
        ds.SOPInstanceUID = builders.uid(8, 2)
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    return ds


def nested_item(ds: Dataset) -> Dataset | None:
    """The innermost item of the nested chain in a (de-identified) dataset, if it survived."""
    keywords, _ = builders.nested_chain(3)
    current: Dataset = ds
    for keyword in keywords:
        seq = current.get(keyword)
        if not seq:
            return None
        current = seq[0]
    return current


def shifted(value: str, days: int) -> str:
    moved = date(int(value[:4]), int(value[4:6]), int(value[6:8])) + timedelta(days=days)
    return moved.strftime("%Y%m%d") + value[8:]


def observe(target: Dataset, exp: Expectation, *, keys: SiteKeys, pseudonym: str,
            shift_days: int) -> str:
    """What happened to one planted attribute, as an outcome name."""
    if exp.tag not in target:
        return "removed"
    elem = target[exp.tag]
    if exp.vr == "SQ":
        return _observe_sequence(elem, exp, keys)
    value = elem.value
    if value is None or value == "" or value == b"" or (
            isinstance(value, (list, tuple)) and not value):
        return "emptied"
    planted = exp.planted.decode("ascii") if isinstance(exp.planted, bytes) else str(exp.planted)
    text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
    text = text.strip(" \x00")
    if text == pseudonym:
        return "pseudonym"
    if exp.keyword == "PatientBirthDate" and text == planted[:4] + "0101":
        return "birth year"
    if exp.vr == "UI":
        return "uid changed" if text == remap_uid(keys, planted) else (
            "uid kept" if text == planted else "uid wrong")
    if text == planted:
        return "retained"
    if exp.vr in ("DA", "DT") and text == shifted(planted, shift_days):
        return "date shifted"
    if marker(exp.tag) in text:
        return "leaked"
    return "replaced"


def _observe_sequence(elem: DataElement, exp: Expectation, keys: SiteKeys) -> str:
    items = list(elem.value or [])
    if not items:
        return "emptied"
    source_uid = planted_uid(exp.tag, exp.level)
    uids = {str(i.get("ReferencedSOPInstanceUID", "")) for i in items}
    if source_uid in uids:
        return "uid kept"
    if uids - {"", remap_uid(keys, source_uid)}:
        return "uid wrong"
    if any(str(i.get("CodeMeaning", "")) == marker(exp.tag) for i in items):
        return "content kept"
    return "content replaced"
