"""Which scanned images to send: scan, ask the service, add the sheets' dates, apply the rules.

Why one workflow for both front ends: Send Images and ``nccid upload images`` must choose the
same series for the same folder. The scan reads headers only; the service says which images
it already holds and each patient's clinical date windows; sheets checked on this workstation
(the GUI's, or ``--sheet`` files) add windows the service has not heard of yet; then the
selection rules (:mod:`nccid_desktop.dicom.select.rules`) decide every series, with the
series the user left out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from nccid_desktop.dicom.scan.model import ScanResult
from nccid_desktop.dicom.scan.scanner import scan
from nccid_desktop.dicom.select.clinical_windows import WindowPolicy, windows_from_records
from nccid_desktop.dicom.select.links import (
    LinkReport,
    ListedPatient,
    link_report,
    listed_from_report,
)
from nccid_desktop.dicom.select.policy import SelectionPolicy
from nccid_desktop.dicom.select.rules import Selection, SelectionInputs, select
from nccid_desktop.identifiers import infer_hospital_form
from nccid_desktop.keys import SiteKeys
from nccid_desktop.optouts import OptOutList
from nccid_desktop.pseudonym import LinkingIdentifier
from nccid_desktop.records import ClinicalEnvelope
from nccid_desktop.sheets.findings import PatientRow
from nccid_desktop.sheets.hospital_form import EXAMPLES_MIN_SHARE
from nccid_desktop.tasks import NEVER_CANCELLED, CancelToken, ProgressCallback, no_progress
from nccid_desktop.transport.client import CollectorClient
from nccid_desktop.workflows.opt_outs import OptOutSelection
from nccid_desktop.workflows.service_knowledge import Windows, ask_service, merge_windows
from nccid_desktop.workflows.sheet_check import check_sheet

#: The hold code of an image whose identifier the service holds for another patient.
UID_HELD_BY_SERVICE = "uid_held_by_service"

#: Told when a ``--sheet`` has problems: its name and how many (rows with problems are not
#: linked). The front end decides how to say it.
SheetProblems = Callable[[Path, int], None]


@dataclass(frozen=True)
class ScanOutcome:
    """The scan, and what the service said about it (nothing when not signed in)."""

    result: ScanResult
    uploaded_uids: frozenset[str]
    service_windows: Windows | None = None


def scan_and_ask(paths: Iterable[Path], keys: SiteKeys | None, client: CollectorClient | None,
                 *, workers: int | None = None, progress: ProgressCallback = no_progress,
                 cancel: CancelToken = NEVER_CANCELLED,
                 linking: LinkingIdentifier = "hospital") -> ScanOutcome:
    """Scan what was dropped, then ask the service which images it holds and which patients
    have clinical records (with their test dates). An image whose identifier the service
    holds for another patient is held back (``uid_held_by_service``), never taken as sent."""
    result = scan(list(paths), workers=workers, progress=progress, cancel=cancel)
    if keys is None or client is None or not result.instance_count:
        return ScanOutcome(result, frozenset())
    known = ask_service(client, keys, result, progress, cancel, linking)
    held = result.with_holds(dict.fromkeys(known.other_patient, UID_HELD_BY_SERVICE))
    return ScanOutcome(held, known.uploaded_uids, known.windows)


def choose(outcome: ScanOutcome, keys: SiteKeys | None, linking: LinkingIdentifier,
           windows: Windows | None = None, excluded: frozenset[str] = frozenset(),
           included: frozenset[str] = frozenset(), *,
           negative_days_after: int = 0,
           opt_outs: OptOutSelection | None = None) -> Selection:
    """The selection rules' decision for every series (cheap: headers are already read).

    ``windows`` are those of sheets checked here, merged with the service's; ``excluded``
    holds the source Series Instance UIDs the user left out, ``included`` those the user
    ticked in although the rules left them out (never a quarantined or held-back one: see
    :mod:`nccid_desktop.workflows.series_choice`); ``negative_days_after`` widens negatives'
    windows after the test (the setting ``negative_window_days_after``); ``opt_outs`` (when a
    list is in force) leaves out listed patients, and holds back those it could not check.
    """
    policy = SelectionPolicy(windows=WindowPolicy(negative_days_after=negative_days_after))
    return select(outcome.result, SelectionInputs(
        keys=keys, linking=linking,
        windows=merge_windows(outcome.service_windows, windows) if keys is not None else None,
        uploaded_uids=outcome.uploaded_uids if keys is not None else frozenset(),
        excluded_series=excluded, included_series=included, policy=policy,
        opted_out=opt_outs.opted_out if opt_outs is not None else None,
        opt_out_checked=opt_outs.checked if opt_outs is not None else None))


def image_patient_ids(outcome: ScanOutcome, linking: LinkingIdentifier) -> list[str] | None:
    """The images' PatientIDs, which teach a sheet check the form of the site's hospital
    numbers (None with NHS linking: the PatientIDs are then NHS numbers)."""
    if linking != "hospital":
        return None
    return [p.patient_id for p in outcome.result.patients if p.patient_id.strip()]


@dataclass
class SendSheets:
    """What the sheets given with a send bring: the valid rows' records (for the windows),
    every row with a usable identifier (for the link report), and the rows whose hospital
    number has another form than the images' PatientIDs."""

    envelopes: list[ClinicalEnvelope] = field(default_factory=list)
    listed: list[ListedPatient] = field(default_factory=list)
    unlike_images: list[ListedPatient] = field(default_factory=list)
    images_form: str = ""
    #: every patient row of the sheets (to match images against the opt-out list)
    patients: list[PatientRow] = field(default_factory=list)

    def links(self, selection: Selection) -> LinkReport:
        """Both sides of the link: the sheets' patients without images in this export, and
        the studies of no patient on the sheets (hospital numbers: the user's screen only)."""
        return link_report(selection, self.listed, self.unlike_images, self.images_form)


