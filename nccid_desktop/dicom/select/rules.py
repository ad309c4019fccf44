"""Which scanned series to send, each with a reason a person understands.

Why inputs as data: the GUI feeds the rules from the sheet it just validated, the CLI from
record files, and an upload round from what the collection service already holds. So the
clinical windows, the already-uploaded UIDs, the user's own choices and the chest policy are
all plain values in :class:`SelectionInputs`, and :func:`select` only interprets them.
Every rule of :data:`RULES` is asked; the first that excludes a series gives its reason. A
series the user ticked in is sent anyway when every reason against it is one the policy lets
a person overrule (never a quarantined series), and its decision keeps those reasons so the
job and the audit can say why it went.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from nccid_desktop.dicom.scan.model import (
    HOLD_REASONS,
    Patient,
    ScannedFile,
    ScanResult,
    Series,
    Study,
)
from nccid_desktop.dicom.scan.sources import SourceFile
from nccid_desktop.dicom.select.clinical_windows import (
    ClinicalWindow,
    window_from_record,
    windows_from_records,
)
from nccid_desktop.dicom.select.policy import DEFAULT_POLICY, SelectionPolicy
from nccid_desktop.errors import ConfigError, IdentifierError
from nccid_desktop.keys import SiteKeys
from nccid_desktop.pseudonym import LinkingIdentifier, pseudonym_for, remap_uid
from nccid_desktop.uk_dates import uk_prose

#: Every reason a series can carry, by stable code (the GUI and JSON show the text).
REASONS: dict[str, str] = {
    "will_send": "Will be sent",
    "included_by_user": "Included by you",
    "no_patient_id": "No usable patient ID in the images, so they cannot be linked",
    "not_chest_modality": "Not a chest X-ray (CR/DX) or CT",
    "not_chest_body_part": "Body part is not chest",
    "quarantined": "Quarantined: {risk}",
    **HOLD_REASONS,  # every image of the series is held back (e.g. "uid_conflict")
    "not_linked": "Not linked to a clinical record",
    "no_window": "The clinical record has no test date, so the date window cannot be checked",
    "no_date": "The images have no date, so the date window cannot be checked",
    "outside_window": "Outside the date window",
    "already_uploaded": "Already uploaded",
    "excluded_by_user": "Excluded by you",
    "opted_out": "The patient has opted out (on the site's opt-out list)",
    "opt_out_unchecked": "Cannot be checked against the opt-out list: the patient is not on "
                         "a sheet checked here (add the sheet)",
}


@dataclass(frozen=True)
class SelectionInputs:
    """Everything the rules need besides the scan.

    ``windows`` maps pseudonyms to their clinical windows; None means no clinical records
    were given, so linking and dates are not checked yet (each series says so). Windows and
    ``uploaded_uids`` (remapped SOP Instance UIDs the service holds) need ``keys``.
    ``excluded_series`` holds source SeriesInstanceUIDs the user unticked, ``included_series``
    those the user ticked in although the rules left them out.
    """

    keys: SiteKeys | None = None
    linking: LinkingIdentifier = "hospital"
    windows: Mapping[str, tuple[ClinicalWindow, ...]] | None = None
    uploaded_uids: frozenset[str] = frozenset()
    excluded_series: frozenset[str] = frozenset()
    included_series: frozenset[str] = frozenset()
    policy: SelectionPolicy = DEFAULT_POLICY
    #: With an opt-out list in force: the pseudonyms of listed patients (never sent), and
    #: those that could be checked against the list (None: every one could, the site links on
    #: the NHS/CHI number). A patient who could not be checked is held back: fail closed.
    opted_out: frozenset[str] | None = None
    opt_out_checked: frozenset[str] | None = None


@dataclass(frozen=True)
class Exclusion:
    """One reason a series was left out: stable code, words, and the particulars."""

    code: str
    reason: str
    detail: str = ""

    def describe(self) -> str:
        return self.reason + (f" ({self.detail})" if self.detail else "")


@dataclass(frozen=True)
class SeriesDecision:
    patient: Patient = field(repr=False)
    study: Study = field(repr=False)
    series: Series = field(repr=False)
    pseudonym: str | None
    included: bool
    code: str
    reason: str
    detail: str = ""
    warnings: tuple[str, ...] = ()
    files: tuple[ScannedFile, ...] = field(default=(), repr=False)
    #: Why the rules left out a series the user ticked in (empty unless ``included_by_user``).
    overridden: tuple[Exclusion, ...] = ()

    @property
    def images_to_send(self) -> int:
        """Images that will be sent: not yet uploaded and without burned-in text risk."""
        return sum(1 for f in self.files if f.risk is None)


@dataclass(frozen=True)
class Selection:
    decisions: tuple[SeriesDecision, ...]

    @property
    def included(self) -> tuple[SeriesDecision, ...]:
        return tuple(d for d in self.decisions if d.included)

    @property
    def overridden(self) -> tuple[SeriesDecision, ...]:
        """Series sent only because the user ticked them in."""
        return tuple(d for d in self.decisions if d.overridden)

    def files_to_send(self) -> list[SourceFile]:
        """Files of included series not yet uploaded. Files at risk of burned-in text stay in:
        the de-identifier quarantines them with their reason, so the user sees them."""
        return [f.source for d in self.included for f in d.files]


@dataclass(frozen=True)
class _Case:
    study: Study
    series: Series
    pseudonym: str | None
    inputs: SelectionInputs
    uploaded: frozenset[str]

    @property
    def modality(self) -> str:
        return self.inputs.policy.modality_of(self.series.modality, self.series.sop_class_uid)

    @property
    def chest(self) -> str:
        series = self.series
        return self.inputs.policy.chest_verdict(
            series.body_part, (series.description, series.protocol, self.study.description))


Rule = Callable[[_Case], "tuple[str, str] | None"]


def _opt_out(case: _Case) -> tuple[str, str] | None:
    if case.inputs.opted_out is None or case.pseudonym is None:
        return None
    if case.pseudonym in case.inputs.opted_out:
        return "opted_out", ""
    checked = case.inputs.opt_out_checked
    return ("opt_out_unchecked", "") if checked is not None and case.pseudonym not in checked \
        else None


def _modality(case: _Case) -> tuple[str, str] | None:
    return None if case.modality in case.inputs.policy.modalities else (
        "not_chest_modality", f"Modality {case.series.modality or 'not recorded'}")


def _body_part(case: _Case) -> tuple[str, str] | None:
    if case.chest != "not_chest":
        return None
    return "not_chest_body_part", f"Body part {case.series.body_part}"


def _quarantine(case: _Case) -> tuple[str, str] | None:
    return ("quarantined", "") if case.series.quarantine == "all" else None


def _held_back(case: _Case) -> tuple[str, str] | None:
    held = case.series.held_back_files
    if held and len(held) == case.series.instance_count:
        return held[0].hold or "", ""
    return None


def _linked(case: _Case) -> tuple[str, str] | None:
    windows = case.inputs.windows
    if windows is None or (case.pseudonym is not None and case.pseudonym in windows):
        return None
    return "not_linked", ""


def _window(case: _Case) -> tuple[str, str] | None:
    windows = case.inputs.windows
    if windows is None or case.pseudonym is None or case.pseudonym not in windows:
        return None
    policy = case.inputs.policy.windows
    patient_windows = [w.under(policy) for w in windows[case.pseudonym]]
    if not patient_windows:
        return "no_window", ""
    day = case.series.date
    if day is None:
        return "no_date", ""
    if any(w.contains(day) for w in patient_windows):
        return None
    spans = "; ".join(w.describe() for w in patient_windows)
    return "outside_window", f"Images from {uk_prose(day)}; wanted {spans}"


def _uploaded(case: _Case) -> tuple[str, str] | None:
    if case.uploaded and len(case.uploaded) == case.series.instance_count:
        return "already_uploaded", ""
    return None


def _user(case: _Case) -> tuple[str, str] | None:
    excluded = case.series.series_uid in case.inputs.excluded_series
    return ("excluded_by_user", "") if excluded else None


#: The rules in the order they are asked; the first answer that excludes gives the reason.
RULES: tuple[Rule, ...] = (_opt_out, _modality, _body_part, _quarantine, _held_back, _linked, _window,
                          _uploaded, _user)
__all__ = ["REASONS", "RULES", "ClinicalWindow", "Exclusion", "Selection", "SelectionInputs",
           "SelectionPolicy", "SeriesDecision", "pseudonym_of", "select", "window_from_record",
           "windows_from_records"]


def pseudonym_of(patient: Patient, keys: SiteKeys | None,
                 linking: LinkingIdentifier = "hospital") -> str | None:
    """The patient's pseudonym from the DICOM PatientID, or None without keys or usable ID."""
    if keys is None:
        return None
    try:
        if linking == "nhs":
            return pseudonym_for(keys, nhs_number=patient.patient_id, linking="nhs")
        return pseudonym_for(keys, hospital_number=patient.patient_id)
    except IdentifierError:
        return None


