"""Save as the current template: a sheet in an older or the portal's template, copied into a
fresh blank current template, value for value.

Why copy values and not fix them: the copy must hold exactly what the nurse typed, so the
validator still reports every problem in it; only the place of each value changes (columns
matched by header, as the validator matches them). The result has the current template's
drop-down lists, hints, instructions and version marker. Values in columns the template does
not have are not copied, and the result says which columns (by letter) they were in.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook

from nccid_desktop.errors import BadInputError, NccidError, SheetError
from nccid_desktop.sheets.definitions import TEMPLATES, Template
from nccid_desktop.sheets.layout import plan_layout
from nccid_desktop.sheets.reader import choose_sheet, iter_data_rows
from nccid_desktop.sheets.values import is_blank
from nccid_desktop.sheets.versions import layout_hints, recognise_version
from nccid_desktop.sheets.workbook import first_formula_without_value, open_workbook
from nccid_desktop.sheets.writer import build_template
from nccid_desktop.tasks import NEVER_CANCELLED, CancelToken

DATE_FORMAT = "DD/MM/YYYY"


@dataclass(frozen=True)
class UpgradeResult:
    template: Template
    source: str  # what the old sheet was recognised as, in words
    rows: int
    left_behind: tuple[str, ...]  # letters of old columns whose values were not copied
    destination: Path

    def describe(self) -> str:
        rows = f"{self.rows} patient row" + ("" if self.rows == 1 else "s")
        text = (f"Copied {rows} from {self.source} into a new {self.template.title} template "
                f"v{self.template.version}: {self.destination.name}.")
        if self.left_behind:
            text += (" Values in column(s) " + ", ".join(self.left_behind) + " were not copied: "
                     "they are not part of the template.")
        return text


def _check_destination(source: Path, destination: Path) -> None:
    if destination.suffix.lower() != ".xlsx":
        raise BadInputError("The new template must be saved as an .xlsx file.")
    if destination.resolve() == source.resolve():
        raise BadInputError("Save the new template under another name: it must not replace the "
                            "original.")


def save_as_current(source: Path | str, destination: Path | str, *,
                    cancel: CancelToken = NEVER_CANCELLED) -> UpgradeResult:
    """Copy the patient rows of ``source`` into a fresh current template at ``destination``."""
    source, destination = Path(source), Path(destination)
    _check_destination(source, destination)
    with open_workbook(source) as workbook:
        choice = choose_sheet(workbook)
        if choice is None:
            raise SheetError("This workbook does not look like an NCCID template: none of its "
                             "sheets has a template's column headers in its first rows.")
        if first_formula_without_value(workbook, choice.sheet) is not None:
            raise SheetError("The workbook has formulas whose results were never saved. Open "
                             "it in Excel, save it, and try again.")
        template = choice.template
        marker = choice.marker
        marker_version = marker.version if marker and marker.template == template.id else None
        version = recognise_version(template, choice.headers, marker_version)
        layout = plan_layout(template, choice.headers, choice.header_row,
                             **layout_hints(version, template))
        place = {column: i for i, column in enumerate(template.columns)}
        moves = [(index, place[column]) for index, column in layout.positions]
        mapped = {index for index, _ in moves}
        dates = [place[c] + 1 for c in template.columns if c.kind == "date"]
        fresh = build_template(TEMPLATES[template.id])
        sheet = fresh.worksheets[0]
        rows = 0
        left_behind: set[int] = set()
        for _number, values in iter_data_rows(choice.sheet, choice.header_row + 1):
            cancel.raise_if_cancelled()
            if all(is_blank(v) for v in values):
                continue
            copied: list[object] = [None] * len(template.columns)
            for index, position in moves:
                if index < len(values):
                    copied[position] = values[index]
            left_behind.update(i for i, v in enumerate(values)
                               if i not in mapped and not is_blank(v))
            sheet.append(copied)
            rows += 1
            for column in dates:
                sheet.cell(row=sheet.max_row, column=column).number_format = DATE_FORMAT
    words = version.label if version is not None else f"a {template.title} sheet"
    _save(fresh, destination)
    return UpgradeResult(template, words, rows,
                         tuple(get_column_letter(i + 1) for i in sorted(left_behind)),
                         destination)


def _save(workbook: Workbook, destination: Path) -> None:
    temporary = destination.with_name(f".{destination.name}.{os.getpid()}.part")
    try:
        workbook.save(temporary)
        os.replace(temporary, destination)
    except OSError:
        temporary.unlink(missing_ok=True)
        raise NccidError("The new template could not be saved there: check the folder exists "
                         "and you may write to it.") from None