def check_send_sheets(paths: Iterable[Path], keys: SiteKeys, linking: LinkingIdentifier, *,
                      hospital_pattern: str | None = None,
                      hospital_examples: Iterable[str] | None = None,
                      on_problems: SheetProblems | None = None,
                      opt_outs: OptOutList | None = None,
                      cancel: CancelToken = NEVER_CANCELLED) -> SendSheets:
    """Check each sheet once: the records of its valid rows and its listed patients.

    Rows with problems are left out of the records (and ``on_problems`` told how many); a
    sheet whose rows cannot be pseudonymised at all (the same patient twice, say) raises its
    error. Rows of patients on ``opt_outs`` are never pseudonymised.
    """
    examples = list(hospital_examples) if hospital_examples is not None else None
    found = SendSheets()
    for path in paths:
        checked = check_sheet(path, hospital_pattern=hospital_pattern, keys=keys,
                              linking=linking, keep_cells=False, cancel=cancel,
                              hospital_examples=examples, opt_outs=opt_outs)
        found.patients += checked.report.patients
        if checked.envelope_error is not None:
            raise checked.envelope_error
        found.envelopes += checked.envelopes or []
        report = checked.report
        listed = listed_from_report(report, keys, linking)
        found.listed += listed
        unlike = {f.row for f in report.findings if f.code == "hospital_form"}
        found.unlike_images += [p for p in listed if p.row in unlike]
        form = infer_hospital_form(examples or (), min_share=EXAMPLES_MIN_SHARE)
        if unlike and form is not None:
            found.images_form = f"{form.describe()}, for example {form.example()}"
        if report.error_count and on_problems is not None:
            on_problems(path, report.error_count)
    return found


def sheet_envelopes(paths: Iterable[Path], keys: SiteKeys, linking: LinkingIdentifier, *,
                    hospital_pattern: str | None = None,
                    hospital_examples: Iterable[str] | None = None,
                    on_problems: SheetProblems | None = None,
                    opt_outs: OptOutList | None = None,
                    patients: list[PatientRow] | None = None,
                    cancel: CancelToken = NEVER_CANCELLED) -> list[ClinicalEnvelope]:
    """The pseudonymised records of the valid rows of the sheets at ``paths`` (see
    :func:`check_send_sheets`); ``patients``, when given, receives the sheets' patient rows."""
    found = check_send_sheets(paths, keys, linking, hospital_pattern=hospital_pattern,
                              hospital_examples=hospital_examples, on_problems=on_problems,
                              opt_outs=opt_outs, cancel=cancel)
    if patients is not None:
        patients += found.patients
    return found.envelopes


def sheet_windows(paths: Iterable[Path], keys: SiteKeys, linking: LinkingIdentifier, *,
                  hospital_pattern: str | None = None,
                  hospital_examples: Iterable[str] | None = None,
                  on_problems: SheetProblems | None = None,
                  opt_outs: OptOutList | None = None,
                  patients: list[PatientRow] | None = None,
                  cancel: CancelToken = NEVER_CANCELLED) -> Windows | None:
    """The date windows of the valid rows of the sheets at ``paths`` (None when none given)."""
    paths = list(paths)
    if not paths:
        return None
    return windows_from_records(sheet_envelopes(paths, keys, linking,
                                                hospital_pattern=hospital_pattern,
                                                hospital_examples=hospital_examples,
                                                on_problems=on_problems, opt_outs=opt_outs,
                                                patients=patients, cancel=cancel))
