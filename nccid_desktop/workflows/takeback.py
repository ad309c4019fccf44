"""Taking data back from the service: withdraw a patient, remove a wrongly linked study.

Why on the workstation: the service must never be told an identifier. The NHS/CHI number
typed by the user becomes its NHS/CHI index (the checker's keyed hash) and, when the site
links on it, the pseudonym; a hospital number, when given, gives the pseudonym of a site
linking on hospital numbers. A study is named by its source StudyInstanceUID or its folder;
the service is told only the de-identified UID the site's key gives it. Both front ends run
these: first :func:`preview_withdrawal` (what the service holds, shown to the user), then,
once confirmed, :func:`withdraw_patient`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nccid_desktop.errors import IdentifierError, NccidError
from nccid_desktop.keys import SiteKeys
from nccid_desktop.pseudonym import LinkingIdentifier, nhs_index, pseudonym_for, remap_uid
from nccid_desktop.tasks import NEVER_CANCELLED, CancelToken, Progress, ProgressCallback, no_progress
from nccid_desktop.transport.client import CollectorClient
from nccid_desktop.uk_dates import uk_prose_of
from nccid_desktop.workflows.words import plural

REASONS = ("opt-out", "patient-request", "wrong-patient")
REASON_WORDS = {"opt-out": "the patient opted out",
                "patient-request": "the patient asked to be removed",
                "wrong-patient": "the data belong to another patient (wrong link)"}


def retention_words(summary: dict) -> str:
    """The retention in force, from the site summary, as both front ends say it."""
    days = summary.get("retention_days")
    if not days:
        return "The service has no retention period set: raw data is kept until removed."
    return f"Raw data is kept for {days} days from its upload date, then purged."


def patient_reference(keys: SiteKeys, nhs_number: str, linking: LinkingIdentifier,
                      hospital_number: str | None = None) -> dict[str, str]:
    """What the service is told about the patient: keyed hashes only."""
    reference = {"nhs_index": nhs_index(keys, nhs_number)}
    if linking == "nhs":
        reference["pseudonym"] = pseudonym_for(keys, nhs_number=nhs_number, linking="nhs")
    elif hospital_number:
        reference["pseudonym"] = pseudonym_for(keys, hospital_number=hospital_number)
    return reference


@dataclass(frozen=True)
class WithdrawalPreview:
    records: int
    studies: int
    images: int
    withdrawn_on: str | None

    @property
    def holds_anything(self) -> bool:
        return bool(self.records or self.images)

    def describe(self) -> str:
        if self.withdrawn_on:
            return f"This patient was withdrawn on {uk_prose_of(self.withdrawn_on)}."
        if not self.holds_anything:
            return ("The service holds nothing for this patient. Withdrawing still stops "
                    "anything being accepted for them later.")
        return (f"The service holds {plural(self.records, 'clinical record')} and "
                f"{plural(self.images, 'image')} in {plural(self.studies, 'study')} for this "
                "patient.")


@dataclass(frozen=True)
class WithdrawalDone:
    records: int
    images: int
    withdrawn_on: str

    def describe(self) -> str:
        return (f"Withdrawn on {uk_prose_of(self.withdrawn_on)}: {plural(self.records, 'record version')} "
                f"and {plural(self.images, 'image')} removed. Nothing more will be accepted "
                "for this patient.")


def preview_withdrawal(client: CollectorClient, keys: SiteKeys, nhs_number: str,
                       linking: LinkingIdentifier, hospital_number: str | None = None, *,
                       progress: ProgressCallback = no_progress,
                       cancel: CancelToken = NEVER_CANCELLED) -> WithdrawalPreview:
    cancel.raise_if_cancelled()
    progress(Progress(0, None, "Asking the service what it holds"))
    data = client.withdrawal_preview(patient_reference(keys, nhs_number, linking,
                                                       hospital_number))
    return WithdrawalPreview(int(data.get("records") or 0), int(data.get("studies") or 0),
                             int(data.get("images") or 0), data.get("withdrawn_on"))


def withdraw_patient(client: CollectorClient, keys: SiteKeys, nhs_number: str, reason: str,
                     linking: LinkingIdentifier, hospital_number: str | None = None, *,
                     progress: ProgressCallback = no_progress,
                     cancel: CancelToken = NEVER_CANCELLED) -> WithdrawalDone:
    """Withdraw the patient; call only after the user confirmed what the preview showed."""
    if reason not in REASONS:
        raise NccidError(f"The reason must be one of: {', '.join(REASONS)}.")
    cancel.raise_if_cancelled()
    progress(Progress(0, None, "Withdrawing the patient"))
    data = client.withdraw(patient_reference(keys, nhs_number, linking, hospital_number),
                           reason)
    return WithdrawalDone(int(data.get("records") or 0), int(data.get("images") or 0),
                          str(data.get("withdrawn_on") or ""))


@dataclass(frozen=True)
class PatientHolding:
    """What the app shows before taking anything back: the received studies (each with its
    Remove action) and, for users who may withdraw, what a withdrawal would remove."""

    studies: tuple[tuple[str, int, str], ...]
    preview: WithdrawalPreview | None
    #: why this user may not withdraw (empty when they may)
    withdraw_refused: str = ""


def look_up_patient(client: CollectorClient, keys: SiteKeys, nhs_number: str,
                    linking: LinkingIdentifier, hospital_number: str | None = None, *,
                    progress: ProgressCallback = no_progress,
                    cancel: CancelToken = NEVER_CANCELLED) -> PatientHolding:
    from nccid_desktop.errors import AuthError
    from nccid_desktop.transport.errors import (
        AccountLockedError,
        PasswordChangeRequiredError,
        SessionExpiredError,
    )

    cancel.raise_if_cancelled()
    progress(Progress(0, None, "Asking the service what it holds"))
    (result,) = client.check([nhs_index(keys, nhs_number)])
    try:
        preview: WithdrawalPreview | None = preview_withdrawal(
            client, keys, nhs_number, linking, hospital_number, cancel=cancel)
        refused = ""
    except AuthError as error:  # not allowed to withdraw (the role): studies still shown
        if isinstance(error, SessionExpiredError | PasswordChangeRequiredError
                      | AccountLockedError):
            raise
        preview, refused = None, str(error)
    return PatientHolding(result.study_list, preview, refused)


def remove_held_study(client: CollectorClient, study_uid: str, *,
                      progress: ProgressCallback = no_progress,
                      cancel: CancelToken = NEVER_CANCELLED) -> int:
    """Remove one received study, named by the de-identified UID the service listed."""
    cancel.raise_if_cancelled()
    progress(Progress(0, None, "Removing the study"))
    return int(client.remove_study(study_uid).get("images") or 0)


def study_uids(source: str, keys: SiteKeys, *, cancel: CancelToken = NEVER_CANCELLED
               ) -> list[str]:
    """The de-identified StudyInstanceUIDs of a source study UID, or of the studies in a
    folder (headers only)."""
    path = Path(source)
    if path.exists():
        from nccid_desktop.dicom.scan.scanner import scan

        result = scan([path], cancel=cancel)
        sources = {study.study_uid for patient in result.patients for study in patient.studies}
        if not sources:
            raise NccidError(f"No DICOM study was found in {path.name}.")
    else:
        text = source.strip()
        if not text or not all(part.isdigit() for part in text.split(".")) or len(text) > 64:
            raise IdentifierError("Give a StudyInstanceUID (digits and dots) or a study folder.")
        sources = {text}
    return sorted(remap_uid(keys, uid) for uid in sources)


def remove_studies(client: CollectorClient, keys: SiteKeys, source: str, *,
                   progress: ProgressCallback = no_progress,
                   cancel: CancelToken = NEVER_CANCELLED) -> int:
    """Remove from the service every study ``source`` names; how many images went."""
    uids = study_uids(source, keys, cancel=cancel)
    removed = 0
    for done, uid in enumerate(uids):
        cancel.raise_if_cancelled()
        progress(Progress(done, len(uids), "Removing the study"))
        removed += int(client.remove_study(uid).get("images") or 0)
    return removed
