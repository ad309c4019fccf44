"""Which template a header row belongs to, and how its columns differ from the template.

Why by header and not only by the version marker: nurses copy and paste into old files and
into files made by hand, so the header row is the evidence; the marker only adds the version.
Columns are matched by header text (full header, bare name or JSON key, ignoring case and
spacing), so a moved column is still checked cell by cell while being reported as moved.
Nothing read from the file is ever echoed: an unknown header is named by its letter only.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from openpyxl.utils import get_column_letter

from nccid_desktop.sheets.definitions import TEMPLATES, Column, Template
from nccid_desktop.sheets.findings import Finding, Severity

#: A header row is recognised when at least this share of a template's own columns is found.
RECOGNITION_THRESHOLD = 0.5
DO_NOT_CHANGE = "Do not add, remove, rename or move columns: use the template as it is."


def normalise_header(text: Any) -> str:
    if not isinstance(text, str):
        return ""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split()).strip(" *:")


def _aliases(column: Column) -> set[str]:
    names = {normalise_header(column.header), normalise_header(column.name)}
    if column.key:
        names.add(normalise_header(column.key))
    return names


_ALIASES: dict[str, dict[str, Column]] = {
    template.id: {alias: column for column in template.columns for alias in _aliases(column)}
    for template in TEMPLATES.values()
}


def _distinctive(template: Template) -> set[Column]:
    """Columns that only this template has (the identifiers are in both)."""
    others = {c for t in TEMPLATES.values() if t is not template for c in t.columns}
    return {c for c in template.columns if c not in others}


def match_header(template: Template, header: Any) -> Column | None:
    return _ALIASES[template.id].get(normalise_header(header))


def recognise(headers: tuple[Any, ...]) -> tuple[Template | None, float]:
    """The template this header row belongs to, with the share of its own columns found."""
    best: tuple[Template | None, float] = (None, 0.0)
    for template in TEMPLATES.values():
        own = _distinctive(template)
        found = {match_header(template, h) for h in headers} & own
        score = len(found) / len(own)
        if score > best[1]:
            best = (template, score)
    return best if best[1] >= RECOGNITION_THRESHOLD else (None, best[1])


@dataclass
class Layout:
    """Where each template column sits in the sheet, and what is wrong with the header row."""

    template: Template
    header_row: int
    positions: list[tuple[int, Column]]  # zero-based sheet index -> template column
    unmapped: list[int]  # sheet indexes with a header nobody expects (their data is ignored)
    findings: list[Finding] = field(default_factory=list)
    absent: list[Column] = field(default_factory=list)  # columns the sheet's version lacks

    def letter_of(self, column: Column) -> str | None:
        for index, candidate in self.positions:
            if candidate is column:
                return get_column_letter(index + 1)
        return None


def _longest_in_order(positions: list[tuple[int, int]]) -> set[int]:
    """Sheet indexes of the longest run of columns already in template order.

    Columns outside it are the ones that were moved; a column added or removed shifts its
    neighbours but keeps their order, so they are not reported as moved.
    """
    chains: list[list[tuple[int, int]]] = []
    for position in positions:
        before = max((c for c in chains if c[-1][1] < position[1]), key=len, default=[])
        chains.append([*before, position])
    return {sheet_index for sheet_index, _ in max(chains, key=len, default=[])}


def plan_layout(template: Template, headers: tuple[Any, ...], header_row: int, *,
                renamed: Mapping[str, Column] | None = None, dropped: Collection[str] = (),
                absent: Collection[Column] = ()) -> Layout:
    """Map sheet columns to template columns and report every change to the header row.

    A sheet in another known version of the template passes what that version says:
    ``renamed`` (normalised old header -> current column), ``dropped`` (normalised headers of
    columns no longer collected: ignored without an error) and ``absent`` (current columns
    the version does not have: left blank without an error).
    """
    layout = Layout(template, header_row, [], [])
    placed: dict[Column, int] = {}
    unknown: list[int] = []
    renamed = renamed or {}
    for index, header in enumerate(headers):
        name = normalise_header(header)
        if name == "":
            continue
        column = match_header(template, header) or renamed.get(name)
        if column is None and name in dropped:
            layout.unmapped.append(index)
        elif column is None:
            unknown.append(index)
        elif column in placed:
            layout.findings.append(_sheet_error(
                "column_duplicated", index,
                f"The column “{column.header}” appears twice (columns "
                f"{get_column_letter(placed[column] + 1)} and {get_column_letter(index + 1)}). "
                + DO_NOT_CHANGE, column.header))
            layout.unmapped.append(index)
        else:
            placed[column] = index
    order = {column: i for i, column in enumerate(template.columns)}
    for expected_index, column in enumerate(template.columns):
        if column in placed:
            continue
        if column in absent:
            layout.absent.append(column)
            continue
        if expected_index in unknown:
            unknown.remove(expected_index)
            placed[column] = expected_index
            layout.findings.append(_sheet_error(
                "column_renamed", expected_index,
                f"Column {get_column_letter(expected_index + 1)} should be headed "
                f"“{column.header}” but its header has been changed. " + DO_NOT_CHANGE,
                column.header))
        else:
            layout.findings.append(Finding(
                Severity.ERROR, "column_missing",
                f"The column “{column.header}” is missing (the template has it in column "
                f"{get_column_letter(expected_index + 1)}). " + DO_NOT_CHANGE,
                header=column.header))
    for index in unknown:
        layout.unmapped.append(index)
        layout.findings.append(_sheet_error(
            "column_added", index,
            f"Column {get_column_letter(index + 1)} is not part of the {template.title} "
            "template. " + DO_NOT_CHANGE))
    in_order = _longest_in_order(sorted((i, order[c]) for c, i in placed.items()))
    for column, index in sorted(placed.items(), key=lambda item: item[1]):
        if index not in in_order:
            layout.findings.append(_sheet_error(
                "column_moved", index,
                f"“{column.header}” is in column {get_column_letter(index + 1)} but belongs in "
                f"column {get_column_letter(order[column] + 1)}. " + DO_NOT_CHANGE,
                column.header))
    layout.positions = sorted(((i, c) for c, i in placed.items()), key=lambda item: item[0])
    return layout


def _sheet_error(code: str, index: int, message: str, header: str = "") -> Finding:
    return Finding(Severity.ERROR, code, message, column=get_column_letter(index + 1),
                   header=header)
