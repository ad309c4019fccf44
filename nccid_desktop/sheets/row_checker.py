"""Checking one patient row: identifiers, every cell, then the rules between cells.

Why one object per sheet: the column plan (which checker reads which sheet index, where its
text goes in the record) is worked out once from the layout, so the per-row loop does only
the work a row needs. That keeps a 10,000-row sheet close to the speed of reading it.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from openpyxl.utils import get_column_letter

from nccid_desktop.identifier_shapes import IdentifierShapes
from nccid_desktop.identifiers import check_hospital_number, check_nhs_number
from nccid_desktop.sheets.cross_field import CrossFieldRules
from nccid_desktop.sheets.definitions import Column, Requirement
from nccid_desktop.sheets.findings import (
    Finding,
    FindingCollector,
    PatientRow,
    Severity,
    ValidRow,
)
from nccid_desktop.sheets.layout import Layout
from nccid_desktop.sheets.meaning import MeaningRules
from nccid_desktop.sheets.rules import Checker, make_checker, message_for
from nccid_desktop.sheets.values import BadValue

_TEN_DIGITS = re.compile(r"(?<!\d)\d{3}[ -]?\d{3}[ -]?\d{4}(?!\d)")
#: Distinct values remembered per column (memory stays flat however long the sheet is).
CACHE_PER_COLUMN = 4096


class RowChecker:
    """Checks the rows of one sheet in order; remembers what duplicates need to be found."""

    def __init__(self, layout: Layout, collector: FindingCollector, *, today: date,
                 hospital_pattern: str | re.Pattern[str] | None = None) -> None:
        template = layout.template
        self.collector = collector
        self.hospital_pattern = hospital_pattern
        self.letters = {column: get_column_letter(i + 1) for i, column in layout.positions}
        keys = template.record_keys
        self.record_size = len(keys)
        self.nhs_index = self.hospital_index = None
        self.cross_field = CrossFieldRules(template)
        self.shapes = IdentifierShapes.for_site(hospital_pattern)
        tracked = self.cross_field.tracked
        self.plan: list[tuple[int, Column, Checker, int, dict, str | None, bool]] = []
        for index, column in layout.positions:
            if column.kind == "nhs":
                self.nhs_index = index
            elif column.kind == "hospital":
                self.hospital_index = index
            else:
                assert column.key is not None
                self.plan.append((index, column, make_checker(column, template, today),
                                  keys.index(column.key), {},
                                  column.key if column.key in tracked else None,
                                  column.required is not Requirement.OPTIONAL))
        self.width = 1 + max((i for i, _ in layout.positions), default=0)
        self.nhs_column = next(c for c in template.columns if c.kind == "nhs")
        self.hospital_column = next(c for c in template.columns if c.kind == "hospital")
        self.record_columns = [(c, keys.index(c.key)) for c in template.columns
                               if c.key is not None]
        self.template = template
        self.meaning = MeaningRules(template, today)
        self.key_positions = {key: keys.index(key) for key in keys}
        self.patients: list[PatientRow] = []
        self.accounted = {i for i, _ in layout.positions} | set(layout.unmapped)
        self.extras_by_width: dict[int, list[int]] = {}
        self.seen: dict[tuple[str, str], int] = {}
        self.duplicated_rows: set[int] = set()
        self.duplicates_reported: set[tuple[str, int]] = set()
        self.sensitive: set[str] = set()

    def _add(self, severity: Severity, code: str, message: str, row: int | None,
             column: Column | None) -> None:
        letter = self.letters.get(column) if column is not None else None
        self.collector.add(Finding(severity, code, message, row, letter,
                                   column.header if column is not None else ""))

    @staticmethod
    def _identifier(values: tuple, index: int | None) -> Any:
        return values[index] if index is not None and index < len(values) else None

    def check(self, row: int, values: tuple[Any, ...]) -> ValidRow | None:
        """Record every problem of this row; return it as a ValidRow when it has no error."""
        errors_before = self.collector.error_total
        nhs, hospital = self._check_identifiers(row, values)
        if len(values) < self.width:
            values = values + (None,) * (self.width - len(values))
        record = [""] * self.record_size
        typed: dict[str, Any] = {}  # only the values rules between cells need; None = invalid
        for index, column, checker, position, cache, tracked, required in self.plan:
            value = values[index]
            kind = value.__class__
            if value is None or (kind is str and not value.strip()):
                if required:
                    self._missing(row, column)
                continue
            # Sheets repeat values a lot: a cache per column skips coercion for repeats.
            # Booleans stay out of it, as True == 1 would find the result of the number 1.
            result = None if kind is bool else cache.get(value)
            if result is None:
                try:
                    result = checker(value)
                except BadValue as bad:
                    self._add(Severity.ERROR, bad.code,
                              message_for(column, bad.code, bad.shown), row, column)
                    if tracked is not None:
                        typed[tracked] = None
                    continue
                if len(cache) < CACHE_PER_COLUMN:
                    cache[value] = result
            typed_value, text, warning = result
            if warning is not None:
                self._add(Severity.WARNING, warning, message_for(column, warning), row, column)
            record[position] = text
            if tracked is not None:
                typed[tracked] = typed_value
        self._check_between_cells(row, typed, record, hospital)
        test_date = self._check_meaning(row, record)
        if nhs is not None or hospital is not None:
            self.patients.append(PatientRow(row, nhs, hospital, test_date))
        self._check_unheaded(values)
        if nhs is None or hospital is None or self.collector.error_total > errors_before:
            return None
        return ValidRow(row, tuple(record), nhs, hospital)

    def _check_identifiers(self, row: int, values: tuple) -> tuple[str | None, str | None]:
        raw_nhs = self._identifier(values, self.nhs_index)
        raw_hospital = self._identifier(values, self.hospital_index)
        if raw_nhs is not None and not _TEN_DIGITS.fullmatch(str(raw_nhs).strip()):
            self.sensitive.add(str(raw_nhs))  # the log scrubber already masks 10-digit forms
        if raw_hospital is not None:
            self.sensitive.add(str(raw_hospital).strip())
        nhs_check = check_nhs_number(raw_nhs)
        hospital_check = check_hospital_number(raw_hospital, self.hospital_pattern)
        results: list[str | None] = []
        for column, result in ((self.nhs_column, nhs_check),
                               (self.hospital_column, hospital_check)):
            if column not in self.letters:
                results.append(None)  # the whole column is missing: reported once, not per row
                continue
            if not result.ok:
                self._add(Severity.ERROR, result.code, result.message, row, column)
            elif result.warning:
                self._add(Severity.WARNING, result.code, result.message, row, column)
            if result.ok and result.value and column.kind == "hospital":
                self.sensitive.add(result.value)
            results.append(result.value if result.ok else None)
        nhs, hospital = results
        self._check_duplicates(row, nhs, hospital)
        return nhs, hospital

    def _check_duplicates(self, row: int, nhs: str | None, hospital: str | None) -> None:
        for kind, value, column, words in (
            ("nhs", nhs, self.nhs_column, "NHS/CHI number"),
            ("hospital", hospital, self.hospital_column, "hospital number"),
        ):
            if value is None:
                continue
            first = self.seen.setdefault((kind, value), row)
            if first == row:
                continue
            self._add(Severity.ERROR, "duplicate_patient",
                      f"This patient (same {words}) is also on row {first}. Each patient must "
                      "appear only once in the sheet.", row, column)
            if (kind, first) not in self.duplicates_reported:
                self.duplicates_reported.add((kind, first))
                self._add(Severity.ERROR, "duplicate_patient",
                          f"This patient (same {words}) appears again on row {row}. Each "
                          "patient must appear only once in the sheet.", first, column)
            self.duplicated_rows.update((first, row))

    def _missing(self, row: int, column: Column) -> None:
        required = column.required is Requirement.REQUIRED
        code = "missing" if required else "recommended"
        self._add(Severity.ERROR if required else Severity.WARNING, code,
                  message_for(column, code), row, column)

    def _check_between_cells(self, row: int, typed: dict[str, Any], record: list[str],
                             hospital: str | None) -> None:
        for problem in self.cross_field.check(typed):
            self._add(problem.severity, problem.code, problem.message, row, problem.column)
        for column, position in self.record_columns:
            text = record[position]
            if text and self._looks_like_identifier(column, text, hospital):
                self._add(Severity.ERROR, "identifier_in_cell",
                          message_for(column, "identifier_in_cell"), row, column)

    def _check_meaning(self, row: int, record: list[str]) -> date | None:
        """The template's meaning rules on the row's warehouse text; returns its test date."""
        positions = self.key_positions

        def value_of(key: str) -> str:
            return record[positions[key]]

        for found in self.meaning.check(value_of):
            self._add(found.severity, found.code, found.message, row,
                      self.template.column(found.field))
        return self.meaning.test_date(value_of)

    def _looks_like_identifier(self, column: Column, text: str, hospital: str | None) -> bool:
        """An identifier-shaped value (the rule the collection service applies to every
        field), or, in free text, this row's own hospital number."""
        if self.shapes.find(text) is not None:
            return True
        return (column.kind == "text" and hospital is not None and len(hospital) >= 4
                and hospital in text.upper().replace(" ", ""))

    def _check_unheaded(self, values: tuple) -> None:
        """Data in a column with no header would be silently lost: say so, once per column."""
        extras = self.extras_by_width.get(len(values))
        if extras is None:
            extras = [i for i in range(len(values)) if i not in self.accounted]
            self.extras_by_width[len(values)] = extras
        for index in extras:
            value = values[index]
            if index in self.accounted or value is None or (
                isinstance(value, str) and not value.strip()
            ):
                continue
            self.accounted.add(index)
            self.collector.add(Finding(
                Severity.ERROR, "column_without_header",
                f"Column {get_column_letter(index + 1)} has values but no header, so they are "
                f"not part of the {self.template.title} template and would be lost. Do not add "
                "columns.",
                column=get_column_letter(index + 1)))
