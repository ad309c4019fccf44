"""Does a de-identified instance conform to the NCCID profile? The check that needs no source.

Why apart from :mod:`.verifier`: the workstation verifies its own outputs against the source
they came from; the collection service receives instances from clients it cannot trust and has
no source. Both run this check, so the rule lives once: at every depth of every sequence, no
private tag, overlay or curve; no attribute the profile (:mod:`..deid.profile`) removes; every
attribute it empties, replaces by a dummy, by the pseudonym or by the birth year holding
nothing else; no identifier-shaped value (:class:`~nccid_desktop.identifiers.IdentifierShapes`)
in any text element; PatientID, PatientName and PatientIdentityRemoved saying the instance is
de-identified; and no burned-in text risk (:mod:`..risk`). What the profile keeps, shifts or
remaps cannot be judged without the source or the site key, and is left to the verifier.

The output is walked as bytes (:mod:`..codec.raw_walk`), or parsed by pydicom when the walker
steps aside; :func:`walk_elements` and :func:`walk_dataset` are the two traversals, shared with
the verifier, which adds its source checks by extending :class:`ElementCheck`. Problems name
the rule and the attribute, never the value, so they can be shown, logged and sent back.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pydicom.datadict import keyword_for_tag, tag_for_keyword

from nccid_desktop.dicom.codec.raw_values import codec_of, dataset_codec
from nccid_desktop.dicom.codec.raw_walk import Element, NeedsFullParser, walk_part10
from nccid_desktop.dicom.deid.profile import DUMMY_SCOPE_VRS, Action, compile_profile
from nccid_desktop.dicom.deid.values import dummy_value
from nccid_desktop.dicom.risk import burned_in_text_risk
from nccid_desktop.dicom.verify.rules import TEXT_VRS, removed_tags
from nccid_desktop.dicom.verify.traversal import (
    FILE_META,
    JUDGED,
    PIXEL_DATA_TAGS,
    parse_output,
    tag_text,
    walk_dataset,
    walk_elements,
)
from nccid_desktop.identifier_shapes import NHS_SHAPES, IdentifierShapes
from nccid_desktop.identifiers import NHS_NUMBER_LENGTH
from nccid_desktop.pseudonym import is_pseudonym

log = logging.getLogger(__name__)

#: Rules (the stable codes a refusal names).
IDENTIFYING_ATTRIBUTE = "identifying_attribute"
IDENTIFIER_VALUE = "identifier_value"
PRIVATE_TAG = "private_tag"
OVERLAY_OR_CURVE = "overlay_or_curve"
NOT_PSEUDONYMISED = "not_pseudonymised"
NOT_MARKED = "not_marked_deidentified"
BURNED_IN_TEXT = "burned_in_text"
UNREADABLE = "unreadable"

_BIRTH_YEAR = re.compile(r"[0-9]{4}0101", re.ASCII)
_PATIENT_NAME, _PATIENT_ID, _IDENTITY_REMOVED = 0x00100010, 0x00100020, 0x00120062
#: Top-level attributes whose values the markers, the risk rule and a store need.
FACT_KEYWORDS = ("PatientID", "PatientName", "PatientIdentityRemoved", "SOPClassUID",
                 "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID", "Modality",
                 "BurnedInAnnotation", "ImageType", "ConversionType", "SeriesDescription",
                 "MediaStorageSOPInstanceUID")
_FACT_TAGS = {t: k for k in FACT_KEYWORDS if (t := tag_for_keyword(k)) is not None}


_KEEP = Action.KEEP
#: Actions already worked out, shared by every check in the process (the profile is fixed).
_ACTIONS: dict[tuple[int, str, bool, bool], Action] = {}


@dataclass(frozen=True)
class Problem:
    """One reason an instance does not conform: the rule, the attribute, a plain sentence."""

    rule: str
    keyword: str
    message: str


@dataclass(frozen=True)
class Conformance:
    """The problems found ([] means conforming) and the top-level values a store needs,
    by keyword (each a list of the element's values; absent when the element is)."""

    problems: list[Problem]
    facts: dict[str, list[str]]


def label(tag: int, path: str) -> str:
    keyword = keyword_for_tag(tag)
    return f"{path}{keyword} {tag_text(tag)}" if keyword else f"{path}{tag_text(tag)}"


def _is_overlay_or_curve(tag: int) -> bool:
    return (tag >> 16) & 0xFF01 in (0x6000, 0x5000)


class ElementCheck:
    """What one walk over every element at every depth finds against the profile."""

    def __init__(self, data: Any, pseudonym: str | None = None,
                 shapes: IdentifierShapes = NHS_SHAPES) -> None:
        self.data = data
        self.shapes = shapes
        self.profile = compile_profile()
        self.actions = self.profile.actions
        self.removed = removed_tags()
        #: tags :meth:`admit` must see (besides private and overlay groups)
        self.unusual = self.removed | PIXEL_DATA_TAGS
        #: :meth:`action` by (tag, VR, dummy scope, file meta): the same for every instance
        self.action_cache = _ACTIONS
        self.pseudonym = pseudonym
        #: what nested pseudonym values must equal (the service learns it from PatientID)
        self.expected = pseudonym
        self.problems: list[Problem] = []
        self.facts: dict[str, list[str]] = {}
        #: without a hospital-number pattern, only a text of 10 characters or more can hold
        #: an identifier (an NHS/CHI number): shorter ones are not searched
        self.shortest = 1 if shapes.hospital is not None else NHS_NUMBER_LENGTH

    def add(self, rule: str, tag: int, message: str) -> None:
        self.problems.append(Problem(rule, keyword_for_tag(tag) or tag_text(tag), message))

    def admit(self, tag: int, path: str, in_meta: bool) -> bool:
        """Note what the tag alone shows is wrong; whether its value is to be read."""
        if (tag >> 16) & 1:
            self.add(PRIVATE_TAG, tag, f"Private tag {label(tag, path)} is still present.")
            return False
        if _is_overlay_or_curve(tag):
            self.add(OVERLAY_OR_CURVE, tag,
                     f"Overlay or curve {label(tag, path)} is still present.")
            return False
        if tag in self.removed and not in_meta:
            self.add(IDENTIFYING_ATTRIBUTE, tag, f"{label(tag, path)} should have been removed.")
        return tag not in PIXEL_DATA_TAGS

    def action(self, tag: int, vr: str, dummy_scope: bool, in_meta: bool) -> Action:
        """What the profile does to this element here (as the de-identifier decides it)."""
        if in_meta:
            return Action.KEEP
        action = self.actions.get(tag) or self.profile.action_for(tag, vr)
        if dummy_scope and action is Action.KEEP and vr in DUMMY_SCOPE_VRS:
            return Action.DUMMY
        if action is Action.SHIFT_DATE and vr == "TM":
            return Action.KEEP
        return action

    def sequence(self, tag: int, path: str, action: Action, items: int) -> bool:
        """Judge a sequence; whether its items are walked in the dummy scope."""
        if action is Action.EMPTY and items and tag not in self.removed:
            self.add(IDENTIFYING_ATTRIBUTE, tag, f"{label(tag, path)} should have been emptied.")
        return action is Action.DUMMY

    def values(self, tag: int, vr: str, texts: list[str], path: str, action: Action,
               in_meta: bool) -> None:
        """Judge the text values of one element."""
        if (not path or in_meta) and tag in _FACT_TAGS:
            self.facts[_FACT_TAGS[tag]] = texts
        if action is _KEEP:
            pass  # the common case: only the identifier search below
        elif action is Action.REMOVE:
            return  # already reported
        elif action in JUDGED:
            problem = self._judged(tag, vr, texts, path, action)
            if problem is not None:
                self.add(IDENTIFYING_ATTRIBUTE, tag, f"{label(tag, path)} {problem}.")
                return
        if vr in TEXT_VRS:
            shortest = self.shortest
            for text in texts:
                kind = self.shapes.find(text) if len(text) >= shortest else None
                if kind is not None:
                    what = "an NHS/CHI number" if kind == "nhs_number" else "a hospital number"
                    self.add(IDENTIFIER_VALUE, tag,
                             f"{label(tag, path)} holds a value that looks like {what}.")
                    break

    def _judged(self, tag: int, vr: str, texts: list[str], path: str,
                action: Action) -> str | None:
        """What is wrong with the value of an element the profile changes, if anything."""
        if action is Action.EMPTY:
            return "should have been emptied" if texts else None
        if action is Action.DUMMY and vr != "UI":
            dummy = str(dummy_value(vr))
            return "should hold only a dummy value" if any(t != dummy for t in texts) else None
        if action is Action.PSEUDONYM and path:  # the top level is judged by the markers
            return ("should hold only the pseudonym"
                    if any(t != self.expected for t in texts) else None)
        if action is Action.BIRTH_YEAR:
            wrong = len(texts) > 1 or any(not _BIRTH_YEAR.fullmatch(t) for t in texts)
            return "should hold only the year of birth" if wrong else None
        if action is Action.SHIFT_DATE and vr not in ("DA", "DT"):
            return "should have been removed"
        return None

    def binary(self, tag: int, vr: str, value: bytes | None, length: int, path: str,
               action: Action) -> None:
        """Judge an element whose value is bytes or numbers (only what the profile changes)."""
        if tag in self.removed:
            return
        if action is Action.EMPTY and length:
            self.add(IDENTIFYING_ATTRIBUTE, tag, f"{label(tag, path)} should have been emptied.")
        elif action is Action.DUMMY and value is not None and value.strip(b"\x00"):
            self.add(IDENTIFYING_ATTRIBUTE, tag,
                     f"{label(tag, path)} should hold only a dummy value.")
        elif action in (Action.PSEUDONYM, Action.BIRTH_YEAR, Action.SHIFT_DATE) and length:
            self.add(IDENTIFYING_ATTRIBUTE, tag, f"{label(tag, path)} should have been removed.")

    def finish(self) -> list[Problem]:
        """Add the checks of the whole instance: its markers and its burned-in text risk."""
        self.problems.extend(_marker_problems(self.facts, self.pseudonym))
        risk = burned_in_text_risk(_risk_header(self.facts))
        if risk is not None:
            self.problems.append(Problem(BURNED_IN_TEXT, risk.code, risk.message))
        return self.problems


def _joined(facts: dict[str, list[str]], keyword: str) -> str:
    return "\\".join(facts.get(keyword, ()))


def _marker_problems(facts: dict[str, list[str]], pseudonym: str | None) -> Iterable[Problem]:
    """What is wrong with the three attributes that say the instance is de-identified.

    With no ``pseudonym`` (the service, which has no key) PatientID must be shaped as one."""
    patient_id = _joined(facts, "PatientID")
    if pseudonym is None:
        if not is_pseudonym(patient_id):
            yield Problem(NOT_PSEUDONYMISED, "PatientID", "PatientID is not a pseudonym.")
            pseudonym = ""
        else:
            pseudonym = patient_id
    elif patient_id != pseudonym:
        yield Problem(NOT_PSEUDONYMISED, "PatientID", "PatientID is not the patient's pseudonym.")
    if _joined(facts, "PatientName") != pseudonym:
        yield Problem(NOT_PSEUDONYMISED, "PatientName",
                      "PatientName is not the patient's pseudonym.")
    if _joined(facts, "PatientIdentityRemoved").upper() != "YES":
        yield Problem(NOT_MARKED, "PatientIdentityRemoved",
                      "PatientIdentityRemoved is not set to YES.")


def _risk_header(facts: dict[str, list[str]]) -> dict[str, Any]:
    header: dict[str, Any] = {}
    for keyword in ("BurnedInAnnotation", "SOPClassUID", "Modality", "ImageType",
                    "ConversionType", "SeriesDescription"):
        values = facts.get(keyword)
        if values:
            header[keyword] = values[0] if len(values) == 1 or keyword == "SOPClassUID" \
                else values
    return header


def walk_instance(data: Any, make_check: Callable[[], ElementCheck]) -> tuple[ElementCheck, Any]:
    """Run a fresh check over ``data``: walked when it can be, else parsed by pydicom.
    Returns the check and where the pixel data lies (the walk's span, or the parsed dataset,
    None when the bytes are not readable DICOM, noted as an ``unreadable`` problem)."""
    try:
        walked = walk_part10(data)
        check = make_check()
        _expect_patient_id(check, _walked_patient_id(walked.dataset, data))
        walk_elements(check, walked.dataset, "", codec_of(walked.dataset, data, "latin-1"))
        walk_elements(check, walked.meta, FILE_META, "latin-1")
        return check, walked.pixel_span
    except NeedsFullParser:
        pass
    check = make_check()
    try:
        ds = parse_output(data)
    except Exception as exc:  # any parse failure fails closed
        log.warning("A de-identified instance could not be read (%s).", type(exc).__name__)
        check.problems.append(Problem(UNREADABLE, "", "The file cannot be read as DICOM."))
        return check, None
    _expect_patient_id(check, str(ds.get("PatientID", "") or "").strip(" \x00"))
    walk_dataset(check, ds, "", dataset_codec(ds))
    if ds.file_meta is not None:
        walk_dataset(check, ds.file_meta, FILE_META, "latin-1")
    return check, ds


def _walked_patient_id(elements: list[Element], data: Any) -> str:
    for tag, _, start, length, _ in elements:
        if tag == _PATIENT_ID:
            return bytes(data[start:start + length]).decode("latin-1").strip(" \x00")
    return ""


def _expect_patient_id(check: ElementCheck, patient_id: str) -> None:
    """Without a known pseudonym, nested pseudonym values must equal the PatientID (when it
    is one)."""
    if check.expected is None and is_pseudonym(patient_id):
        check.expected = patient_id


def check_conformance(data: Any, *, pseudonym: str | None = None,
                      shapes: IdentifierShapes = NHS_SHAPES) -> Conformance:
    """Check a de-identified instance's bytes (``bytes`` or an ``mmap``) against the profile.

    ``pseudonym`` is the patient's, when the caller knows it (the workstation); without it
    (the service) PatientID must be shaped as a pseudonym and PatientName equal to it.
    """
    check, _ = walk_instance(data, lambda: ElementCheck(data, pseudonym, shapes))
    if any(p.rule == UNREADABLE for p in check.problems):
        return Conformance(check.problems, {})
    return Conformance(check.finish(), dict(check.facts))
