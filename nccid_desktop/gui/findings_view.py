"""Problems and warnings grouped by column (header, letter, count), each linked to its cell.

Why grouped: a sheet with a wrongly formatted date column has hundreds of findings; the
column group says it once with the count (from the validator's own totals, which include
findings beyond those it kept), and the children name each cell as Excel shows it.
"""

from __future__ import annotations

from collections import defaultdict

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem

from nccid_desktop.sheets.findings import Finding, Severity, ValidationReport

FINDING_ROLE = Qt.ItemDataRole.UserRole
WHOLE_SHEET = "Whole sheet"


def _column_order(letter: str | None) -> tuple[int, int, str]:
    if letter is None:
        return (0, 0, "")
    return (1, len(letter), letter)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def fill_findings(tree: QTreeWidget, report: ValidationReport, severity: Severity) -> int:
    """Fill ``tree`` with the report's findings of one severity; returns the total count."""
    tree.clear()
    by_column: dict[str | None, list[Finding]] = defaultdict(list)
    for finding in report.findings:
        if finding.severity is severity:
            by_column[finding.column].append(finding)
    word = "problem" if severity is Severity.ERROR else "warning"
    total = 0
    for letter in sorted(by_column, key=_column_order):
        findings = by_column[letter]
        count = max(report.counts.get((letter, severity), 0), len(findings))
        total += count
        header = findings[0].header or report.headers.get(letter or "", "")
        where = WHOLE_SHEET if letter is None else f"Column {letter}: {header}".rstrip(": ")
        group = QTreeWidgetItem(tree, [where, _plural(count, word)])
        group.setData(0, FINDING_ROLE, Finding(severity, "column", "", None, letter, header))
        for finding in findings:
            place = finding.cell or (f"Row {finding.row}" if finding.row else where)
            child = QTreeWidgetItem(group, [place, finding.message])
            child.setData(0, FINDING_ROLE, finding)
            child.setToolTip(1, finding.message)
        if count > len(findings):
            QTreeWidgetItem(group, ["…", f"and {count - len(findings)} more in this column "
                                         "(all are marked in the highlighted copy)"])
    tree.expandToDepth(0 if len(by_column) > 1 else 1)
    tree.resizeColumnToContents(0)
    return total
