"""The sheet pages' files: a copy with the problems highlighted, and the blank template.

Why apart from the page: the page shows a check and uploads; these only save files, through
the worker pool, and say in the bar what was saved.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from nccid_desktop.gui.context import AppContext
from nccid_desktop.gui.forms.sheet_page import Ui_SheetPage
from nccid_desktop.gui.workers import workflow_task
from nccid_desktop.sheets.definitions import Template
from nccid_desktop.sheets.writer import write_template
from nccid_desktop.workflows.sheet_check import annotated_copy


class SheetFiles:
    """Mixed into :class:`SheetPage`."""

    form: Ui_SheetPage
    context: AppContext
    template: Template
    path: Path | None

    def _parent(self) -> QWidget | None:
        return self if isinstance(self, QWidget) else None

    def ask_annotated_copy(self) -> None:
        if self.path is None:
            return
        suggested = str(self.path.with_name(f"{self.path.stem} - problems highlighted.xlsx"))
        target, _ = QFileDialog.getSaveFileName(self._parent(),
                                                "Save a copy with problems highlighted",
                                                suggested, "Excel workbook (*.xlsx)")
        if target:
            self.save_annotated_copy(Path(target))

    def save_annotated_copy(self, destination: Path) -> None:
        if self.path is None:
            return
        panel = self.form.progressPanel
        panel.start("Saving a copy with the problems highlighted…")
        self.context.pool.run(
            workflow_task(annotated_copy, self.path, self.template.id,
                          self.context.options.hospital_pattern, destination),
            name="annotate", on_error=lambda e: panel.fail(str(e), can_retry=False),
            on_result=lambda p: panel.succeed(f"Copy saved as {Path(p).name}, problems "
                                              "highlighted in red, warnings in amber."))

    def download_template(self) -> None:
        name = f"NCCID {self.template.title} template v{self.template.version}.xlsx"
        target, _ = QFileDialog.getSaveFileName(self._parent(), "Save the blank template", name,
                                                "Excel workbook (*.xlsx)")
        if target:
            self.save_template(Path(target))

    def save_template(self, destination: Path) -> None:
        panel = self.form.progressPanel
        self.context.pool.run(lambda _p, _c: write_template(self.template, destination),
                              name="template", on_error=lambda e: panel.fail(str(e), can_retry=False),
                              on_result=lambda p: panel.succeed(f"Blank template saved as {Path(p).name}."))

