"""The background steps behind a spreadsheet page: check a sheet, write the highlighted copy.

Why Qt-free and apart from the page: each is a task ``(progress, cancel) -> result`` for the
worker pool, made only of core calls (the validator, the annotator, the envelope builder), so
it can be tested and reasoned about without a window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from nccid_desktop.dicom.select.clinical_windows import ClinicalWindow, windows_from_records
from nccid_desktop.errors import NccidError
from nccid_desktop.gui.sheet_grid import SheetCells, read_sheet_cells
from nccid_desktop.gui.upload_flows import plural
from nccid_desktop.keys import SiteKeys
from nccid_desktop.pseudonym import LinkingIdentifier
from nccid_desktop.sheets.annotate import annotate_copy
from nccid_desktop.sheets.findings import ValidationReport
from nccid_desktop.sheets.payload import build_envelopes
from nccid_desktop.sheets.validator import validate_workbook


@dataclass(frozen=True)
class CheckedSheet:
    report: ValidationReport
    cells: SheetCells | None
    windows: dict[str, tuple[ClinicalWindow, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckWords:
    """What the page says after a check: the line above the problems, the bar's own words
    and the sentence under the bar."""

    summary: str
    headline: str
    message: str


def check_words(errors: int, warnings: int, patients: int) -> CheckWords:
    """Problems stop the upload and say how many; warnings alone do not look like a failure."""
    to_check = f"{plural(warnings, 'warning')} to check" if warnings else ""
    also = f" {to_check.capitalize()}." if warnings else ""
    if errors:
        verb = "is" if errors == 1 else "are"
        text = f"There {verb} {plural(errors, 'problem')}. Fix them in Excel and drop the sheet again."
        return CheckWords(text + also, f"{plural(errors, 'problem')} to fix before upload", text)
    text = f"No problems found: {plural(patients, 'patient')} ready to upload."
    if warnings:
        return CheckWords(text + also, f"Ready to upload ({to_check})",
                          f"{text} {to_check.capitalize()} first.")
    return CheckWords(text, "Ready to upload", text)


def _windows(report: ValidationReport, keys: SiteKeys | None,
             linking: LinkingIdentifier) -> dict[str, tuple[ClinicalWindow, ...]]:
    """The date windows of the sheet's valid rows, so Send Images can link its images."""
    if keys is None or not report.valid_rows:
        return {}
    try:
        return windows_from_records(build_envelopes(report, keys, linking=linking,
                                                    allow_partial=True))
    except NccidError:
        return {}


def check_sheet_task(path: Path, template_id: str, hospital_pattern: str | None,
                     keys: SiteKeys | None = None, linking: LinkingIdentifier = "hospital"):
    def task(progress, cancel) -> CheckedSheet:
        report = validate_workbook(path, template_id, hospital_pattern=hospital_pattern or None,
                                   progress=progress, cancel=cancel)
        return CheckedSheet(report, read_sheet_cells(path, cancel=cancel),
                            _windows(report, keys, linking))

    return task


def annotated_copy_task(path: Path, template_id: str, hospital_pattern: str | None,
                        destination: Path):
    def task(progress, cancel) -> Path:
        report = validate_workbook(path, template_id, hospital_pattern=hospital_pattern or None,
                                   progress=progress, cancel=cancel, max_findings_per_column=None)
        return annotate_copy(path, report, destination)

    return task
