"""Planted identifiers over every element the de-identification profile covers.

For each attribute of the compiled profile whose value the service can judge without the
source (removed, emptied, dummied, pseudonym, birth year, cleaned or kept text, and any
sequence), an instance that looks de-identified (:func:`tests.collector.payloads.dicom_file`)
with that one attribute planted: at the top level, and again inside a kept sequence item.
Text values are NHS numbers written in several ways (spaces, dashes, full-width and
Arabic-Indic digits); other values are valid for their VR and simply must not be there.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pydicom
from pydicom.datadict import dictionary_VR, keyword_for_tag
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from nccid_desktop.dicom.deid.profile import Action, compile_profile
from tests.collector.payloads import dicom_file

NHS = "9434765919"
NHS_FORMS = (NHS, "943 476 5919", "943-476-5919",
             "".join(chr(0xFF10 + int(d)) for d in NHS),
             "".join(chr(0x0660 + int(d)) for d in NHS))
TEXT_VRS = frozenset({"AE", "CS", "LO", "LT", "PN", "SH", "ST", "UC", "UT", "UR"})
#: VRs written in the dataset's character set (the others are ASCII only).
CHARSET_VRS = frozenset({"LO", "LT", "PN", "SH", "ST", "UC", "UT"})
ASCII_FORMS = tuple(form for form in NHS_FORMS if form.isascii())
#: Values the service cannot judge without the source or the site key: left out.
UNJUDGED = frozenset({Action.REMAP_UID, Action.SHIFT_DATE})
_OTHER_VALUES = {"DA": "19630412", "DT": "19630412120000", "TM": "120000", "DS": "12.5",
                 "IS": "7", "AS": "061Y", "US": 4919, "SS": 4919, "UL": 4919, "FL": 1.5,
                 "FD": 1.5, "OB": b"\x01\x02", "OW": b"\x01\x02", "UN": b"\x01\x02",
                 "AT": 0x00100010}
_SKIPPED_GROUPS = frozenset({0x0000, 0x0002, 0x7FE0, 0xFFFE})


@dataclass(frozen=True)
class Planted:
    tag: int
    keyword: str
    vr: str
    nested: bool
    value: object

    @property
    def identifier(self) -> str | None:
        """The NHS number form planted, when the value is one."""
        return self.value if isinstance(self.value, str) and self.value in NHS_FORMS else None


def _vr(tag: int) -> str | None:
    try:
        vr = str(dictionary_VR(tag))
    except KeyError:
        return None
    return vr.split(" or ")[0]


def cases() -> Iterator[Planted]:
    """One case per judged attribute of the profile, top level and nested."""
    profile = compile_profile()
    for index, (tag, action) in enumerate(sorted(profile.actions.items())):
        vr = _vr(tag)
        if (tag >> 16) in _SKIPPED_GROUPS or vr is None or not keyword_for_tag(tag):
            continue
        if vr != "SQ" and (action in UNJUDGED or (action is Action.KEEP and vr not in TEXT_VRS)):
            continue
        if vr in CHARSET_VRS or vr == "SQ":
            value: object = NHS_FORMS[index % len(NHS_FORMS)]
        elif vr in TEXT_VRS:
            value = ASCII_FORMS[index % len(ASCII_FORMS)]
        elif vr in _OTHER_VALUES:
            value = _OTHER_VALUES[vr]
        else:
            continue
        for nested in (False, True):
            yield Planted(tag, keyword_for_tag(tag), vr, nested, value)


def _holding(keyword: str, value: object) -> Dataset:
    item = Dataset()
    setattr(item, keyword, value)
    return item


def plant(ds: Dataset, case: Planted) -> None:
    """Put the case's attribute into ``ds`` (or into an item of a kept sequence)."""
    ds.SpecificCharacterSet = "ISO_IR 192"
    element = Sequence([_holding("CodeMeaning", case.value)]) if case.vr == "SQ" else case.value
    target = ds
    if case.nested:
        target = Dataset()
        ds.AnatomicRegionSequence = Sequence([target])
    if case.vr == "SQ":
        setattr(target, case.keyword, element)
    else:
        target.add_new(case.tag, case.vr, element)


def planted_file(folder: Path, pseudonym: str, case: Planted, number: int) -> Path:
    path = dicom_file(folder / f"planted-{number}.dcm", pseudonym)
    ds = pydicom.dcmread(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # some planted values are invalid for their VR
        plant(ds, case)
        ds.save_as(path, enforce_file_format=True)
    return path
