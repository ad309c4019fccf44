"""Validate a clinical workbook: every problem at once, by column and by cell.

Why it does not stop at the first error: nurses fix sheets in Excel and re-upload, so one
pass must tell them everything. The report also keeps the rows without errors (as warehouse
text, identifiers in memory only), so pseudonymising does not read the file a second time, and
``cells`` (a :class:`GridCells`) keeps the display text of the rows as they stream past, so the
sheet page's grid does not read it a second time either.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from nccid_desktop.errors import ConfigError, SheetError
from nccid_desktop.logsafe import register_sensitive
from nccid_desktop.sheets.definitions import TEMPLATES, Template, template_by_id
from nccid_desktop.sheets.findings import (
    DEFAULT_FINDINGS_PER_COLUMN,
    Finding,
    FindingCollector,
    Note,
    Severity,
    ValidationReport,
    reading_order,
)
from nccid_desktop.sheets.grid_cells import GridCells
from nccid_desktop.sheets.hospital_form import hospital_form_findings
from nccid_desktop.sheets.layout import plan_layout
from nccid_desktop.sheets.reader import (
    SheetChoice,
    choose_sheet,
    estimated_last_row,
    iter_data_rows,
)
from nccid_desktop.sheets.row_checker import RowChecker
from nccid_desktop.sheets.versions import layout_hints, recognise_version, version_words
from nccid_desktop.sheets.workbook import first_formula_without_value, open_workbook
from nccid_desktop.tasks import NEVER_CANCELLED, CancelToken, Progress, ProgressCallback, no_progress

log = logging.getLogger(__name__)

PROGRESS_EVERY_ROWS = 250


def wrong_template_message(actual: Template) -> str:
    return f"This is the {actual.sheet_name} sheet: use {actual.upload_action}."


def validate_workbook(
    path: Path | str,
    expected: str | None = None,
    *,
    hospital_pattern: str | re.Pattern[str] | None = None,
    hospital_examples: Iterable[str] | None = None,
    today: date | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken = NEVER_CANCELLED,
    max_findings_per_column: int | None = DEFAULT_FINDINGS_PER_COLUMN,
    cells: GridCells | None = None,
) -> ValidationReport:
    """Check ``path`` against the template it follows (or must follow, when ``expected``).

    Raises :class:`SheetError` when the file cannot be read as either template; returns a
    report for everything else, a wrong template included (one error saying which upload to
    use). ``max_findings_per_column=None`` keeps every finding (for the annotated copy).

    Without a ``hospital_pattern``, hospital numbers are checked against the form learnt from
    ``hospital_examples`` (the images' PatientIDs, when PACS keys on hospital numbers) or,
    without examples, from most of the sheet's own numbers.
    """
    wanted = template_by_id(expected) if expected is not None else None
    if hospital_pattern is not None and isinstance(hospital_pattern, str):
        hospital_pattern = _compile_pattern(hospital_pattern)
    path = Path(path)
    with open_workbook(path) as workbook:
        choice = choose_sheet(workbook)
        if choice is None:
            raise SheetError(_not_a_template_message(wanted))
        report = ValidationReport(str(path), choice.template.id, _version(choice),
                                  choice.template.title, choice.sheet.title, choice.header_row)
        if wanted is not None and choice.template is not wanted:
            report.findings.append(Finding(Severity.ERROR, "wrong_template",
                                           wrong_template_message(choice.template)))
            report.counts[(None, Severity.ERROR)] += 1
            return report
        formula_cell = first_formula_without_value(workbook, choice.sheet)
        if formula_cell is not None:
            raise SheetError(
                f"The workbook has formulas whose results were never saved (for example cell "
                f"{formula_cell}), so their values cannot be read. Open it in Excel, save it, "
                "and try again (or paste the values only)."
            )
        collector = FindingCollector(max_findings_per_column)
        if cells is not None:
            cells.begin(choice.sheet, choice.header_row)
        _check_rows(choice, report, collector, hospital_pattern=hospital_pattern,
                    today=today or date.today(), progress=progress, cancel=cancel, cells=cells)
    if hospital_pattern is None:
        letter = report.identifier_columns.get("hospital")
        for finding in hospital_form_findings(report.patients, letter,
                                              report.headers.get(letter or "", ""),
                                              hospital_examples):
            collector.add(finding)
    report.findings = sorted(collector.findings, key=reading_order)
    report.counts = collector.counts
    return report


def requested_rows_note(template: Template, rows: int) -> Note:
    """The sheet's patient count against what NCCID asks for per upload (never a problem)."""
    patients = f"{rows} patient" + ("" if rows == 1 else "s")
    return Note("requested_rows",
                f"This {template.sheet_name} sheet has {patients}; NCCID asks for "
                f"{template.requested_rows} per upload, twice a week.")


def _compile_pattern(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error:
        raise ConfigError("The hospital number pattern is not a valid regular expression.") \
            from None


def _version(choice: SheetChoice) -> str | None:
    marker = choice.marker
    if marker is not None and marker.template == choice.template.id:
        return marker.version
    return None


def _not_a_template_message(wanted: Template | None) -> str:
    names = (f"the {wanted.title} template" if wanted else
             " or ".join(f"the {t.title} template" for t in TEMPLATES.values()))
    return (f"This workbook does not look like {names}: none of its sheets has the template's "
            "column headers in its first rows. Start from a blank template (nccid template) and "
            "copy the patient rows into it.")


def _check_rows(choice: SheetChoice, report: ValidationReport, collector: FindingCollector, *,
                hospital_pattern: str | re.Pattern[str] | None, today: date,
                progress: ProgressCallback, cancel: CancelToken,
                cells: GridCells | None = None) -> None:
    template = choice.template
    marker_version = _version(choice)
    version = recognise_version(template, choice.headers, marker_version)
    layout = plan_layout(template, choice.headers, choice.header_row,
                         **layout_hints(version, template))
    report.headers = {layout.letter_of(c) or "": c.header for c in template.columns}
    report.headers.pop("", None)
    report.identifier_columns = {c.kind: layout.letter_of(c) or "" for c in template.columns
                                 if c.kind in ("nhs", "hospital") and layout.letter_of(c)}
    for finding in layout.findings:
        collector.add(finding)
    report.recognised_as = version.label if version is not None else None
    if marker_version is not None and version is None:
        collector.add(Finding(Severity.WARNING, "template_version",
                              f"This template was made by another version of NCCID Desktop "
                              f"(template version {marker_version}), which this one does not "
                              "know. Check the columns, or save it as the current template "
                              "(nccid template upgrade)."))
    elif version is not None and not version.is_current:
        warn, words = version_words(version, template)
        if warn:
            collector.add(Finding(Severity.WARNING, "template_version", words))
        else:
            report.notes.append(Note("template_version", words))
    checker = RowChecker(layout, collector, today=today, hospital_pattern=hospital_pattern)
    last = estimated_last_row(choice.sheet)
    total = max(0, last - choice.header_row) if last else None
    valid = report.valid_rows
    done = 0
    try:
        for row_number, values in iter_data_rows(choice.sheet, choice.header_row + 1):
            cancel.raise_if_cancelled()
            done += 1
            if done % PROGRESS_EVERY_ROWS == 0:
                progress(Progress(done, total, f"Checking row {row_number}"))
            if cells is not None:
                cells.row(row_number, values)
            if not any(v is not None and (v.__class__ is not str or v.strip()) for v in values):
                continue
            report.rows += 1
            row = checker.check(row_number, values)
            if row is not None:
                valid.append(row)
    finally:
        register_sensitive(*checker.sensitive)
        checker.sensitive.clear()
    report.patients = checker.patients
    if checker.duplicated_rows:
        report.valid_rows = [r for r in valid if r.row not in checker.duplicated_rows]
    if report.rows == 0:
        collector.add(Finding(Severity.ERROR, "no_rows",
                              "The sheet has no patient rows below the header row."))
    elif template.requested_rows:
        report.notes.append(requested_rows_note(template, report.rows))
    progress(Progress(total or done, total or done, "Checked"))
