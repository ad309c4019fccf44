"""Check a clinical sheet once, and keep everything the pages after it need.

Why one pass: a sheet check used to validate the workbook, open it again for the grid, and
pseudonymise every row for the date windows Send Images needs; Upload then pseudonymised
every row again. Now the validator streams the rows once, keeping the grid's text as they
pass (:class:`GridCells`), and the valid rows are pseudonymised once, here: the envelopes are
kept in :class:`CheckedSheet` and Upload sends them as they are (:mod:`sheet_upload`), as long
as the keys and the linking setting are those of the check.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from nccid_desktop.dicom.select.clinical_windows import ClinicalWindow, windows_from_records
from nccid_desktop.errors import CancelledError, NccidError
from nccid_desktop.keys import SiteKeys
from nccid_desktop.optouts import OptOutList
from nccid_desktop.pseudonym import LinkingIdentifier
from nccid_desktop.records import ClinicalEnvelope
from nccid_desktop.sheets.annotate import annotate_copy
from nccid_desktop.sheets.cross_check import HeldRecord, check_together
from nccid_desktop.sheets.findings import Note, ValidationReport
from nccid_desktop.sheets.grid_cells import GridCells, SheetCells
from nccid_desktop.sheets.payload import build_envelopes, opted_out_rows
from nccid_desktop.sheets.validator import validate_workbook
from nccid_desktop.tasks import NEVER_CANCELLED, CancelToken, ProgressCallback, no_progress
from nccid_desktop.transport.client import CollectorClient
from nccid_desktop.workflows.opt_outs import OptOutSelection, as_opt_out_list
from nccid_desktop.workflows.words import plural

#: Said on a signed-in check when the service could not say which records it holds.
NOT_ASKED = ("The collection service could not be asked which records it already holds, so "
             "patients already sent on the other sheet were not checked. Check again when the "
             "service can be reached.")


@dataclass(frozen=True)
class CheckedSheet:
    """A checked sheet: the report, the grid's cells, and the valid rows pseudonymised.

    ``envelopes`` is None when the rows were not pseudonymised (no keys, no valid rows, or
    an error doing it, kept in ``envelope_error`` for Upload to show).
    """

    path: Path
    report: ValidationReport
    cells: SheetCells | None = None
    envelopes: tuple[ClinicalEnvelope, ...] | None = field(default=None, repr=False)
    envelope_error: NccidError | None = None
    keys: SiteKeys | None = field(default=None, repr=False)
    linking: LinkingIdentifier = "hospital"
    #: the opt-out list the rows were pseudonymised under, and how many rows it left out
    opt_outs: OptOutList | None = field(default=None, repr=False)
    opted_out: int = 0
    #: the sheet's patients matched against the list, for Send Images' opt-out rule
    opt_out_selection: OptOutSelection | None = field(default=None, repr=False)

    @property
    def windows(self) -> dict[str, tuple[ClinicalWindow, ...]]:
        """The date windows of the valid rows, so Send Images can link its images."""
        return windows_from_records(self.envelopes or ())

    def pseudonymised_for(self, keys: SiteKeys, linking: LinkingIdentifier) -> bool:
        """Whether the kept envelopes were made with these keys and this linking setting."""
        return self.keys == keys and self.linking == linking and (
            self.envelopes is not None or self.envelope_error is not None)

    def opted_out_under(self, opt_outs: OptOutList | None) -> bool:
        """Whether the kept envelopes already leave out this opt-out list's patients."""
        return self.opt_outs == opt_outs


