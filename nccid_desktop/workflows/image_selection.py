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
from dataclasses import dataclass
from pathlib import Path

from nccid_desktop.dicom.scan.model import ScanResult
from nccid_desktop.dicom.scan.scanner import scan
from nccid_desktop.dicom.select.clinical_windows import windows_from_records
from nccid_desktop.dicom.select.rules import Selection, SelectionInputs, select
from nccid_desktop.keys import SiteKeys
from nccid_desktop.optouts import OptOutList
from nccid_desktop.pseudonym import LinkingIdentifier
from nccid_desktop.records import ClinicalEnvelope
from nccid_desktop.sheets.findings import PatientRow
from nccid_desktop.tasks import NEVER_CANCELLED, CancelToken, ProgressCallback, no_progress
from nccid_desktop.transport.client import CollectorClient
from nccid_desktop.workflows.opt_outs import OptOutSelection
from nccid_desktop.workflows.service_knowledge import Windows, ask_service, merge_windows
from nccid_desktop.workflows.sheet_check import check_sheet

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
                 cancel: CancelToken = NEVER_CANCELLED) -> ScanOutcome:
    """Scan what was dropped, then ask the service which images it holds and which patients
    have clinical records (with their test dates)."""
    result = scan(list(paths), workers=workers, progress=progress, cancel=cancel)
    if keys is None or client is None or not result.instance_count:
        return ScanOutcome(result, frozenset())
    known = ask_service(client, keys, result, progress, cancel)
    return ScanOutcome(result, known.uploaded_uids, known.windows)


def choose(outcome: ScanOutcome, keys: SiteKeys | None, linking: LinkingIdentifier,
           windows: Windows | None = None, excluded: frozenset[str] = frozenset(),
           included: frozenset[str] = frozenset(),
           opt_outs: OptOutSelection | None = None) -> Selection:
    """The selection rules' decision for every series (cheap: headers are already read).

    ``windows`` are those of sheets checked here, merged with the service's; ``excluded``
    holds the source Series Instance UIDs the user left out, ``included`` those the user
    ticked back in (see :mod:`nccid_desktop.workflows.series_choice`); ``opt_outs`` (when a
    list is in force) leaves out listed patients, and holds back those it could not check.
    """
    return select(outcome.result, SelectionInputs(
        keys=keys, linking=linking,
        windows=merge_windows(outcome.service_windows, windows) if keys is not None else None,
        uploaded_uids=outcome.uploaded_uids if keys is not None else frozenset(),
        excluded_series=excluded, included_series=included,
        opted_out=opt_outs.opted_out if opt_outs is not None else None,
        opt_out_checked=opt_outs.checked if opt_outs is not None else None))


def sheet_envelopes(paths: Iterable[Path], keys: SiteKeys, linking: LinkingIdentifier, *,
                    hospital_pattern: str | None = None,
                    on_problems: SheetProblems | None = None,
                    opt_outs: OptOutList | None = None,
                    patients: list[PatientRow] | None = None,
                    cancel: CancelToken = NEVER_CANCELLED) -> list[ClinicalEnvelope]:
    """The pseudonymised records of the valid rows of the sheets at ``paths``.

    Rows with problems are left out (and ``on_problems`` told how many); a sheet whose rows
    cannot be pseudonymised at all (the same patient twice, say) raises its error. Rows of
    patients on ``opt_outs`` are never pseudonymised. ``patients``, when given, receives the
    sheets' patient rows (to match images against the opt-out list).
    """
    envelopes: list[ClinicalEnvelope] = []
    for path in paths:
        checked = check_sheet(path, hospital_pattern=hospital_pattern, keys=keys,
                              linking=linking, keep_cells=False, opt_outs=opt_outs,
                              cancel=cancel)
        if patients is not None:
            patients += checked.report.patients
        if checked.envelope_error is not None:
            raise checked.envelope_error
        envelopes += checked.envelopes or []
        if checked.report.error_count and on_problems is not None:
            on_problems(path, checked.report.error_count)
    return envelopes


def sheet_windows(paths: Iterable[Path], keys: SiteKeys, linking: LinkingIdentifier, *,
                  hospital_pattern: str | None = None,
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
                                                on_problems=on_problems, opt_outs=opt_outs,
                                                patients=patients, cancel=cancel))
