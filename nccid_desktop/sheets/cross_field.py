"""The rules between the fields of one record, interpreted from the template definitions.

Why a module of its own: the sheet validator (:mod:`.row_checker`, on a spreadsheet row) and
the record check (:mod:`.record_check`, on warehouse JSON, which the collection service runs
on everything it receives) must apply exactly the same rules. Both call :class:`CrossFieldRules`
with the typed values of one record, so a rule added to the definitions (``only_when``,
``date_orders``, or any new kind of rule interpreted here) is enforced on both sides at once.

``typed`` maps a field key to its typed value (a date, a number, a code): a key that is absent
means the field was blank; a key mapped to None means the field held a value that is invalid
(already reported by the per-field rules), so rules that depend on it stay silent.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from nccid_desktop.sheets.definitions import Column, Template
from nccid_desktop.sheets.findings import Severity


@dataclass(frozen=True)
class CrossFieldProblem:
    """One broken rule between fields: ``column`` is the field the message is about."""

    severity: Severity
    code: str
    column: Column
    message: str


class CrossFieldRules:
    """The template's rules between fields, resolved to columns once per template."""

    def __init__(self, template: Template) -> None:
        self.only_when = [(rule, template.column(rule.field)) for rule in template.only_when]
        self.date_orders = [(order, template.column(order.later))
                            for order in template.date_orders]
        self.tracked = frozenset(
            {k for rule in template.only_when for k in (rule.field, rule.parent)}
            | {k for order in template.date_orders for k in (order.earlier, order.later)})

    def check(self, typed: Mapping[str, Any]) -> Iterator[CrossFieldProblem]:
        """Every broken rule of one record (errors and warnings)."""
        for rule, field in self.only_when:
            parent = typed.get(rule.parent)
            if parent is None and rule.parent in typed:
                continue  # the parent holds an invalid value, already reported
            if typed.get(rule.field) is not None and parent not in rule.values:
                yield CrossFieldProblem(Severity.ERROR, "only_when", field,
                                        f"{field.name} should be filled in only when "
                                        f"{rule.meaning}.")
            elif rule.expected and parent in rule.values and rule.field not in typed:
                yield CrossFieldProblem(Severity.WARNING, "expected_when", field,
                                        f"{field.name} is blank although {rule.meaning}. "
                                        "Fill it in if it is known.")
        for order, column in self.date_orders:
            earlier, later = typed.get(order.earlier), typed.get(order.later)
            if earlier is not None and later is not None and earlier > later:
                yield CrossFieldProblem(Severity.ERROR if order.error else Severity.WARNING,
                                        "date_order", column,
                                        f"{column.name} is before {order.earlier}; check both "
                                        "dates.")
