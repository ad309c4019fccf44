"""Findings (one problem, where it is, what is expected) and the report that gathers them.

Why this shape: nurses fix problems in Excel, so every finding names the row number as Excel
shows it, the column letter, the header and the cell (``D12``), and says in plain English what
is expected. A finding never holds a cell's content: a name typed into the wrong column must
not travel into a report, a log or the screen.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any

#: How many findings of one severity are kept per column; all are counted.
DEFAULT_FINDINGS_PER_COLUMN = 200


class Severity(Enum):
    ERROR = "error"  # blocks the upload
    WARNING = "warning"  # needs the user's confirmation


@dataclass(frozen=True)
class Finding:
    severity: Severity
    code: str
    message: str
    row: int | None = None  # Excel row number; None for a whole-sheet or whole-column problem
    column: str | None = None  # column letter
    header: str = ""  # the template's header text for that column

    @property
    def cell(self) -> str | None:
        if self.row is None or self.column is None:
            return None
        return f"{self.column}{self.row}"

    def to_json(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "header": self.header,
            "cell": self.cell,
            "code": self.code,
            "message": self.message,
        }


@dataclass(frozen=True)
class ValidRow:
    """A row without errors, ready for pseudonymisation without reading the file again.

    ``values`` follow the template's record keys and are already warehouse text. The two
    identifiers are kept only in memory, hidden from ``repr``, and used only to derive the
    pseudonym, the NHS index and the linkage token.
    """

    row: int
    values: tuple[str, ...]
    nhs_number: str = field(repr=False)
    hospital_number: str = field(repr=False)


@dataclass(frozen=True)
class PatientRow:
    """A row whose identifiers could be read, whatever else is wrong with it.

    Kept for the checks that look beyond one row (the same patient on both sheets, the link
    between the sheet and the images, the form of the site's hospital numbers). The
    identifiers stay in memory, hidden from ``repr``; ``test_date`` is the row's swab or test
    date when it has a valid one.
    """

    row: int
    nhs_number: str | None = field(repr=False)
    hospital_number: str | None = field(repr=False)
    test_date: date | None = None


@dataclass(frozen=True)
class Note:
    """A line of information about the whole sheet that is not a problem (never blocks)."""

    code: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class FindingCollector:
    """Keeps the first findings of each column and severity, and counts them all.

    "Every problem at once" on a 10,000-row sheet can mean hundreds of thousands of findings;
    the first ones per column are what a person can act on, the counts say how many there are.
    """

    def __init__(self, per_column: int | None = DEFAULT_FINDINGS_PER_COLUMN) -> None:
        self.per_column = per_column
        self.findings: list[Finding] = []
        self.counts: Counter[tuple[str | None, Severity]] = Counter()
        self.error_total = 0

    def add(self, finding: Finding) -> None:
        slot = (finding.column, finding.severity)
        self.counts[slot] += 1
        if finding.severity is Severity.ERROR:
            self.error_total += 1
        if self.per_column is None or self.counts[slot] <= self.per_column:
            self.findings.append(finding)

    def count(self, severity: Severity) -> int:
        return sum(n for (_, s), n in self.counts.items() if s is severity)


@dataclass
class ValidationReport:
    """Everything a validation found, plus the rows that can be pseudonymised."""

    file: str
    template: str | None
    template_version: str | None
    title: str = ""
    sheet: str = ""  # the worksheet that holds the patient rows
    header_row: int = 1
    rows: int = 0
    findings: list[Finding] = field(default_factory=list)
    counts: Counter[tuple[str | None, Severity]] = field(default_factory=Counter)
    valid_rows: list[ValidRow] = field(default_factory=list, repr=False)
    headers: dict[str, str] = field(default_factory=dict)  # column letter -> template header
    patients: list[PatientRow] = field(default_factory=list, repr=False)
    notes: list[Note] = field(default_factory=list)
    identifier_columns: dict[str, str] = field(default_factory=dict)  # "nhs"/"hospital" -> letter
    recognised_as: str | None = None  # the known template version the header row matched

    def add(self, *findings: Finding) -> None:
        """Add findings from a check run after the sheet was read (counts kept in step).

        An error on a row takes that row out of the rows ready to upload.
        """
        self.findings.extend(findings)
        self.findings.sort(key=reading_order)
        for finding in findings:
            self.counts[(finding.column, finding.severity)] += 1
        blocked = {f.row for f in findings if f.severity is Severity.ERROR and f.row is not None}
        if blocked:
            self.valid_rows = [r for r in self.valid_rows if r.row not in blocked]

    def _of(self, severity: Severity) -> list[Finding]:
        return [f for f in self.findings if f.severity is severity]

    @property
    def errors(self) -> list[Finding]:
        return self._of(Severity.ERROR)

    @property
    def warnings(self) -> list[Finding]:
        return self._of(Severity.WARNING)

    @property
    def error_count(self) -> int:
        return sum(n for (_, s), n in self.counts.items() if s is Severity.ERROR)

    @property
    def warning_count(self) -> int:
        return sum(n for (_, s), n in self.counts.items() if s is Severity.WARNING)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def rows_with_errors(self) -> int:
        return self.rows - len(self.valid_rows)

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "template": self.template,
            "template_version": self.template_version,
            "recognised_as": self.recognised_as,
            "rows": self.rows,
            "errors": [f.to_json() for f in self.errors],
            "warnings": [f.to_json() for f in self.warnings],
            "error_count": self.error_count,
            "warning_count": self.warning_count,
            "notes": [n.to_json() for n in self.notes],
        }


def _column_number(letter: str) -> int:
    number = 0
    for char in letter:
        number = number * 26 + ord(char) - 64
    return number


def reading_order(finding: Finding) -> tuple[int, int]:
    """Reading order: whole-sheet findings first, then by row, then left to right."""
    return (finding.row or 0, _column_number(finding.column) if finding.column else 0)
