"""Check one warehouse record (its JSON values) against its template, as the warehouse expects it.

Why: the sheet validator checks spreadsheet cells and writes each record; the collection
service receives only the record, from a client it cannot trust, and must refuse anything the
validator would not have produced. This check is driven by the same template definitions and
the same cell rules (:func:`.rules.make_checker`, :class:`.cross_field.CrossFieldRules`,
:class:`.meaning.MeaningRules`): a value is fed to its column's checker and must come out
unchanged, so a code, a range, a date window, a rule between fields or a rule of meaning added
to the definitions is enforced on both sides at once.
A record that passes is exactly what the validator writes for some valid row.

Problems name the field (the warehouse key) and the rule (a stable code), never the value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from nccid_desktop.identifier_shapes import NHS_SHAPES, IdentifierShapes
from nccid_desktop.pseudonym import is_pseudonym
from nccid_desktop.sheets.cross_field import CrossFieldRules
from nccid_desktop.sheets.definitions import Column, Requirement, Template
from nccid_desktop.sheets.findings import Severity
from nccid_desktop.sheets.meaning import MeaningRules
from nccid_desktop.sheets.rules import Checker, make_checker, message_for
from nccid_desktop.sheets.values import BadValue

#: Keys every record carries beside its template's fields.
EXTRA_KEYS = ("Pseudonym", "SubmittingCentre")
MAX_VALUE_LENGTH = 500
_WAREHOUSE_DATE = re.compile(r"([0-9]{2})/([0-9]{2})/([0-9]{4})", re.ASCII)
_DATE_WORDS = {"%m/%d/%Y": "MM/DD/YYYY", "%d/%m/%Y": "DD/MM/YYYY"}


@dataclass(frozen=True)
class RecordProblem:
    """Why a record must not be stored: the field (None: the record as a whole), the rule."""

    field: str | None
    code: str
    message: str


class RecordCheck:
    """The rules of one template's records, prepared once (per batch, per day)."""

    def __init__(self, template: Template, *, today: date,
                 shapes: IdentifierShapes = NHS_SHAPES) -> None:
        self.template = template
        self.shapes = shapes
        self.cross_field = CrossFieldRules(template)
        self.meaning = MeaningRules(template, today)
        self.columns: list[tuple[str, Column, Checker]] = [
            (c.key, c, make_checker(c, template, today)) for c in template.columns
            if c.key is not None]
        self.keys = frozenset(template.record_keys) | frozenset(EXTRA_KEYS)
        self.date_order = template.record_date_format

    def problems(self, record: Mapping[str, Any], *, site: str | None = None
                 ) -> list[RecordProblem]:
        """Every reason ``record`` must not be stored; [] when it may. ``site``, when given,
        is the only SubmittingCentre allowed (the site code of the sender)."""
        found = self._shape(record)
        if found:
            return found
        values: dict[str, str] = dict(record)
        for key, value in values.items():
            problem = self._generic(key, value)
            if problem is not None:
                found.append(problem)
        if not is_pseudonym(values["Pseudonym"]):
            found.append(RecordProblem("Pseudonym", "bad_pseudonym",
                                       "The record's Pseudonym is not 'Covid' followed by "
                                       "16 digits (0-9)."))
        if site is not None and values["SubmittingCentre"] != site:
            found.append(RecordProblem("SubmittingCentre", "submitting_centre",
                                       "The record's SubmittingCentre is not your site's code."))
        bad = {p.field for p in found}
        typed: dict[str, Any] = {}
        for key, column, checker in self.columns:
            if key in bad:
                typed[key] = None
                continue
            problem = self._field(key, column, checker, values[key], typed)
            if problem is not None:
                found.append(problem)
        found += [RecordProblem(p.column.key, p.code, f"'{p.column.key}': {p.message}")
                  for p in self.cross_field.check(typed) if p.severity is Severity.ERROR]
        bad = {p.field for p in found}
        found += [RecordProblem(m.field, m.code, f"'{m.field}': {m.message}")
                  for m in self.meaning.check(values.__getitem__)
                  if m.severity is Severity.ERROR and m.field not in bad]
        return found

    def _shape(self, record: Mapping[str, Any]) -> list[RecordProblem]:
        keys = set(record)
        unexpected = [k for k in keys if k not in self.keys]
        if unexpected:  # never named: a stray key may be anything, a patient's name included
            return [RecordProblem(None, "unexpected_field",
                                  f"The record has {len(unexpected)} field(s) that are not in "
                                  f"the {self.template.record_kind} template.")]
        missing = sorted(self.keys - keys)
        if missing:
            return [RecordProblem(missing[0], "missing_field",
                                  f"The record lacks the field(s) {', '.join(missing)}.")]
        not_text = sorted(k for k, v in record.items() if not isinstance(v, str))
        if not_text:
            return [RecordProblem(not_text[0], "not_text",
                                  f"The field '{not_text[0]}' is not text; every value of a "
                                  "warehouse record is a JSON string.")]
        return []

    def _generic(self, key: str, value: str) -> RecordProblem | None:
        """The rules every field follows, whatever its column."""
        if len(value) > MAX_VALUE_LENGTH:
            return RecordProblem(key, "too_long", f"The field '{key}' is too long.")
        if not value.isprintable():
            return RecordProblem(key, "control_characters",
                                 f"The field '{key}' holds control characters.")
        kind = self.shapes.find(value)
        if kind is not None:
            what = "an NHS/CHI number" if kind == "nhs_number" else "a hospital number"
            return RecordProblem(key, "identifier_value",
                                 f"The field '{key}' holds a value that looks like {what}.")
        return None

    def _field(self, key: str, column: Column, checker: Checker, value: str,
               typed: dict[str, Any]) -> RecordProblem | None:
        """One template field: blank, or a value its checker gives back unchanged."""
        if not value.strip():
            if value:
                return self._format(key, column)
            if column.required is Requirement.REQUIRED:
                return RecordProblem(key, "missing", f"'{key}': {message_for(column, 'missing')}")
            return None
        try:
            day = self._warehouse_date(value) if column.kind == "date" else None
            result, text, _warning = checker(day if day is not None else value)
        except BadValue as bad:
            if key in self.cross_field.tracked:
                typed[key] = None
            if column.kind == "date" and bad.code == "bad_date":
                return RecordProblem(key, "bad_date", f"The field '{key}' is not a date written "
                                     f"{_DATE_WORDS[self.date_order]}.")
            return RecordProblem(key, bad.code, f"'{key}': {message_for(column, bad.code)}")
        if text != value:
            if key in self.cross_field.tracked:
                typed[key] = None
            return self._format(key, column)
        if key in self.cross_field.tracked:
            typed[key] = result
        return None

    def _warehouse_date(self, value: str) -> date:
        match = _WAREHOUSE_DATE.fullmatch(value)
        if match is None:
            raise BadValue("bad_date")
        first, second, year = (int(g) for g in match.groups())
        month, day = (first, second) if self.date_order == "%m/%d/%Y" else (second, first)
        try:
            return date(year, month, day)
        except ValueError:
            raise BadValue("bad_date") from None

    def _format(self, key: str, column: Column) -> RecordProblem:
        if column.kind == "date":
            expected = f"a date written {_DATE_WORDS[self.date_order]}"
        else:
            expected = "the value exactly as the sheet validator writes it"
        return RecordProblem(key, "bad_format",
                             f"The field '{key}' is not in the form the warehouse expects "
                             f"({expected}).")
