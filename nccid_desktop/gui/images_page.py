"""Send Images: drop, scan (cancellable), see every series with its reason, de-identify and send.

Why the page is thin: scanning, the selection rules, de-identification, the outbox and the
uploader are core calls (through :mod:`image_flows` and the worker pool). The page keeps the
user's ticks, shows the per-series states and the one bar, and offers Pause, Resume, Cancel.
A queue left by an earlier run is shown from the journal (:mod:`resumed_queue`) as it is sent.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from nccid_desktop.dicom.select.rules import Selection
from nccid_desktop.errors import NccidError
from nccid_desktop.gui.columns import fit_columns
from nccid_desktop.gui.context import AppContext
from nccid_desktop.gui.drop_target import DropTargetMixin
from nccid_desktop.gui.forms.images_page import Ui_ImagesPage
from nccid_desktop.gui.icons import icon
from nccid_desktop.gui.image_flows import ScanOutcome, SendJob, choose, scan_task
from nccid_desktop.gui.images_tree import (
    PHASE_ICONS,
    SERIES_UID_ROLE,
    build_model,
    build_queue_model,
    readable_size,
)
from nccid_desktop.gui.resumed_queue import ResumedQueue, load_queue_task
from nccid_desktop.gui.send_state import SeriesProgress
from nccid_desktop.gui.upload_flows import plural
from nccid_desktop.gui.workers import Worker
from nccid_desktop.tasks import Progress
from nccid_desktop.transport.uploader import UploadReport


class ImagesPage(DropTargetMixin, QWidget):
    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = Ui_ImagesPage()
        self.form.setupUi(self)
        self.context = context
        self.scanned: ScanOutcome | None = None
        self.selection: Selection | None = None
        self.excluded: set[str] = set()
        self.job: SendJob | None = None
        self.queue: ResumedQueue | None = None
        self._send_when_loaded = False
        self.worker: Worker | None = None
        self.status_items: dict[str, QStandardItem] = {}
        self.setAcceptDrops(True)
        form = self.form
        form.sendButton.setEnabled(False)
        form.seriesTree.hide()
        form.browseFolderButton.clicked.connect(self.browse_folder)
        form.browseFilesButton.clicked.connect(self.browse_files)
        form.sendButton.clicked.connect(self.ask_send)
        panel = form.progressPanel
        panel.cancelRequested.connect(self.cancel)
        panel.pauseRequested.connect(self.pause)
        panel.retryRequested.connect(self.resume)

    # --- choosing what to scan -------------------------------------------------------------
    def browse_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose the exported images folder")
        if folder:
            self.scan([Path(folder)])

    def browse_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Choose DICOM files or zips", "",
                                                "DICOM files and zips (*)")
        if files:
            self.scan([Path(f) for f in files])

    def handle_drop(self, paths: list[Path]) -> None:
        self.scan(paths)

    def scan(self, paths: list[Path]) -> None:
        if self.worker is not None:
            return
        self.job, self.excluded, self.queue = None, set(), None
        self.form.sendButton.setEnabled(False)
        self.form.summary.setText(f"Scanning {plural(len(paths), 'item')}…")
        self.form.progressPanel.start("Finding DICOM files…", can_cancel=True)
        self.worker = self.context.pool.run(
            scan_task(paths, self.context.keys, self.context.client if self.context.keys else None),
            name="scan", on_result=self._scanned, on_error=self._failed,
            on_progress=self.form.progressPanel.update_progress, on_cancelled=self._cancelled)

    def _scanned(self, outcome: ScanOutcome) -> None:
        self.worker = None
        self.scanned = outcome
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
        self.selection = choose(self.scanned, self.context.keys, self.context.options.linking,
                                self.context.windows, frozenset(self.excluded))
        model, self.status_items = build_model(self.selection)
        model.itemChanged.connect(self._tick_changed)
        self._show_tree(model)
        included = self.selection.included
        images = sum(d.images_to_send for d in included)
        size = sum(f.size for d in included for f in d.files if f.risk is None)
        self.form.summary.setText(
            f"{plural(len(included), 'series')} ({plural(images, 'image')}, {readable_size(size)}) "
            f"will be sent; {len(self.selection.decisions) - len(included)} left out, each with its "
            "reason in the Status column.")
        self.form.sendButton.setEnabled(bool(included) and self.context.keys is not None
                                        and self.worker is None)

    def _show_tree(self, model: QStandardItemModel) -> None:
        tree = self.form.seriesTree
        tree.setModel(model)
        tree.expandAll()
        fit_columns(tree)
        tree.show()

    def _tick_changed(self, item: QStandardItem) -> None:
        uid = item.data(SERIES_UID_ROLE)
        if not uid or not item.isCheckable():
            return
        if item.checkState() == Qt.CheckState.Checked:
            self.excluded.discard(uid)
        else:
            self.excluded.add(uid)
        self.reselect()

    def set_series_included(self, series_uid: str, included: bool) -> None:
        """What ticking or unticking a series does (used by keyboard users and tests)."""
        (self.excluded.discard if included else self.excluded.add)(series_uid)
        self.reselect()

    # --- sending ---------------------------------------------------------------------------
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

    def send(self) -> None:
        if self.selection is None or self.context.keys is None:
            return
        self.job = SendJob.plan(self.selection, self.context.keys, self.context.options.linking,
                                self.context.require_client(), self.context.outbox,
                                self.context.data_dir / "images-work")
        self._run_job()

    def _run_job(self) -> None:
        assert self.job is not None
        self.form.sendButton.setEnabled(False)
        self.form.progressPanel.start("De-identifying and sending…", can_pause=True)
        self.worker = self.context.pool.run(
            self.job.task, name="send-images", on_result=self._sent, on_error=self._failed,
            on_progress=self._progress, on_cancelled=self._send_cancelled)

    def _progress(self, progress: Progress) -> None:
        if self.job is not None and self.job.pause_requested:
            progress = replace(progress, message="")  # keep saying that it is pausing
        self.form.progressPanel.update_progress(progress)
        self._show_series_states()

    def _series_states(self) -> list[tuple[QStandardItem | None, SeriesProgress]]:
        if self.job is not None:
            return [(self.status_items.get(decision.series.series_uid), state) for decision, state
                    in zip(self.job.decisions, self.job.series.values(), strict=True)]
        if self.queue is not None:
            return [(self.status_items.get(key), state)
                    for key, state in self.queue.series.items()]
        return []

    def _show_series_states(self) -> None:
        for item, state in self._series_states():
            text = state.describe()
            if item is not None and item.text() != text:
                item.setText(text)
                item.setToolTip(text)
                item.setIcon(icon(PHASE_ICONS[state.phase]))

    def _sent(self, job: SendJob) -> None:
        self.worker = None
        self._show_series_states()
        upload = job.upload or UploadReport()
        panel = self.form.progressPanel
        if job.paused:
            panel.pause(f"Paused: {plural(job.images_sent, 'image')} sent so far. Nothing is "
                        "lost: press Resume to carry on.")
        elif upload.problems:
            panel.fail(f"{plural(job.images_sent, 'image')} sent; {upload.failed} refused. "
                       f"{upload.problems[0]}", can_retry=False,
                       headline=f"{upload.failed} refused by the service")
        else:
            panel.succeed(f"{plural(job.images_sent, 'image')} de-identified and sent.",
                          headline=f"{plural(job.images_sent, 'image')} sent")

    def _failed(self, error: NccidError) -> None:
        self.worker = None
        self._show_series_states()
        sending = self.job is not None or self.queue is not None
        self.form.progressPanel.fail(
            str(error), can_retry=sending,
            headline="Sending stopped: nothing is lost" if sending else "Stopped: see below")
        self.form.sendButton.setEnabled(self.selection is not None and self.job is None)

    def _send_cancelled(self) -> None:
        self.worker = None
        self._show_series_states()
        self.job = None
        self.form.progressPanel.cancelled("Cancelled. Images already sent stay sent; nothing "
                                          "half-done was kept.")
        self.form.sendButton.setEnabled(self.selection is not None)

    def _cancelled(self) -> None:
        self.worker = None
        self.form.progressPanel.cancelled("Scan cancelled.")

    def pause(self) -> None:
        """Stop after the batch in flight, keeping the queue; Resume carries on from there."""
        if self.worker is None:
            return
        if self.job is not None:
            self.job.request_pause()
            self.form.progressPanel.say("Pausing after the batch in flight…")
        else:
            self.worker.cancel()

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()

    def resume(self) -> None:
        """Carry on a paused or failed send (or unfinished work found at start-up, whose
        series are shown first)."""
        if self.worker is not None:
            return
        if self.job is not None:
            self._run_job()
        elif self.queue is None:
            self.show_unfinished(then_send=True)
        else:
            self._send_queue()

    def show_unfinished(self, *, then_send: bool = False) -> None:
        """Show the series an earlier run left queued (the journal is read by a worker);
        send them at once when ``then_send``, else when the user presses Resume."""
        if self.worker is not None:
            return
        self._send_when_loaded = then_send
        self.form.sendButton.setEnabled(False)
        self.form.progressPanel.start("Reading what an earlier run left to send…",
                                      can_cancel=False)
        self.worker = self.context.pool.run(
            load_queue_task(self.context.outbox), name="read-queue",
            on_result=self._queue_loaded, on_error=self._failed)

    def _queue_loaded(self, queue: ResumedQueue) -> None:
        self.worker, self.queue, self.job = None, queue, None
        if queue.rows:
            model, self.status_items = build_queue_model(queue)
            self._show_tree(model)
            self.form.summary.setText(
                f"{plural(len(queue.rows), 'series')} ({plural(queue.images, 'image')} to send) "
                "left unfinished by an earlier run, de-identified then and sent as they are.")
        if self._send_when_loaded:
            self._send_queue()
        else:
            self.form.progressPanel.pause(f"{plural(queue.images, 'image')} from an earlier run "
                                          "wait to be sent: press Resume to send them.")

    def _send_queue(self) -> None:
        assert self.queue is not None
        try:
            client = self.context.require_client()
        except NccidError as error:  # signed out meanwhile: say so, keep the queue
            self._failed(error)
            return
        self.form.progressPanel.start("Sending unfinished work…", can_pause=False)
        self.worker = self.context.pool.run(
            self.queue.send_task(client),
            name="resume-queue", on_result=self._queue_sent, on_error=self._failed,
            on_progress=self._progress, on_cancelled=self._send_cancelled)

    def _queue_sent(self, report: UploadReport) -> None:
        self.worker = None
        self._show_series_states()
        sent = f"{plural(report.records_stored + report.records_unchanged, 'record')} and " \
               f"{plural(report.images_stored + report.images_already_held, 'image')} sent."
        if report.problems:
            self.form.progressPanel.fail(f"{sent} {report.failed} refused: {report.problems[0]}",
                                         can_retry=False)
        else:
            self.form.progressPanel.succeed(sent)
