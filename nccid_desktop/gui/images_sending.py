"""Send Images' sending half: run the send job or the resume, show their states, Pause/Cancel.

Why a part of its own: the page (:mod:`images_page`) is about what was dropped and what the
rules chose; this part only runs the workflows that send (:class:`SendJob` for a new send,
:class:`ResumedQueue` for what an earlier run left) in the worker pool, and shows their
answers: the bar, each series' state, and, when a job's files are gone, the offer to drop it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QMessageBox, QPushButton, QWidget

from nccid_desktop.dicom.select.rules import Selection
from nccid_desktop.errors import NccidError
from nccid_desktop.gui.context import AppContext
from nccid_desktop.gui.forms.images_page import Ui_ImagesPage
from nccid_desktop.gui.icons import icon
from nccid_desktop.gui.images_tree import (
    PHASE_ICONS,
    SERIES_UID_ROLE,
    STATUS_COLUMN,
    build_queue_model,
)
from nccid_desktop.gui.workers import Worker
from nccid_desktop.tasks import Progress
from nccid_desktop.uk_dates import uk_date_time
from nccid_desktop.workflows.job_ending import JobEnding
from nccid_desktop.workflows.resume import ResumeOutcome, ResumeRun, drop_job
from nccid_desktop.workflows.resumed_queue import ResumedQueue, load_queue
from nccid_desktop.workflows.send_job import SendJob
from nccid_desktop.workflows.send_progress import SeriesProgress
from nccid_desktop.workflows.words import plural
from nccid_desktop.workflows.work_folders import WorkFolders


class ImageSending:
    """Mixed into :class:`ImagesPage`: everything from Send to the last answer."""

    form: Ui_ImagesPage
    context: AppContext
    selection: Selection | None
    worker: Worker | None
    job: SendJob | None
    queue: ResumedQueue | None
    resume_run: ResumeRun | None
    status_items: dict[str, QStandardItem]
    _send_when_loaded: bool

    def _show_tree(self, model) -> None:  # provided by the page
        raise NotImplementedError

    def enter(self, state, heading: str = "") -> None:  # provided by the page
        raise NotImplementedError

    def _folders(self) -> WorkFolders:
        return WorkFolders.under(self.context.data_dir)

    # --- a new send ------------------------------------------------------------------------
    def send(self) -> None:
        """Plan the job (journaled by its first run, before any file is touched) and run it."""
        if self.selection is None or self.context.keys is None:
            return
        self.job = SendJob.plan_send(self.selection, self.context.keys,
                                     self.context.options.linking, self.context.require_client(),
                                     self.context.outbox, self._folders())
        self._run_job()

    def _run_job(self) -> None:
        assert self.job is not None
        series = plural(len(self.job.decisions), "series")
        self.enter("uploading", f"De-identifying and sending {series}: each series' progress "
                   "is in the Status column.")
        self.form.progressPanel.start("De-identifying and sending…", can_pause=True)
        self.worker = self.context.pool.run(
            self.job.task, name="send-images", on_result=self._sent, on_error=self._failed,
            on_progress=self._progress, on_cancelled=self._send_cancelled)

    def _progress(self, progress: Progress) -> None:
        pausing = (self.job is not None and self.job.pause_requested) or (
            self.resume_run is not None and self.resume_run.paused)
        if pausing:
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
        upload = job.upload
        panel = self.form.progressPanel
        sent = plural(job.images_sent, "image")
        self._show_patients_sent()
        if job.paused:
            self.enter("failed", f"Paused: {sent} sent so far.")
            panel.pause(f"Paused: {sent} sent so far. Nothing is lost: press Resume to carry on.")
            return
        if upload.problems or job.sources_gone:
            self.enter("failed", f"{sent} sent on {uk_date_time(datetime.now())}; not all: "
                       "the Status column says which series and why.")
        else:
            self.enter("done", f"{sent} sent on {uk_date_time(datetime.now())}. Drop the next "
                       "folder to send more.")
        if job.sources_gone:
            panel.fail(job.ending().describe(), can_retry=True,
                       headline=f"{plural(job.sources_gone, 'file')} no longer found")
            self._offer_drop([job.ending()])
        elif upload.problems:
            panel.fail(f"{sent} sent; {upload.failed} refused. {upload.problems[0]}",
                       can_retry=False, headline=f"{upload.failed} refused by the service")
        else:
            panel.succeed(f"{sent} de-identified and sent.", headline=f"{sent} sent")

    def _show_patients_sent(self) -> None:
        """Each patient row said how many series *will be* sent; now it says how many were."""
        model = self.form.seriesTree.model()
        if self.job is None or not isinstance(model, QStandardItemModel):
            return
        by_uid = {d.series.series_uid: s for d, s in zip(self.job.decisions,
                                                         self.job.series.values(), strict=True)}
        for row in range(model.rowCount()):
            patient = model.item(row, 0)
            status = model.item(row, STATUS_COLUMN)
            if patient is None or status is None:
                continue
            uids = [patient.child(s, 0).child(r, 0).data(SERIES_UID_ROLE)
                    for s in range(patient.rowCount()) for r in range(patient.child(s, 0).rowCount())]
            sent = sum(1 for uid in uids if uid in by_uid and by_uid[uid].phase == "sent"
                       and by_uid[uid].sent)
            status.setText(f"{sent} of {plural(len(uids), 'series')} sent")
            status.setToolTip(status.text())

    def _failed(self, error: NccidError) -> None:
        self.worker, self.resume_run = None, None
        self._show_series_states()
        sending = self.job is not None or self.queue is not None
        self.enter("failed", "Sending stopped: press Retry when the problem below is solved."
                   if sending else "The images could not be scanned: see below.")
        self.form.progressPanel.fail(
            str(error), can_retry=sending,
            headline="Sending stopped: nothing is lost" if sending else "Stopped: see below")
        self.form.sendButton.setEnabled(self.selection is not None and self.job is None)

    def _send_cancelled(self) -> None:
        self.worker = None
        self._show_series_states()
        self.job, self.resume_run = None, None
        self.enter("ready" if self.selection is not None and self.selection.included
                   else "failed", "Sending cancelled: images already sent stay sent. Press "
                   "Send to send the rest.")
        self.form.progressPanel.cancelled("Cancelled. Images already sent stay sent; nothing "
                                          "half-done was kept.")

    def _cancelled(self) -> None:
        self.worker = None
        self.enter("empty")
        self.form.progressPanel.cancelled("Scan cancelled.")

    def pause(self) -> None:
        """Stop after the batch in flight, keeping the job; Resume carries on from there."""
        if self.worker is None:
            return
        if self.job is not None or self.resume_run is not None:
            (self.job or self.resume_run).request_pause()  # type: ignore[union-attr]
            self.form.progressPanel.say("Pausing after the batch in flight…")
        else:
            self.worker.cancel()

    def cancel(self) -> None:
        """The user's Cancel: a send job is closed (not offered again), a scan just stops."""
        if self.worker is not None:
            if self.job is not None:
                self.job.request_cancel()
            self.worker.cancel()

    def resume(self) -> None:
        """Carry on a paused or failed send (or the unfinished work found at start-up, whose
        series are shown first)."""
        if self.worker is not None:
            return
        if self.job is not None:
            self._run_job()
        elif self.queue is None:
            self.show_unfinished(then_send=True)
        else:
            self._send_queue()

    # --- what an earlier run left ----------------------------------------------------------
    def show_unfinished(self, *, then_send: bool = False) -> None:
        """Show the series an earlier run left (the journal is read by a worker); finish
        them at once when ``then_send``, else when the user presses Resume."""
        if self.worker is not None:
            return
        self._send_when_loaded = then_send
        self.form.sendButton.setEnabled(False)
        self.form.progressPanel.start("Reading what an earlier run left to send…",
                                      can_cancel=False)
        outbox = self.context.outbox
        self.worker = self.context.pool.run(
            lambda _progress, _cancel: load_queue(outbox), name="read-queue",
            on_result=self._queue_loaded, on_error=self._failed)

    def _queue_loaded(self, queue: ResumedQueue) -> None:
        self.worker, self.queue, self.job = None, queue, None
        if queue.rows:
            model, self.status_items = build_queue_model(queue)
            self._show_tree(model)
            never = queue.left.files_to_deidentify
            self.form.summary.setText(
                f"{plural(len(queue.rows), 'series')} ({plural(queue.images, 'image')} to send) "
                "left unfinished by an earlier run"
                + (f"; {plural(never, 'file')} still to be de-identified first." if never
                   else ", de-identified then and sent as they are."))
        if self._send_when_loaded:
            self._send_queue()
        else:
            self.form.progressPanel.pause(f"{plural(queue.images, 'image')} from an earlier run "
                                          "wait to be sent: press Resume to send them.")

    def _send_queue(self) -> None:
        assert self.queue is not None
        try:
            client = self.context.require_client()
            keys = self.context.keys
            if keys is None:
                raise NccidError("Sign in again to carry on.")
        except NccidError as error:  # signed out meanwhile: say so, keep the queue
            self._failed(error)
            return
        self.resume_run = self.queue.run(client, keys, self._folders())
        self.form.progressPanel.start("Sending unfinished work…", can_pause=True)
        self.worker = self.context.pool.run(
            self.queue.task(self.resume_run), name="resume-queue", on_result=self._queue_sent,
            on_error=self._failed, on_progress=self._progress,
            on_cancelled=self._send_cancelled)

    def _queue_sent(self, outcome: ResumeOutcome) -> None:
        self.worker = None
        self._show_series_states()
        paused, self.resume_run = self.resume_run is not None and self.resume_run.paused, None
        report, panel = outcome.upload, self.form.progressPanel
        sent = f"{plural(outcome.records_sent, 'record')} and " \
               f"{plural(outcome.images_sent, 'image')} sent."
        unfinished = outcome.unfinished_jobs
        if paused:
            panel.pause(f"Paused: {sent} Nothing is lost: press Resume to carry on.")
        elif report.problems:
            panel.fail(f"{sent} {report.failed} refused: {report.problems[0]}", can_retry=False)
        elif unfinished:
            panel.fail(" ".join([sent] + [e.describe() for e in unfinished]), can_retry=True,
                       headline="Sent what could be sent: see below")
        else:
            self.enter("done", f"Unfinished work sent on {uk_date_time(datetime.now())}.")
            panel.succeed(sent)
        gone = outcome.sources_gone
        if gone and not paused:
            self._offer_drop(gone)

    def _offer_drop(self, endings: list[JobEnding]) -> None:
        """Files of a job are gone: keep the job for when they are back, or drop it."""
        parent = self if isinstance(self, QWidget) else None
        box = QMessageBox(QMessageBox.Icon.Warning, "Files no longer found",
                          "\n\n".join(e.describe() for e in endings)
                          + "\n\nKeep the job to finish it when the files are back, or drop it?",
                          parent=parent)
        drop = box.addButton("&Drop the job", QMessageBox.ButtonRole.DestructiveRole)
        keep: QPushButton = box.addButton("&Keep it", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.exec()
        if box.clickedButton() is drop:
            self.job = None  # a Retry now finishes whatever else is left, not this job
            outbox, ids = self.context.outbox, [e.job.id for e in endings]
            panel = self.form.progressPanel
            self.context.pool.run(
                lambda _p, _c: [drop_job(outbox, job_id) for job_id in ids], name="drop-job",
                on_error=lambda error: panel.fail(str(error), can_retry=False),
                on_result=lambda dropped: panel.say(
                    f"Dropped {plural(len(dropped), 'job')}: the files that were gone will "
                    "not be looked for again."))