def check_sheet(path: Path, template_id: str | None = None, *,
                hospital_pattern: str | None = None, keys: SiteKeys | None = None,
                linking: LinkingIdentifier = "hospital", keep_cells: bool = True,
                client: CollectorClient | None = None,
                hospital_examples: Iterable[str] | None = None,
                opt_outs: OptOutList | str | Path | None = None,
                progress: ProgressCallback = no_progress,
                cancel: CancelToken = NEVER_CANCELLED) -> CheckedSheet:
    """Validate ``path`` (against ``template_id`` when given), reading it once; keep the grid
    when ``keep_cells``, and pseudonymise its valid rows when ``keys`` are given, except those
    of patients on ``opt_outs`` (never pseudonymised, counted in ``opted_out``).

    Signed in (``client`` and ``keys``), the rows are also checked against the records the
    service already holds for the site (a negative row for a patient it holds as positive is
    an error; a positive row for one it holds as negative, a warning saying how to withdraw
    the old record). ``hospital_examples`` (the images' PatientIDs) teach the form of the
    site's hospital numbers when no pattern is set.
    """
    path = Path(path)
    cells = GridCells() if keep_cells else None
    report = validate_workbook(path, template_id, hospital_pattern=hospital_pattern or None,
                               hospital_examples=hospital_examples, progress=progress,
                               cancel=cancel, cells=cells)
    opt_outs = as_opt_out_list(opt_outs)
    if keys is not None and client is not None and report.template:
        _check_against_held(report, keys, linking, client, opt_outs, cancel)
    opted_out = opted_out_rows(report, opt_outs)
    selection = (OptOutSelection.of(opt_outs, keys, linking, report.patients)
                 if opt_outs is not None and keys is not None else None)
    if keys is None or not report.valid_rows:
        return CheckedSheet(path, report, cells.cells() if cells else None, linking=linking,
                            opt_outs=opt_outs, opted_out=opted_out,
                            opt_out_selection=selection)
    try:
        envelopes = tuple(build_envelopes(report, keys, linking=linking, allow_partial=True,
                                          opt_outs=opt_outs, progress=progress, cancel=cancel))
    except CancelledError:
        raise
    except NccidError as error:
        return CheckedSheet(path, report, cells.cells() if cells else None,
                            envelope_error=error, keys=keys, linking=linking,
                            opt_outs=opt_outs, opted_out=opted_out,
                            opt_out_selection=selection)
    return CheckedSheet(path, report, cells.cells() if cells else None, envelopes, keys=keys,
                        linking=linking, opt_outs=opt_outs, opted_out=opted_out,
                        opt_out_selection=selection)


def _check_against_held(report: ValidationReport, keys: SiteKeys, linking: LinkingIdentifier,
                        client: CollectorClient, opt_outs: OptOutList | None,
                        cancel: CancelToken) -> None:
    """Add the findings against what the service holds (the check goes on without them,
    saying so, when the service cannot be asked). Opted-out patients' rows are left out:
    they are never pseudonymised, not even to be compared."""
    try:
        windows = client.clinical_windows(cancel)
    except CancelledError:
        raise
    except NccidError:
        report.notes.append(Note("service_not_asked", NOT_ASKED))
        return
    held = [HeldRecord(pseudonym, window.kind, window.test_date)
            for pseudonym, found in (windows or {}).items() for window in found]
    main = report if report.template == "main" else None
    status = report if report.template == "status" else None
    check_together(main, status, keys, linking=linking, held=held, opt_outs=opt_outs)


def annotated_copy(path: Path, template_id: str, hospital_pattern: str | None,
                   destination: Path, *, progress: ProgressCallback = no_progress,
                   cancel: CancelToken = NEVER_CANCELLED) -> Path:
    """A copy of the workbook with every problem highlighted (all findings, not the first
    few per column)."""
    report = validate_workbook(path, template_id, hospital_pattern=hospital_pattern or None,
                               progress=progress, cancel=cancel, max_findings_per_column=None)
    return annotate_copy(path, report, destination)


@dataclass(frozen=True)
class CheckWords:
    """What the page says after a check: the line above the problems, the bar's own words
    and the sentence under the bar."""

    summary: str
    headline: str
    message: str


def check_words(errors: int, warnings: int, patients: int) -> CheckWords:
    """Problems stop the upload and say how many; warnings alone do not look like a failure.

    Each thing is said once: the line above the problems says what was found, the bar how it
    ended, and the sentence under the bar only what to do next."""
    to_check = f"{plural(warnings, 'warning')} to check" if warnings else ""
    also = f" {to_check.capitalize()}." if warnings else ""
    if errors:
        verb = "is" if errors == 1 else "are"
        found = f"There {verb} {plural(errors, 'problem')} in the sheet.{also}"
        return CheckWords(found, f"{plural(errors, 'problem')} to fix before upload",
                          "Fix them in Excel, then drop the sheet here again. Choose a problem "
                          "to see its cell.")
    found = f"No problems found: {plural(patients, 'patient')} ready to upload.{also}"
    if warnings:
        return CheckWords(found, f"Ready to upload ({to_check})",
                          f"Look at the {to_check.removesuffix(' to check')} first, then press "
                          "Upload.")
    return CheckWords(found, "Ready to upload", "Press Upload to send them.")
