"""A copy of the workbook with every problem cell highlighted and explained in a comment.

Why a copy: nurses fix problems where they work, in Excel. The copy never replaces their file;
problem cells turn red (error) or amber (warning) with the finding's message as a comment, and
a "Problems" sheet lists them all. Only our own messages are added, never a cell's content.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from openpyxl.comments import Comment
from openpyxl.styles import PatternFill

from nccid_desktop.errors import BadInputError, NccidError, SheetError
from nccid_desktop.limits import current_limits
from nccid_desktop.sheets.findings import Finding, Severity, ValidationReport
from nccid_desktop.sheets.workbook import DAMAGED, READ_ERRORS, load_bounded

ERROR_FILL = PatternFill("solid", fgColor="FFC7CE")
WARNING_FILL = PatternFill("solid", fgColor="FFEB9C")
PROBLEMS_SHEET = "Problems"
COMMENT_AUTHOR = "NCCID Desktop"
_MAX_COMMENT = 2000


def _target_cell(finding: Finding, header_row: int) -> str | None:
    if finding.column is None:
        return None
    return f"{finding.column}{finding.row if finding.row is not None else header_row}"


def annotate_copy(source: Path | str, report: ValidationReport, destination: Path | str) -> Path:
    """Write ``destination``: ``source`` with the report's findings marked on their cells."""
    source, destination = Path(source), Path(destination)
    if destination.suffix.lower() != ".xlsx":
        raise BadInputError("The annotated copy must be saved as an .xlsx file.")
    if destination.resolve() == source.resolve():
        raise BadInputError("The annotated copy must not replace the original: choose another "
                            "name.")
    try:
        with source.open("rb") as handle:  # every part within the size limits, as when checked
            workbook = load_bounded(handle, source, current_limits(), read_only=False)
    except READ_ERRORS:
        raise SheetError(DAMAGED) from None
    if report.sheet not in workbook.sheetnames:
        raise SheetError("The workbook changed since it was checked: check it again.")
    sheet = workbook[report.sheet]
    by_cell: dict[str, list[Finding]] = defaultdict(list)
    for finding in report.findings:
        cell = _target_cell(finding, report.header_row)
        if cell is not None:
            by_cell[cell].append(finding)
    for ref, findings in by_cell.items():
        cell = sheet[ref]
        has_error = any(f.severity is Severity.ERROR for f in findings)
        cell.fill = ERROR_FILL if has_error else WARNING_FILL
        text = "\n".join(f"{f.severity.value.capitalize()}: {f.message}" for f in findings)
        cell.comment = Comment(text[:_MAX_COMMENT], COMMENT_AUTHOR, width=320, height=160)
    if PROBLEMS_SHEET in workbook.sheetnames:
        del workbook[PROBLEMS_SHEET]
    problems = workbook.create_sheet(PROBLEMS_SHEET, 0)
    problems.append(["Severity", "Cell", "Row", "Column", "Header", "Problem"])
    for finding in report.findings:
        problems.append([finding.severity.value, finding.cell or "", finding.row or "",
                         finding.column or "", finding.header, finding.message])
    for letter, width in zip("ABCDEF", (10, 8, 8, 8, 40, 100), strict=True):
        problems.column_dimensions[letter].width = width
    try:
        workbook.save(destination)
    except OSError:
        raise NccidError("The annotated copy could not be saved there: check the folder exists "
                         "and you may write to it.") from None
    return destination
