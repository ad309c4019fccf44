"""Send Images: drop, scan (cancellable), see every series with its reason, de-identify and send.

Why the page is thin: scanning and the selection rules are a workflow
(:mod:`nccid_desktop.workflows.image_selection`) run by the worker pool; the page keeps the
user's ticks and shows each series with its reason. Sending (the job, the resume of what an
earlier run left, Pause, Resume, Cancel) is the other half of the page,
:class:`~nccid_desktop.gui.images_sending.ImageSending`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QShowEvent, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QBoxLayout, QFileDialog, QMessageBox, QWidget

from nccid_desktop.dicom.select.rules import Selection
from nccid_desktop.gui.announce import announce
from nccid_desktop.gui.columns import fit_columns
from nccid_desktop.gui.context import AppContext
from nccid_desktop.gui.drop_target import DropTargetMixin
from nccid_desktop.gui.forms.images_page import Ui_ImagesPage
from nccid_desktop.gui.images_extras import ImageExtras
from nccid_desktop.gui.images_sending import ImageSending
from nccid_desktop.gui.images_tree import (
    DETAILS_ROLE,
    SERIES_UID_ROLE,
    STATUS_COLUMN,
    build_model,
)
from nccid_desktop.gui.link_report_view import LinkReportView
from nccid_desktop.gui.page_state import PageState
from nccid_desktop.gui.start_folder import remember_folder, start_folder
from nccid_desktop.gui.workers import Worker, workflow_task
from nccid_desktop.workflows.image_selection import (
    ScanOutcome,
    choose,
    image_patient_ids,
    scan_and_ask,
)
from nccid_desktop.workflows.resume import ResumeRun
from nccid_desktop.workflows.resumed_queue import ResumedQueue
from nccid_desktop.workflows.send_job import SendJob
from nccid_desktop.workflows.words import plural, readable_size

CHOOSE_A_SERIES = "Choose a series to read why it will or will not be sent, in full."


class ImagesPage(ImageSending, ImageExtras, DropTargetMixin, QWidget):
    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = Ui_ImagesPage()
        self.form.setupUi(self)
        self.context = context
        self.scanned: ScanOutcome | None = None
        self.scanned_paths: list[Path] = []
        self.selection: Selection | None = None
        self.excluded: set[str] = set()
        #: Series the user ticked in although the rules left them out (never quarantined).
        self.included: set[str] = set()
        self.job: SendJob | None = None
        self.queue: ResumedQueue | None = None
        self.resume_run: ResumeRun | None = None
        self._send_when_loaded = False
        self.worker: Worker | None = None
        self.status_items: dict[str, QStandardItem] = {}
        self.state: PageState = "empty"
        self.setAcceptDrops(True)
        form = self.form
        self.link_view = LinkReportView(self)
        _place_below(form.seriesTree, self.link_view)
        self.enter("empty")
        form.browseFolderButton.clicked.connect(self.browse_folder)
        form.browseFilesButton.clicked.connect(self.browse_files)
        form.sendButton.clicked.connect(self.ask_send)
        form.saveReportButton.clicked.connect(self.ask_save_report)
        form.deidFolderButton.clicked.connect(self.ask_deidentify_to_folder)
        panel = form.progressPanel
        panel.cancelRequested.connect(self.cancel)
        panel.pauseRequested.connect(self.pause)
        panel.retryRequested.connect(self.resume)

    # --- choosing what to scan -------------------------------------------------------------
    def browse_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose the exported images folder",
                                                  str(start_folder(self.context)))
        if folder:
            remember_folder(self.context, Path(folder))
            self.scan([Path(folder)])

    def browse_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Choose DICOM files or zips",
                                                str(start_folder(self.context)),
                                                "DICOM files and zips (*)")
        if files:
            remember_folder(self.context, Path(files[0]))
            self.scan([Path(f) for f in files])

    def handle_drop(self, paths: list[Path]) -> None:
        self.scan(paths)

    def scan(self, paths: list[Path]) -> None:
        if self.worker is not None:
            return
        self.job, self.excluded, self.queue, self.scanned = None, set(), None, None
        self.included = set()
        self.scanned_paths = list(paths)
        self.selection = None
        self.enter("checking", f"Scanning {plural(len(paths), 'item')}…")
        self.form.progressPanel.start("Finding DICOM files…", can_cancel=True)
        keys = self.context.keys
        self.worker = self.context.pool.run(
            workflow_task(scan_and_ask, paths, keys, self.context.client if keys else None,
                          linking=self.context.options.linking),
            name="scan", on_result=self._scanned, on_error=self._failed,
            on_progress=self.form.progressPanel.update_progress, on_cancelled=self._cancelled)

    def _scanned(self, outcome: ScanOutcome) -> None:
        self.worker = None
        self.scanned = outcome
        self.context.image_patient_ids = image_patient_ids(outcome, self.context.options.linking)
        result = outcome.result
        skipped = sum(result.skipped_counts().values())
        self.form.progressPanel.succeed(
            f"Found {plural(result.instance_count, 'image')} in {plural(result.series_count, 'series')} "
            f"of {plural(len(result.patients), 'patient')}"
            + (f"; {plural(skipped, 'file')} skipped (not DICOM, damaged or duplicates)." if skipped
               else "."), headline="Scan finished: see what will be sent below")
        self.reselect()

    # --- the selection ---------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        """Sheets checked since the scan may link more series: show the statuses as they are
        now, not as they were at the scan (unless a send is using the current list)."""
        super().showEvent(event)
        if self.worker is None and self.job is None and self.queue is None:
            self.reselect()

    def reselect(self) -> None:
        if self.scanned is None:
            return
        options = self.context.options
        self.selection = choose(self.scanned, self.context.keys, options.linking,
                                self.context.windows, frozenset(self.excluded),
                                frozenset(self.included),
                                negative_days_after=options.negative_window_days_after,
                                opt_outs=self.context.opt_out_selection())
        self.link_view.show_for(self.selection, self.context.all_listed())
        model, self.status_items = build_model(self.selection)
        model.itemChanged.connect(self._tick_changed)
        self._show_tree(model)
        included = self.selection.included
        images = sum(d.images_to_send for d in included)
        size = sum(f.size for d in included for f in d.files if f.risk is None)
        left_out = len(self.selection.decisions) - len(included)
        if included:
            self.enter("ready", f"{plural(len(included), 'series')} ({plural(images, 'image')}, "
                       f"{readable_size(size)}) will be sent; {left_out} left out, each with "
                       "its reason in the Status column.")
        else:
            self.enter("problems", f"Nothing here can be sent: all {plural(left_out, 'series')} "
                       "left out, each with its reason in the Status column.")

    def _show_tree(self, model: QStandardItemModel) -> None:
        tree = self.form.seriesTree
        tree.setModel(model)
        tree.expandAll()
        fit_columns(tree)
        tree.show()
        tree.selectionModel().currentChanged.connect(self._row_chosen)
        self.form.seriesDetail.setText(CHOOSE_A_SERIES)
        self.form.seriesDetail.show()

    def _row_chosen(self, current: QModelIndex, _previous: QModelIndex) -> None:
        """The details line says the chosen series' whole reason, technical detail and all
        (the Status column keeps to plain words)."""
        model = self.form.seriesTree.model()
        status = current.siblingAtColumn(STATUS_COLUMN) if current.isValid() else current
        details = current.data(DETAILS_ROLE) if current.isValid() else None
        if not details and status.isValid() and model is not None:
            details = status.data()
        self.form.seriesDetail.setText(str(details) if details else CHOOSE_A_SERIES)

    def enter(self, state: PageState, heading: str = "") -> None:
        """Show ``state``: the heading, the tree and Send follow from it alone, so the page
        never says "will be sent" about what was sent, nor shows an old scan under a new one."""
        self.state = state
        form = self.form
        if state in ("empty", "checking"):
            form.seriesTree.setModel(QStandardItemModel())
            form.seriesTree.hide()
            form.seriesDetail.hide()
            self.status_items = {}
        form.summary.setText(heading)
        form.summary.setVisible(bool(heading))
        announce(form.summary, heading)
        form.sendButton.setEnabled(state == "ready" and self.context.keys is not None
                                   and self.worker is None)
        scanned = state in ("ready", "problems", "done") and self.scanned is not None
        form.saveReportButton.setEnabled(scanned)
        form.deidFolderButton.setEnabled(scanned and self.context.keys is not None)

    def _tick_changed(self, item: QStandardItem) -> None:
        uid = item.data(SERIES_UID_ROLE)
        if not uid or not item.isCheckable():
            return
        if item.checkState() == Qt.CheckState.Checked:
            self.set_series_included(uid, True)
        else:
            self.set_series_included(uid, False)

    def set_series_included(self, series_uid: str, included: bool) -> None:
        """What ticking or unticking a series does (used by keyboard users and tests): a
        series the rules left out for a reason the user may override is ticked in (the
        reason kept in the job); unticking leaves a series out."""
        if included:
            self.excluded.discard(series_uid)
            self.included.add(series_uid)
        else:
            self.included.discard(series_uid)
            self.excluded.add(series_uid)
        self.reselect()

    def ask_send(self) -> None:
        if self.selection is None or not self.selection.included:
            return
        images = sum(d.images_to_send for d in self.selection.included)
        answer = QMessageBox.question(
            self, "De-identify and send",
            f"De-identify {plural(images, 'image')} on this computer and send them for site "
            f"{self.context.site}? Images at risk of burned-in text are quarantined, never sent.")
        if answer == QMessageBox.StandardButton.Yes:
            self.send()


def _place_below(widget: QWidget, below: QWidget) -> None:
    """Put ``below`` right under ``widget`` in whatever box layout holds it (the page's or a
    splitter pane's), so a generated form gains a widget without being edited."""
    parent = widget.parentWidget()
    while parent is not None:
        layout = parent.layout()
        if isinstance(layout, QBoxLayout):
            index = layout.indexOf(widget)
            if index >= 0:
                layout.insertWidget(index + 1, below)
                return
        widget, parent = parent, parent.parentWidget()