def _warnings(case: _Case) -> tuple[str, ...]:
    series, found = case.series, []
    if case.modality != series.modality:
        found.append(f"Modality is {series.modality or 'not recorded'}, but the images are "
                     f"stored as {case.modality} images: treated as {case.modality}.")
    if case.chest == "unrecorded":
        found.append("Body part is not recorded: check that these are chest images.")
    if series.quarantine == "some":
        risk, _ = series.risks[0]
        count = len(series.quarantined_files)
        found.append(f"{count} of {series.instance_count} images will be quarantined and not "
                     f"sent: {risk.message}")
    held = series.held_back_files
    if held:
        found.append(f"{len(held)} of {series.instance_count} images are held back and will not "
                     f"be sent: {HOLD_REASONS[held[0].hold or '']}")
    if case.uploaded:
        found.append(f"{len(case.uploaded)} of {series.instance_count} images were already "
                     "uploaded and will not be sent again.")
    if case.inputs.windows is None:
        found.append("Not yet checked against clinical records.")
    return tuple(found)


def _exclusions(case: _Case) -> list[Exclusion]:
    risk = case.series.risks[0][0].message if case.series.risks else ""
    found = []
    for rule in RULES:
        answer = rule(case)
        if answer is not None:
            code, detail = answer
            found.append(Exclusion(code, REASONS[code].format(risk=risk), detail))
    return found


