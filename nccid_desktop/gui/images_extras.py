"""Send Images' two ways to keep what was scanned without sending it: "Save scan report"
(the file ``nccid scan --format json`` prints) and "De-identify to a folder" (what
``nccid deid`` does, for sites that move files by other means).

Why a part of its own: the page (:mod:`images_page`) chooses and sends; these only run the
same workflows as the command line in the worker pool and say what they did.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from nccid_desktop.dicom.select.rules import Selection
from nccid_desktop.errors import NccidError
from nccid_desktop.gui.context import AppContext
from nccid_desktop.gui.forms.images_page import Ui_ImagesPage
from nccid_desktop.gui.start_folder import remember_folder, start_folder
from nccid_desktop.gui.workers import Worker, workflow_task
from nccid_desktop.workflows.deid_folder import (
    DeidFolderOutcome,
    deidentify_to_folder,
    summary_lines,
)
from nccid_desktop.workflows.image_selection import ScanOutcome
from nccid_desktop.workflows.scan_report_file import save_scan_report

REPORT_NAME = "scan report.json"


class ImageExtras:
    """Mixed into :class:`ImagesPage`."""

    form: Ui_ImagesPage
    context: AppContext
    scanned: ScanOutcome | None
    scanned_paths: list[Path]
    selection: Selection | None
    worker: Worker | None

    def _parent(self) -> QWidget | None:
        return self if isinstance(self, QWidget) else None

    def ask_save_report(self) -> None:
        target, _ = QFileDialog.getSaveFileName(
            self._parent(), "Save the scan report", str(start_folder(self.context) / REPORT_NAME),
            "JSON files (*.json)")
        if target:
            remember_folder(self.context, Path(target).parent)
            self.save_report(Path(target))

    def save_report(self, destination: Path) -> None:
        if self.scanned is None or self.selection is None:
            return
        panel = self.form.progressPanel
        panel.start("Saving the scan report…", can_cancel=False)
        self.context.pool.run(
            workflow_task(save_scan_report, self.scanned.result, self.selection,
                          self.context.keys, destination), name="scan-report",
            on_result=lambda path: panel.succeed(
                f"Scan report saved as {Path(path).name}. It holds no patient identifiers.",
                headline="Scan report saved"),
            on_error=lambda error: panel.fail(str(error), can_retry=False,
                                              headline="The scan report was not saved"))

    def ask_deidentify_to_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self._parent(), "Choose an empty folder for the de-identified copies",
            str(start_folder(self.context)))
        if folder:
            self.deidentify_to_folder(Path(folder))

    def deidentify_to_folder(self, folder: Path) -> None:
        keys = self.context.keys
        if not self.scanned_paths or keys is None or self.worker is not None:
            return
        panel = self.form.progressPanel
        panel.start("De-identifying copies into the folder…", can_cancel=True)
        self.worker = self.context.pool.run(
            workflow_task(deidentify_to_folder, list(self.scanned_paths), folder, keys,
                          self.context.options.linking),
            name="deid-folder", on_result=self._deidentified, on_error=self._deid_failed,
            on_progress=panel.update_progress, on_cancelled=self._deid_cancelled)

    def _deidentified(self, outcome: DeidFolderOutcome) -> None:
        self.worker = None
        lines = summary_lines(outcome)
        panel = self.form.progressPanel
        if outcome.problems:
            panel.fail(" ".join(lines), can_retry=False,
                       headline="De-identified, but some files need you: see below")
        else:
            panel.succeed(" ".join(lines), headline="De-identified to the folder (not sent)")

    def _deid_failed(self, error: NccidError) -> None:
        self.worker = None
        self.form.progressPanel.fail(str(error), can_retry=False,
                                     headline="Not de-identified: see below")

    def _deid_cancelled(self) -> None:
        self.worker = None
        self.form.progressPanel.cancelled("Cancelled: the files finished are in the folder; "
                                          "the rest were not started.")
