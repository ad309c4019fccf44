""""Save as the current template" for a sheet in an older or the national portal's template.

Why a widget of its own, added under the wrong-template banner: the sheet is read as it is
(with a warning naming the differences), but nurses should go on in the current template; the
copy is made by the core (:func:`nccid_desktop.sheets.upgrade.save_as_current`, the same as
``nccid template upgrade``) in the worker pool, so the page never blocks. The offer shows only
when the check recognised an older or a national version (a ``template_version`` finding or
note).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QWidget

from nccid_desktop.errors import NccidError
from nccid_desktop.gui.context import AppContext
from nccid_desktop.gui.workers import Worker
from nccid_desktop.sheets.findings import ValidationReport
from nccid_desktop.sheets.upgrade import UpgradeResult, save_as_current

TEMPLATE_VERSION = "template_version"


def wants_upgrade(report: ValidationReport) -> bool:
    """Whether the check found the sheet in another version of the template."""
    return any(f.code == TEMPLATE_VERSION for f in report.findings) or any(
        n.code == TEMPLATE_VERSION for n in report.notes)


class TemplateUpgradeOffer(QWidget):
    """A line saying the sheet is in another template version, and the button that copies it
    into a fresh current template."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.source: Path | None = None
        self.worker: Worker | None = None
        self.result: UpgradeResult | None = None
        self.error = ""
        self.text = QLabel(self)
        self.text.setWordWrap(True)
        self.text.setAccessibleName("Template version")
        self.button = QPushButton("Save as the current template…", self)
        self.button.setAccessibleName("Save as the current template")
        self.button.clicked.connect(self.ask_destination)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.button)
        self.hide()

    def show_for(self, path: Path | None, report: ValidationReport | None) -> None:
        """Offer the copy after a check that recognised another version; hide it otherwise."""
        self.source, self.result, self.error = path, None, ""
        if path is None or report is None or not wants_upgrade(report):
            self.hide()
            return
        version = report.recognised_as or "another version of the template"
        self.text.setText(f"This sheet is in {version}. Save it as the current template to "
                          "carry on in it (the patient rows are copied; the original is kept).")
        self.button.setEnabled(True)
        self.show()

    def ask_destination(self) -> None:
        if self.source is None:
            return
        suggested = self.source.with_name(f"{self.source.stem} (current template).xlsx")
        target, _ = QFileDialog.getSaveFileName(self, "Save as the current template",
                                                str(suggested), "Excel workbook (*.xlsx)")
        if target:
            self.save_to(Path(target))

    def save_to(self, destination: Path) -> None:
        """Copy the rows into a fresh current template at ``destination`` (in the background)."""
        if self.source is None or self.worker is not None:
            return
        source = self.source
        self.button.setEnabled(False)
        self.text.setText("Copying the patient rows into the current template…")
        self.worker = self.context.pool.run(
            lambda _progress, cancel: save_as_current(source, destination, cancel=cancel),
            name="save-as-current", on_result=self._saved, on_error=self._failed)

    def _saved(self, result: UpgradeResult) -> None:
        self.worker, self.result = None, result
        self.text.setText(result.describe() + " Check the new file here before you upload it.")
        self.button.setEnabled(True)

    def _failed(self, error: NccidError) -> None:
        self.worker, self.error = None, str(error)
        self.text.setText(str(error))
        self.button.setEnabled(True)
