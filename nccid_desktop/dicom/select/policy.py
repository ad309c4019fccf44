"""What NCCID wants, as data: chest X-rays and chest CTs, and the dates around each test.

Why data: "chest" is written many ways in real headers. CT coronary angiograms are coded
``HEART`` or ``CARDIAC``, CT pulmonary angiograms ``CHEST`` or nothing at all with "CTPA" in
the description, whole-trunk scans ``CHEST_TO_PELVIS``; some scanners leave Modality as
``OT`` on CT images. The guidance wants all of them (all chest CT: non-contrast, CTPA and CT
coronary angiography), so the words and codes below are what the rules interpret, and a site
or a test can pass its own :class:`SelectionPolicy`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from nccid_desktop.dicom.select.clinical_windows import DEFAULT_WINDOW_POLICY, WindowPolicy

#: SOP classes whose images are chest-imaging modalities, whatever their Modality says.
SOP_CLASS_MODALITIES: Mapping[str, str] = {
    "1.2.840.10008.5.1.4.1.1.1": "CR",  # Computed Radiography Image Storage
    "1.2.840.10008.5.1.4.1.1.1.1": "DX",  # Digital X-Ray Image Storage - For Presentation
    "1.2.840.10008.5.1.4.1.1.1.1.1": "DX",  # Digital X-Ray Image Storage - For Processing
    "1.2.840.10008.5.1.4.1.1.2": "CT",  # CT Image Storage
    "1.2.840.10008.5.1.4.1.1.2.1": "CT",  # Enhanced CT Image Storage
    "1.2.840.10008.5.1.4.1.1.2.2": "CT",  # Legacy Converted Enhanced CT Image Storage
}

#: BodyPartExamined values that are chest imaging, matched exactly (after upper-casing and
#: turning spaces and dashes into underscores) ...
CHEST_BODY_PARTS = frozenset({
    "CHEST", "THORAX", "LUNG", "LUNGS", "HEART", "CARDIAC", "CORONARYARTERY", "CORONARY",
    "MEDIASTINUM", "PULMONARY", "PULMONARYARTERY", "CHEST_TO_PELVIS", "CHESTTOPELVIS",
    "CHEST_ABDOMEN", "CHESTABDOMEN", "CHESTABDPELVIS", "CHEST_ABDOMEN_PELVIS",
    "THORAX_ABDOMEN", "TORAX", "TORACE", "TORSO",
})
#: ... or by containing one of these (``CHEST_LAT``, ``THORACIC_AORTA``, ``CARDIAC_CT``).
CHEST_BODY_PART_MARKERS = ("CHEST", "THORA", "LUNG", "TORAX", "TORACE", "HEART", "CARDIAC",
                           "CORONAR", "PULMON", "MEDIASTIN")
#: Words in a study, series or protocol description that say "chest" (whole words) ...
CHEST_WORDS = frozenset({
    "CHEST", "THORAX", "THORACIC", "LUNG", "LUNGS", "CXR", "CTPA", "CTCA", "CCTA", "HRCT",
    "HEART", "CARDIAC", "CORONARY", "CORONARIES", "TAP", "CAP", "TORAX", "TORACE",
    "MEDIASTINUM",
})
#: ... or start one (``THORAKS``, ``PULMONARY``, ``CORONARIES``) ...
CHEST_WORD_PREFIXES = ("THORA", "PULMON", "CORONAR")
#: ... or come as these pairs of words (``CT PA`` for a pulmonary angiogram).
CHEST_PHRASES = (("CT", "PA"), ("CT", "PE"))

#: Reasons the user may overrule by ticking a series in: the images are sendable, the rules
#: just did not pick them. Never a quarantined series, one without a usable patient ID, one
#: already sent or a modality NCCID does not collect.
OVERRIDABLE = frozenset({"not_chest_body_part", "not_linked", "no_window", "no_date",
                         "outside_window"})

#: Modality values that say nothing (a missing Modality, "other"): the SOP class decides.
UNINFORMATIVE_MODALITIES = frozenset({"", "OT"})

ChestVerdict = Literal["chest", "described", "unrecorded", "not_chest"]
_WORD_SPLIT = re.compile(r"[^A-Z0-9]+")


@dataclass(frozen=True)
class SelectionPolicy:
    """What counts as a chest image, which left-out series a user may tick in, and the date
    windows. Every field is data with the defaults above."""

    modalities: frozenset[str] = frozenset({"CR", "DX", "CT"})
    sop_class_modalities: Mapping[str, str] = field(default_factory=lambda: SOP_CLASS_MODALITIES)
    uninformative_modalities: frozenset[str] = UNINFORMATIVE_MODALITIES
    chest_body_parts: frozenset[str] = CHEST_BODY_PARTS
    chest_markers: tuple[str, ...] = CHEST_BODY_PART_MARKERS
    chest_words: frozenset[str] = CHEST_WORDS
    chest_word_prefixes: tuple[str, ...] = CHEST_WORD_PREFIXES
    chest_phrases: tuple[tuple[str, ...], ...] = CHEST_PHRASES
    overridable: frozenset[str] = OVERRIDABLE
    windows: WindowPolicy = DEFAULT_WINDOW_POLICY

    def is_chest(self, body_part: str) -> bool:
        value = "_".join(body_part.upper().replace("-", " ").split())
        return value in self.chest_body_parts or any(m in value for m in self.chest_markers)

    def says_chest(self, text: str) -> bool:
        """Whether a description or protocol name says chest (by whole words, not letters)."""
        words = [w for w in _WORD_SPLIT.split(text.upper()) if w]
        if any(w in self.chest_words or w.startswith(self.chest_word_prefixes) for w in words):
            return True
        pairs = set(itertools.pairwise(words))
        return any(tuple(phrase) in pairs for phrase in self.chest_phrases if len(phrase) == 2)

    def chest_verdict(self, body_part: str, descriptions: Iterable[str]) -> ChestVerdict:
        """How sure the headers are that a series is chest imaging.

        ``chest``: the body part says so. ``described``: no body part, but a description or
        the protocol says chest. ``unrecorded``: no body part and nothing says chest (sent
        with a warning). ``not_chest``: the body part names another part of the body (a
        person may still tick the series in).
        """
        if body_part:
            return "chest" if self.is_chest(body_part) else "not_chest"
        if any(self.says_chest(text) for text in descriptions if text):
            return "described"
        return "unrecorded"

    def modality_of(self, modality: str, sop_class_uid: str) -> str:
        """The modality the rules use: the header's, or the SOP class's when the header says
        nothing (``OT`` on CT images, an empty Modality)."""
        if modality not in self.uninformative_modalities:
            return modality
        return self.sop_class_modalities.get(sop_class_uid, modality)


DEFAULT_POLICY = SelectionPolicy()
