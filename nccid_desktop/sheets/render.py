"""The validation report as plain text, grouped by column with counts.

Why grouped: a sheet with a mistyped column can have hundreds of findings in that column and a
few elsewhere; grouping (whole sheet first, then column by column, left to right) with counts
and the first few cells of each lets a nurse see the shape of the problem at a glance.
"""

from __future__ import annotations

from collections import defaultdict

from openpyxl.utils import column_index_from_string

from nccid_desktop.sheets.findings import Finding, Severity, ValidationReport

SHOWN_PER_COLUMN = 10


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _column_order(letter: str | None) -> int:
    return 0 if letter is None else column_index_from_string(letter)


def render_text(report: ValidationReport, shown_per_column: int = SHOWN_PER_COLUMN) -> str:
    version = f" v{report.template_version}" if report.template_version else ""
    lines = [f"{report.title} template{version}: {_plural(report.rows, 'patient row')}."]
    lines += [note.message for note in report.notes]
    errors, warnings = report.error_count, report.warning_count
    if not errors and not warnings:
        lines.append("No problems found: the sheet is ready to upload.")
        return "\n".join(lines) + "\n"
    lines.append(f"There is a problem: {_plural(errors, 'error')} (must be fixed) and "
                 f"{_plural(warnings, 'warning')} (check before uploading).")
    if report.valid_rows or report.rows:
        lines.append(f"{_plural(report.rows_with_errors, 'row')} with errors, "
                     f"{len(report.valid_rows)} without.")
    groups: dict[str | None, list[Finding]] = defaultdict(list)
    for finding in report.findings:
        groups[finding.column if finding.row is not None else None].append(finding)
    for letter in sorted(groups, key=_column_order):
        lines.append("")
        lines.extend(_render_group(report, letter, groups[letter], shown_per_column))
    return "\n".join(lines) + "\n"


def _render_group(report: ValidationReport, letter: str | None, findings: list[Finding],
                  shown: int) -> list[str]:
    if letter is None:
        title = "Whole sheet and columns"
        counted = {s: sum(1 for f in findings if f.severity is s) for s in Severity}
    else:
        title = f"Column {letter} “{report.headers.get(letter, '')}”"
        structural = [f for f in report.findings if f.column == letter and f.row is None]
        counted = {s: report.counts[(letter, s)] - sum(1 for f in structural if f.severity is s)
                   for s in Severity}
    counts = ", ".join(_plural(n, s.value) for s, n in counted.items() if n)
    lines = [f"{title}: {counts}"]
    for finding in findings[:shown]:
        where = f"{finding.cell} (row {finding.row})" if finding.cell else (
            f"column {finding.column}" if finding.column else "sheet")
        lines.append(f"  {finding.severity.value:<7} {where}: {finding.message}")
    hidden = sum(counted.values()) - min(len(findings), shown)
    if hidden > 0:
        lines.append(f"  ... and {hidden} more in this column")
    return lines
