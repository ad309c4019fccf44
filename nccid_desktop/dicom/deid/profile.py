"""The NCCID de-identification profile: PS3.15 Table E.1-1 plus the options NCCID uses.

Why a compiled table: the standard's table is the rule set (``_annex_e.py``, generated); this
module turns it once per process into ``{tag: Action}`` so the de-identifier does one dict
lookup per element, never a scan of the table. The NCCID choices on top of it are data too
(``NCCID_OPTIONS``, ``NCCID_OVERRIDES``), interpreted by :func:`compile_profile`.

Combined Basic Profile actions (``X/Z``, ``X/D``, ``X/Z/D``, ``Z/D``, ``X/Z/U*``) mean "the
first, unless the IOD needs the attribute present". The table cannot say whether an attribute
is Type 1, 2 or 3 in the object at hand, and removing a Type 1/2 attribute makes the output
invalid (``dciodvfy`` reports it), so the choice here keeps the object valid while keeping no
value: a combination that includes Z becomes Z (present, empty: valid for Type 2 and 3); one
without Z but with D (``X/D``) becomes D (a dummy value, valid even for Type 1); ``X/Z/U*``
(reference sequences such as Source Image Sequence) keeps the sequence and remaps every UID in
it, so references between the de-identified images stay consistent. Sequences that are kept
are always walked, and the table applies again inside every item at any depth; inside a
sequence whose action is D, every text value the table would keep becomes a dummy too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from functools import cache

from pydicom.datadict import tag_for_keyword

from nccid_desktop.dicom.deid._annex_e import ROWS


class Action(Enum):
    """What happens to one attribute."""

    KEEP = "keep"
    REMOVE = "remove"
    EMPTY = "empty"
    DUMMY = "dummy"
    REMAP_UID = "remap_uid"
    SHIFT_DATE = "shift_date"
    CLEAN_DESCRIPTION = "clean_description"
    PSEUDONYM = "pseudonym"
    BIRTH_YEAR = "birth_year"


#: Basic Profile codes, with the combined codes resolved as explained in the module docstring.
BASIC_ACTIONS: Mapping[str, Action] = {
    "X": Action.REMOVE,
    "Z": Action.EMPTY,
    "D": Action.DUMMY,
    "U": Action.REMAP_UID,
    "X/Z": Action.EMPTY,
    "X/D": Action.DUMMY,
    "X/Z/D": Action.EMPTY,
    "Z/D": Action.EMPTY,
    "X/Z/U*": Action.REMAP_UID,
}

#: The PS3.15 options NCCID applies, in order of precedence: (table column, code, action).
#: Retain Longitudinal Temporal Information with Modified Dates, Retain Patient
#: Characteristics, Retain Device Identity. Dates come first, so a date that two options
#: cover (a device's manufacture date) is shifted rather than kept. Other codes in these
#: columns (C on rows that are not dates) fall back to the Basic Profile action.
NCCID_OPTIONS: tuple[tuple[str, str, Action], ...] = (
    ("rtnLongModifDatesOpt", "C", Action.SHIFT_DATE),
    ("rtnPatCharsOpt", "K", Action.KEEP),
    ("rtnDevIdOpt", "K", Action.KEEP),
)

#: NCCID decisions that override table and options, by keyword: the dates NCCID relates to
#: swab and admission dates stay real; PatientID/PatientName carry the pseudonym; the birth
#: date keeps only its year; three descriptors are kept when free of the patient's details.
NCCID_OVERRIDES: Mapping[str, Action] = {
    "PatientID": Action.PSEUDONYM,
    "PatientName": Action.PSEUDONYM,
    "PatientBirthDate": Action.BIRTH_YEAR,
    "StudyDate": Action.KEEP,
    "StudyTime": Action.KEEP,
    "SeriesDate": Action.KEEP,
    "SeriesTime": Action.KEEP,
    "AcquisitionDate": Action.KEEP,
    "AcquisitionTime": Action.KEEP,
    "AcquisitionDateTime": Action.KEEP,
    "ContentDate": Action.KEEP,
    "ContentTime": Action.KEEP,
    "StudyDescription": Action.CLEAN_DESCRIPTION,
    "SeriesDescription": Action.CLEAN_DESCRIPTION,
    "ProtocolName": Action.CLEAN_DESCRIPTION,
}

#: UIDs of classes, syntaxes, software and coding schemes, not of this patient's objects.
CLASS_UID_KEYWORDS = (
    "SOPClassUID", "MediaStorageSOPClassUID", "ReferencedSOPClassUID", "AffectedSOPClassUID",
    "RequestedSOPClassUID", "ReferencedSOPClassUIDInFile", "TransferSyntaxUID",
    "ReferencedTransferSyntaxUIDInFile", "ImplementationClassUID", "CodingSchemeUID",
    "RelatedGeneralSOPClassUID", "OriginalSpecializedSOPClassUID",
)
STANDARD_UID_ROOT = "1.2.840.10008."
DATE_VRS = frozenset({"DA", "DT"})

#: Text VRs whose values are replaced by dummies inside a sequence whose action is D: a code
#: meaning in a Person Identification Code Sequence names a person though it is not in the table.
DUMMY_SCOPE_VRS = frozenset({"AE", "CS", "LO", "LT", "PN", "SH", "ST", "UC", "UR", "UT"})

#: Repeating groups removed whole: curves (50xx) and overlays (60xx), even groups only.
REMOVED_GROUP_PREFIXES = frozenset({0x50, 0x60})

#: What the output says about how it was de-identified (PS3.16 CID 7050, scheme DCM).
METHOD_CODES: tuple[tuple[str, str], ...] = (
    ("113100", "Basic Application Confidentiality Profile"),
    ("113105", "Clean Descriptors Option"),
    ("113107", "Retain Longitudinal Temporal Information Modified Dates Option"),
    ("113108", "Retain Patient Characteristics Option"),
    ("113109", "Retain Device Identity Option"),
)
#: DeidentificationMethod values (LO, 64 characters each at most).
METHOD_TEXT: tuple[str, ...] = (
    "NCCID Desktop PS3.15 Basic Profile",
    "Clean Descriptors (study, series, protocol)",
    "Retain Longitudinal Temporal Information Modified Dates",
    "Retain Patient Characteristics",
    "Retain Device Identity",
)


@dataclass(frozen=True)
class CompiledProfile:
    """The profile as lookups: exact tag -> action, plus what to keep of UIDs."""

    actions: Mapping[int, Action]
    class_uid_tags: frozenset[int]

    def action_for(self, tag: int, vr: str | None) -> Action:
        """The action for a public, non-repeating-group tag with its actual VR.

        An attribute the table does not list is kept, except that its UIDs are remapped,
        its dates shifted and a person name emptied: a name is never kept by default,
        whatever attribute (a newer one, a reviewer's, an evaluator's) carries it.
        """
        action = self.actions.get(tag)
        if action is None:
            if vr == "UI":
                return Action.KEEP if tag in self.class_uid_tags else Action.REMAP_UID
            if vr == "PN":
                return Action.EMPTY
            return Action.SHIFT_DATE if vr in DATE_VRS else Action.KEEP
        return action


def row_action(vr: str, basic: str, options: Mapping[str, str]) -> Action:
    """The NCCID action of one table row (overrides aside)."""
    basic_action = BASIC_ACTIONS[basic]
    for column, code, action in NCCID_OPTIONS:
        if options.get(column) != code:
            continue
        if action is Action.SHIFT_DATE:
            if vr == "TM":
                return Action.KEEP  # whole-day shifts leave times unchanged
            if vr not in DATE_VRS:
                return basic_action
        return action
    return basic_action


@cache
def compile_profile() -> CompiledProfile:
    """Build the lookups once per process from the generated table and the NCCID options."""
    class_uid_tags = frozenset(t for k in CLASS_UID_KEYWORDS if (t := tag_for_keyword(k)))
    actions: dict[int, Action] = {}
    for tag_text, _keyword, _name, vr, basic, options in ROWS:
        if len(tag_text) != 8 or "x" in tag_text:
            continue  # private and repeating-group rows are handled by group
        tag = int(tag_text, 16)
        action = row_action(vr, basic, options)
        if vr == "UI" and action not in (Action.REMOVE, Action.EMPTY):
            action = Action.KEEP if tag in class_uid_tags else Action.REMAP_UID
        actions[tag] = action
    for keyword, action in NCCID_OVERRIDES.items():
        override_tag = tag_for_keyword(keyword)
        if override_tag is not None:
            actions[override_tag] = action
    return CompiledProfile(actions=actions, class_uid_tags=class_uid_tags)


def is_removed_group(group: int) -> bool:
    """Private groups (odd) and curve/overlay groups are removed with all their elements."""
    return bool(group & 1) or (group >> 8 in REMOVED_GROUP_PREFIXES and group & 0xFF < 0x20)


def removed_tags() -> frozenset[int]:
    """Exact tags the profile always removes (for checks and answer keys)."""
    profile = compile_profile()
    return frozenset(t for t, a in profile.actions.items() if a is Action.REMOVE)


def describe() -> str:
    """One line naming the profile and options (for audit files and summaries)."""
    return "; ".join(METHOD_TEXT)