def _decide(patient: Patient, study: Study, series: Series, pseudonym: str | None,
            inputs: SelectionInputs) -> SeriesDecision:
    keys = inputs.keys
    uploaded = frozenset(
        uid for uid in series.source_sop_instance_uids
        if inputs.uploaded_uids and keys is not None
        and remap_uid(keys, uid) in inputs.uploaded_uids
    )
    if (keys is not None and pseudonym is None) or not patient.patient_id.strip():
        return SeriesDecision(patient, study, series, None, False, "no_patient_id",
                              REASONS["no_patient_id"])
    case = _Case(study, series, pseudonym, inputs, uploaded)
    exclusions = _exclusions(case)
    files = tuple(f for f in series.files  # held-back images never go, whatever is ticked
                  if f.sop_instance_uid not in uploaded and f.hold is None)
    if not exclusions:
        return SeriesDecision(patient, study, series, pseudonym, True, "will_send",
                              REASONS["will_send"], "", _warnings(case), files)
    ticked = series.series_uid in inputs.included_series
    blocking = [e for e in exclusions if e.code not in inputs.policy.overridable]
    if ticked and not blocking:
        detail = "left out as: " + "; ".join(e.describe() for e in exclusions)
        return SeriesDecision(patient, study, series, pseudonym, True, "included_by_user",
                              REASONS["included_by_user"], detail, _warnings(case), files,
                              tuple(exclusions))
    first = blocking[0] if ticked else exclusions[0]
    warnings = (f"This series cannot be ticked in: {first.reason}.",) if ticked else ()
    return SeriesDecision(patient, study, series, pseudonym, False, first.code, first.reason,
                          first.detail, warnings)


def select(result: ScanResult, inputs: SelectionInputs = SelectionInputs()) -> Selection:
    """A decision for every series of the scan, in scan order."""
    if inputs.keys is None and (inputs.windows is not None or inputs.uploaded_uids):
        raise ConfigError("The site key file is needed to match images to clinical records "
                          "and to uploads.")
    decisions = []
    for patient in result.patients:
        pseudonym = pseudonym_of(patient, inputs.keys, inputs.linking)
        for study in patient.studies:
            for series in study.series:
                decisions.append(_decide(patient, study, series, pseudonym, inputs))
    return Selection(tuple(decisions))


def override_audit(selection: Selection, keys: SiteKeys | None) -> list[dict[str, object]]:
    """What the job and the audit keep about series the user ticked in: the warehouse's
    (remapped) series UID, the pseudonym and every reason the rules had, never a source UID
    or a patient's name."""
    return [{"series_uid": remap_uid(keys, d.series.series_uid) if keys is not None else None,
             "pseudonym": d.pseudonym, "images": d.images_to_send,
             "left_out": [{"code": e.code, "reason": e.reason, "detail": e.detail}
                          for e in d.overridden]}
            for d in selection.overridden]
