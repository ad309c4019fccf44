"""Problems and warnings grouped by column (header, letter, count), each linked to its cell.

Why grouped: a sheet with a wrongly formatted date column has hundreds of findings; the
column group says it once with the count (from the validator's own totals, which include
findings beyond those it kept), and the children name each cell as Excel shows it.

Why the group row spans both columns and messages wrap: the "Where" column then only needs
room for a cell name, and the message column gets the rest, so a nurse reads every message
whole rather than "The NHS/CHI number is not v…". The chosen one is also shown in full under
the list (:func:`describe_item`), and every row has its full text as a tooltip.
"""

from __future__ import annotations

from collections import defaultdict

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem

from nccid_desktop.gui.columns import fit_columns
from nccid_desktop.sheets.findings import Finding, Severity, ValidationReport

FINDING_ROLE = Qt.ItemDataRole.UserRole
WHOLE_SHEET = "Whole sheet"
CHOOSE_HINT = "Choose a {word} to read it in full here and select its cell in the sheet."


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
        group = QTreeWidgetItem(tree, [f"{where} — {_plural(count, word)}"])
        group.setFirstColumnSpanned(True)
        group.setToolTip(0, group.text(0))
        group.setData(0, FINDING_ROLE, Finding(severity, "column", "", None, letter, header))
        for finding in findings:
            place = finding.cell or (f"Row {finding.row}" if finding.row else where)
            _child(group, place, finding.message).setData(0, FINDING_ROLE, finding)
        if count > len(findings):
            _child(group, "…", f"and {count - len(findings)} more in this column "
                               "(all are marked in the highlighted copy)")
    tree.expandToDepth(0 if len(by_column) > 1 else 1)
    _give_messages_the_room(tree)
    return total


def _child(group: QTreeWidgetItem, place: str, message: str) -> QTreeWidgetItem:
    child = QTreeWidgetItem(group, [place, message])
    for column in (0, 1):
        child.setToolTip(column, f"{place}: {message}")
    return child


def _give_messages_the_room(tree: QTreeWidget) -> None:
    """"Where" as wide as its cell names (the spanned group rows do not count), the message
    column the rest."""
    fit_columns(tree)


def describe_item(item: QTreeWidgetItem | None, word: str) -> str:
    """The text under the list: the chosen finding in full, or what choosing one does."""
    if item is None:
        return CHOOSE_HINT.format(word=word)
    if item.parent() is None:
        return f"{item.text(0)}. Choose one to read it in full and select its cell."
    return f"{item.text(0)}: {item.text(1)}"
