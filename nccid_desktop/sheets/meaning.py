"""Checks on meaning: does a record say what its sheet stands for?

Why over warehouse text and not over cells: the same rules must run on the workstation (a
sheet row, after its cells are checked) and on the collection service (a received record, all
strings), with the same words. So the rules are data in the template definitions
(:class:`~nccid_desktop.sheets.definitions.ResultRule`, ``RecentTest``) and this module reads
them against any "field -> warehouse text" lookup. A field that is blank or not a valid value
is skipped here: the cell checks already report it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from nccid_desktop.records import RecordKind
from nccid_desktop.sheets.definitions import TEMPLATES, Template
from nccid_desktop.sheets.findings import Severity

UK_DATE = "%d/%m/%Y"
ValueOf = Callable[[str], str]


@dataclass(frozen=True)
class MeaningFinding:
    """One problem of meaning: ``field`` is the record key (the desktop names its cell)."""

    severity: Severity
    code: str
    field: str
    message: str


def _code(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() else None


class MeaningRules:
    """A template's meaning rules, ready to run on many records against one day."""

    def __init__(self, template: Template, today: date) -> None:
        self.template = template
        self.today = today
        self._dates: dict[str, date | None] = {}

    def _date(self, text: str) -> date | None:
        if text not in self._dates:
            try:
                self._dates[text] = datetime.strptime(text.strip(),
                                                      self.template.record_date_format).date()
            except ValueError:
                self._dates[text] = None
        return self._dates[text]

    def first_date(self, fields: tuple[str, ...], value_of: ValueOf) -> tuple[str, date] | None:
        """The first of ``fields`` holding a date, with that date."""
        for field in fields:
            day = self._date(value_of(field))
            if day is not None:
                return field, day
        return None

    def test_date(self, value_of: ValueOf) -> date | None:
        found = self.first_date(self.template.test_date_keys, value_of)
        return found[1] if found else None

    def check(self, value_of: ValueOf) -> list[MeaningFinding]:
        found: list[MeaningFinding] = []
        for rule in self.template.result_rules:
            if _code(value_of(rule.field)) != rule.forbidden:
                continue
            if any(_code(value_of(other)) == rule.excuse for other in rule.excused_by):
                found.append(MeaningFinding(Severity.WARNING, rule.excused_code, rule.field,
                                            rule.excused_message))
            else:
                found.append(MeaningFinding(Severity.ERROR, rule.code, rule.field,
                                            rule.message))
        for recent in self.template.recent_tests:
            dated = self.first_date(recent.fields, value_of)
            if dated is None:
                continue
            field, day = dated
            if 0 <= (self.today - day).days < recent.days:
                send_after = (day + timedelta(days=recent.days)).strftime(UK_DATE)
                found.append(MeaningFinding(Severity.WARNING, recent.code, field,
                                            recent.message.format(date=send_after)))
        return found


def template_for_kind(kind: RecordKind | str) -> Template:
    for template in TEMPLATES.values():
        if template.record_kind == kind:
            return template
    raise ValueError(f"unknown record kind {kind!r}")


def check_record_meaning(kind: RecordKind | str, record: Mapping[str, str],
                         today: date) -> list[MeaningFinding]:
    """The meaning findings of one warehouse record (``data`` or ``status``), as the service
    sees it: errors are refusals, warnings are for the person who sent it."""
    return MeaningRules(template_for_kind(kind), today).check(lambda key: record.get(key, ""))
