"""Upload Covid Data (Positive) and Upload Covid Status (Negative): one page class, two templates.

Why the page holds no rules: the sheet check, the annotated copy and the upload are workflows
(:mod:`nccid_desktop.workflows.sheet_check`, :mod:`~nccid_desktop.workflows.sheet_upload`)
run by the worker pool; the page shows their answers (problems grouped by column, the cell
selected in the grid, the blue/green/red bar) and enables Upload only when the validator found
no errors. Upload sends the records the check pseudonymised.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QBoxLayout, QFileDialog, QMessageBox, QTreeWidgetItem, QWidget

from nccid_desktop.dicom.select.links import listed_from_report
from nccid_desktop.errors import NccidError
from nccid_desktop.gui.announce import announce
from nccid_desktop.gui.context import AppContext
from nccid_desktop.gui.drop_target import DropTargetMixin
from nccid_desktop.gui.findings_view import FINDING_ROLE, describe_item, fill_findings
from nccid_desktop.gui.forms.sheet_page import Ui_SheetPage
from nccid_desktop.gui.hospital_pattern_prompt import HospitalPatternPrompt, should_ask
from nccid_desktop.gui.page_state import SHOWS_CONTENT, PageState
from nccid_desktop.gui.remembered_splitter import remember_splitter
from nccid_desktop.gui.sheet_files import SheetFiles
from nccid_desktop.gui.sheet_grid import SheetGridModel, fit_grid_columns, grid_position
from nccid_desktop.gui.start_folder import remember_folder, start_folder
from nccid_desktop.gui.template_upgrade_offer import TemplateUpgradeOffer
from nccid_desktop.gui.workers import Worker, workflow_task
from nccid_desktop.sheets.definitions import template_by_id
from nccid_desktop.sheets.findings import Finding, Severity, ValidationReport
from nccid_desktop.uk_dates import uk_date_time
from nccid_desktop.workflows.sheet_check import (
    CheckedSheet,
    check_sheet,
    check_words,
)
from nccid_desktop.workflows.sheet_upload import SheetUploadOutcome, upload_sheet
from nccid_desktop.workflows.words import plural

SHEET_SUFFIXES = (".xlsx", ".xlsm")
INTRO = {
    "main": "Upload the Main sheet of PCR-positive patients. Every problem is listed at once, "
            "with its cell; fix them in Excel and drop the sheet here again.",
    "status": "Upload the Covid Status sheet of PCR-negative patients (about 50 a week). Every "
              "problem is listed at once, with its cell.",
}


class SheetPage(SheetFiles, DropTargetMixin, QWidget):
    def __init__(self, context: AppContext, template_id: str,
                 switch_to: Callable[[str, Path], None] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = Ui_SheetPage()
        self.form.setupUi(self)
        self.context = context
        self.template = template_by_id(template_id)
        self.switch_to = switch_to
        self.path: Path | None = None
        self.checked: CheckedSheet | None = None
        self.worker: Worker | None = None
        self.state: PageState = "empty"
        self.pattern_prompt: HospitalPatternPrompt | None = None
        form = self.form
        title = {"main": "Upload Covid Data (Positive)",
                 "status": "Upload Covid Status (Negative)"}[template_id]
        form.title.setText(title)
        self.setAccessibleName(title)
        form.intro.setText(INTRO[template_id])
        self.upgrade_offer = TemplateUpgradeOffer(context, self)
        page_layout = self.layout()
        if isinstance(page_layout, QBoxLayout):
            page_layout.insertWidget(page_layout.indexOf(form.wrongTemplateBanner) + 1,
                                     self.upgrade_offer)
        self.enter("empty")
        # the sheet gets more of the room than the problems list; the user's drag is kept
        remember_splitter(form.splitter, f"sheet-{template_id}", context.data_dir, (2, 3))
        self.setAcceptDrops(True)
        form.browseButton.clicked.connect(self.browse)
        form.templateButton.clicked.connect(self.download_template)
        form.saveAnnotatedButton.clicked.connect(self.ask_annotated_copy)
        form.uploadButton.clicked.connect(self.ask_upload)
        form.switchSectionButton.clicked.connect(self._switch_section)
        for tree, detail, word in ((form.problemsTree, form.problemDetail, "problem"),
                                   (form.warningsTree, form.warningDetail, "warning")):
            tree.currentItemChanged.connect(self._finding_chosen)
            tree.currentItemChanged.connect(
                lambda item, _old, d=detail, w=word: d.setText(describe_item(item, w)))
            tree.itemActivated.connect(lambda item, _col: self._finding_chosen(item))
        panel = form.progressPanel
        panel.retryRequested.connect(self.upload)
        panel.cancelRequested.connect(self._cancel)

    # --- choosing a file -------------------------------------------------------------------
    def browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose the spreadsheet",
                                              str(start_folder(self.context)),
                                              "Excel workbooks (*.xlsx *.xlsm)")
        if path:
            remember_folder(self.context, Path(path))
            self.load(Path(path))

    def accepts_drop(self, path: Path) -> bool:
        return path.name.lower().endswith(SHEET_SUFFIXES)

    def handle_drop(self, paths: list[Path]) -> None:
        self.load(paths[0])

    def load(self, path: Path) -> None:
        """Check ``path`` in the background; the page fills in when the answer arrives."""
        self._cancel()
        self.path, self.checked = Path(path), None
        form = self.form
        self.enter("checking", f"Checking {self.path.name}…")
        form.progressPanel.start("Checking the sheet…")
        options = self.context.options
        self.worker = self.context.pool.run(
            workflow_task(check_sheet, self.path, self.template.id, keys=self.context.keys,
                          hospital_pattern=options.hospital_pattern, linking=options.linking,
                          client=self.context.client if self.context.keys else None,
                          hospital_examples=self.context.image_patient_ids,
                          opt_outs=options.opt_out_list or None),
            name="check-sheet", on_result=self._show_check, on_error=self._failed,
            on_progress=form.progressPanel.update_progress, on_cancelled=self._was_cancelled)

    # --- showing the answer ----------------------------------------------------------------
    def _show_check(self, checked: CheckedSheet) -> None:
        self.worker = None
        self.checked = checked
        report, form = checked.report, self.form
        self.upgrade_offer.show_for(checked.path, report)
        windows = checked.windows
        if windows:
            self.context.add_windows(windows)
        if report.template and self.context.keys is not None:
            self.context.add_listed(report.template, listed_from_report(
                report, self.context.keys, self.context.options.linking))
        self.context.add_opt_outs(checked.opt_out_selection)
        self._ask_hospital_pattern(report)
        wrong = next((f for f in report.errors if f.code == "wrong_template"), None)
        if wrong is not None:
            self._show_wrong_template(wrong, report)
            return
        errors = fill_findings(form.problemsTree, report, Severity.ERROR)
        warnings = fill_findings(form.warningsTree, report, Severity.WARNING)
        form.findingsTabs.setTabText(0, f"Problems ({errors})")
        form.findingsTabs.setTabText(1, f"Warnings ({warnings})")
        form.findingsTabs.setCurrentIndex(0 if errors or not warnings else 1)
        form.findingsTabs.setVisible(bool(errors or warnings))
        form.problemDetail.setText(describe_item(None, "problem"))
        form.warningDetail.setText(describe_item(None, "warning"))
        if checked.cells is not None:
            form.sheetGrid.setModel(SheetGridModel(checked.cells, report.findings))
            fit_grid_columns(form.sheetGrid)
            form.sheetGrid.scrollToTop()
        words = check_words(errors, warnings, len(report.valid_rows))
        self.enter("problems" if errors else "ready", words.summary)
        if errors:
            form.progressPanel.fail(words.message, can_retry=False, headline=words.headline)
        else:
            form.progressPanel.succeed(words.message, headline=words.headline)

    def _show_wrong_template(self, finding: Finding, report: ValidationReport) -> None:
        form = self.form
        self.enter("failed", "This is not the sheet for this section.")
        form.bannerText.setText(finding.message)
        actual = template_by_id(report.template) if report.template else None
        form.switchSectionButton.setText(f"Go to {actual.upload_action}" if actual else "Go back")
        form.switchSectionButton.setEnabled(actual is not None and self.switch_to is not None)
        form.wrongTemplateBanner.show()
        form.progressPanel.fail(finding.message, can_retry=False,
                                headline="Wrong sheet for this section")

    def _ask_hospital_pattern(self, report: ValidationReport) -> None:
        """The first sheet checked asks for the site's hospital-number form (see
        :mod:`nccid_desktop.gui.hospital_pattern_prompt`)."""
        options = self.context.options
        if not report.patients or options.linking != "hospital" or not should_ask(options):
            return

        def saved(pattern: str) -> None:
            options.hospital_pattern = pattern

        self.pattern_prompt = HospitalPatternPrompt(
            (p.hospital_number or "" for p in report.patients), saved, self)
        self.pattern_prompt.open()

    def _switch_section(self) -> None:
        report = self.checked.report if self.checked else None
        if report and report.template and self.switch_to and self.path:
            self.switch_to(report.template, self.path)

    def _finding_chosen(self, item: QTreeWidgetItem | None, *_: object) -> None:
        finding = item.data(0, FINDING_ROLE) if item is not None else None
        if isinstance(finding, Finding):
            self.select_cell(finding)

    def select_cell(self, finding: Finding) -> None:
        """Select the finding's cell (or its whole column or row) in the grid."""
        grid, model = self.form.sheetGrid, self.form.sheetGrid.model()
        if model is None:
            return
        row, column = grid_position(finding)
        grid.clearSelection()
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect
        if row is not None and column is not None:
            index = model.index(row, column)
            grid.selectionModel().setCurrentIndex(index, flags)
            grid.scrollTo(index)
        elif column is not None:
            grid.selectColumn(column)
        elif row is not None:
            grid.selectRow(row)

    def selected_cell(self) -> str | None:
        """The selected cell as Excel names it (``D12``), for tests and accessibility."""
        index = self.form.sheetGrid.currentIndex()
        if not index.isValid():
            return None
        model = self.form.sheetGrid.model()
        letter = model.headerData(index.column(), Qt.Orientation.Horizontal)
        return f"{letter}{model.headerData(index.row(), Qt.Orientation.Vertical)}"

    # --- actions ---------------------------------------------------------------------------
    def _may_upload(self) -> bool:
        report = self.checked.report if self.checked else None
        return bool(report and report.ok and report.template == self.template.id
                    and report.valid_rows and self.context.keys is not None)

    def refresh_permissions(self) -> None:
        self.form.uploadButton.setEnabled(self.state == "ready" and self._may_upload())

    def ask_upload(self) -> None:
        if not self._may_upload() or self.checked is None:
            return
        report, user = self.checked.report, self.context.signed_in
        site = f"{user.site_name} ({user.site})" if user and user.site_name else self.context.site
        warning = (f"\n\nThe sheet has {plural(report.warning_count, 'warning')}; check them "
                   "first if you have not.") if report.warning_count else ""
        answer = QMessageBox.question(
            self, "Upload", f"Upload {plural(len(report.valid_rows), 'patient')} from "
            f"{self.path.name if self.path else 'this sheet'} for {site}?\n\nNHS/CHI and "
            f"hospital numbers are replaced by pseudonyms on this computer before sending.{warning}")
        if answer == QMessageBox.StandardButton.Yes:
            self.upload()

    def upload(self) -> None:
        """Pseudonymise, queue and send (also what Retry runs: the queue remembers the rest)."""
        if self.checked is None or self.context.keys is None:
            return
        client = self.context.require_client()
        panel = self.form.progressPanel
        patients = plural(len(self.checked.report.valid_rows), "patient")
        self.enter("uploading", f"Uploading {patients} from {self._file_name()}…")
        panel.start("Uploading…", total=None)
        self.worker = self.context.pool.run(
            workflow_task(upload_sheet, self.checked, self.context.keys, client,
                          self.context.outbox, self.context.options.linking,
                          opt_outs=self.context.options.opt_out_list or None),
            name="upload-sheet", on_result=self._uploaded, on_error=self._failed,
            on_progress=panel.update_progress, on_cancelled=self._was_cancelled)

    def _uploaded(self, outcome: SheetUploadOutcome) -> None:
        self.worker = None
        panel = self.form.progressPanel
        if outcome.upload.problems:
            self.enter("failed", f"{self._file_name()}: not every record was accepted. The "
                       "message below says which and why.", keep_sheet=True)
            first = outcome.upload.problems[0]
            panel.fail(f"{outcome.message[:-1]}; {plural(outcome.upload.failed, 'record')} "
                       f"refused. {first}", can_retry=False,
                       headline=f"{plural(outcome.upload.failed, 'record')} refused")
        else:
            self.enter("done", f"{self._file_name()} uploaded on {uk_date_time(datetime.now())}. "
                       "Drop the next sheet here to check it.")
            panel.succeed(outcome.message, headline=outcome.message.rstrip("."))

    def _failed(self, error: NccidError) -> None:
        self.worker = None
        uploading = self.checked is not None and self.checked.report.ok
        headline = ("Not uploaded yet: nothing is lost" if uploading
                    else "The sheet could not be checked")
        self.enter("failed", f"{self._file_name()} was not uploaded yet. Press Retry when the "
                   "problem below is solved." if uploading else
                   f"{self._file_name()} could not be opened or read.", keep_sheet=uploading)
        self.form.progressPanel.fail(str(error), can_retry=uploading, headline=headline)

    def _was_cancelled(self) -> None:
        self.worker = None
        if self.checked is not None:
            self.enter("ready", "Upload cancelled: nothing half-done was kept. Press Upload to "
                       "try again.")
        else:
            self.enter("empty")
        self.form.progressPanel.cancelled()

    def _cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()

    # --- the page's state -------------------------------------------------------------------
    def _file_name(self) -> str:
        return self.path.name if self.path else "The sheet"

    def enter(self, state: PageState, heading: str = "", *, keep_sheet: bool = False) -> None:
        """Show ``state``: what is visible and what may be pressed follow from it alone, so a
        failed open never leaves the previous sheet on screen (``keep_sheet`` keeps the sheet
        just checked when only sending it failed)."""
        self.state = state
        form = self.form
        shown = state in SHOWS_CONTENT or keep_sheet
        if not shown:
            for tree in (form.problemsTree, form.warningsTree):
                tree.clear()
            form.sheetGrid.setModel(None)
        form.findingsTabs.setVisible(shown and bool(
            form.problemsTree.topLevelItemCount() or form.warningsTree.topLevelItemCount()))
        form.sheetGrid.setVisible(shown and form.sheetGrid.model() is not None)
        form.splitter.setVisible(not (form.findingsTabs.isHidden() and form.sheetGrid.isHidden()))
        if state != "failed":
            form.wrongTemplateBanner.hide()
        form.fileLabel.setText(f"File: {self.path.name}" if self.path and state != "empty" else "")
        form.fileLabel.setVisible(bool(form.fileLabel.text()))
        form.summary.setText(heading)
        form.summary.setVisible(bool(heading))
        announce(form.summary, heading)
        form.uploadButton.setEnabled(state == "ready" and self._may_upload())
        form.saveAnnotatedButton.setEnabled(state in ("problems", "ready", "done") and bool(
            self.checked and self.checked.report.findings))

