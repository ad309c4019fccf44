"""Summary: the site's counts and recent uploads, as the collection service reports them."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QTableWidgetItem, QWidget

from nccid_desktop.errors import NccidError
from nccid_desktop.gui.columns import fit_columns
from nccid_desktop.gui.context import AppContext
from nccid_desktop.gui.forms.summary_page import Ui_SummaryPage
from nccid_desktop.uk_dates import uk_prose_of
from nccid_desktop.workflows.takeback import retention_words

KIND_WORDS = {"data": "Clinical data (positive)", "status": "Covid status (negative)",
              "images": "Images"}


class SummaryPage(QWidget):
    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = Ui_SummaryPage()
        self.form.setupUi(self)
        self.context = context
        self.form.progressPanel.reset()
        fit_columns(self.form.recent)
        self.form.refreshButton.clicked.connect(self.refresh)
        self.form.progressPanel.retryRequested.connect(self.refresh)

    def refresh(self) -> None:
        client = self.context.client
        if client is None or client.signed_in is None:
            return
        self.form.refreshButton.setEnabled(False)
        self.form.progressPanel.start("Fetching the summary…", can_cancel=False)
        self.context.pool.run(lambda _p, _c: client.summary(), name="summary",
                              on_result=self._show, on_error=self._failed)

    def _show(self, summary: dict[str, Any]) -> None:
        form = self.form
        form.siteName.setText(f"{summary.get('site_name', '')} ({summary.get('site', '')})")
        for label, key in ((form.patientsData, "patients_data"),
                           (form.patientsStatus, "patients_status"),
                           (form.studies, "studies"), (form.images, "images")):
            label.setText(str(summary.get(key, 0)))
        recent = summary.get("recent") or []
        form.recent.setRowCount(len(recent))
        for row, entry in enumerate(recent):
            cells = [uk_prose_of(str(entry.get("date", ""))),
                     KIND_WORDS.get(entry.get("kind"), ""), str(entry.get("count", ""))]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                form.recent.setItem(row, column, item)
        form.recent.resizeColumnsToContents()
        form.recent.resizeRowsToContents()
        form.progressPanel.succeed(f"Up to date. {retention_words(summary)}",
                                   headline="Up to date")
        form.refreshButton.setEnabled(True)

    def _failed(self, error: NccidError) -> None:
        self.form.progressPanel.fail(str(error))
        self.form.refreshButton.setEnabled(True)
