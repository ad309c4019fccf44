"""Finish what earlier runs left: queued records, staged images, and unfinished send jobs.

Why one workflow for ``nccid resume`` and the app's start-up offer: both must finish the
*whole* of every interrupted send, including the files a crash left never de-identified, and
both must say the same things about it. :class:`ResumeRun` sends the queued records, then
finishes each open job (:meth:`SendJob.resume`: it de-identifies what is left and sends the
queue after every chunk), then sends any image still queued (from a run before jobs were
journaled, or a job the user dropped). One bar covers all of it.

A job whose files are partly gone (a drive unplugged, a folder deleted) sends the rest and
stays open for them; :func:`drop_job` closes it when the user says so. A job is named by the
date and time it was asked for and its size, never by a folder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from nccid_desktop.errors import JournalError
from nccid_desktop.keys import SiteKeys
from nccid_desktop.tasks import CancelToken, ProgressCallback
from nccid_desktop.transport.client import CollectorClient
from nccid_desktop.transport.job_journal import JobSummary
from nccid_desktop.transport.outbox import ItemKind, Outbox
from nccid_desktop.transport.uploader import (
    IMAGES_ONLY,
    RECORDS_ONLY,
    BatchAnswered,
    BatchCallback,
    Reauthenticate,
    Uploader,
    UploadReport,
)
from nccid_desktop.workflows.disk_space import stop_cleanly_when_full
from nccid_desktop.workflows.job_ending import JobEnding
from nccid_desktop.workflows.send_job import SendJob
from nccid_desktop.workflows.send_progress import OverallBar
from nccid_desktop.workflows.work_folders import WorkFolders


@dataclass(frozen=True)
class Unfinished:
    """What earlier runs left, in counts (read from the journal without opening any plan)."""

    records: int
    images: int
    jobs: tuple[JobSummary, ...]

    @property
    def files_to_deidentify(self) -> int:
        return sum(job.to_do for job in self.jobs)

    @property
    def items(self) -> int:
        """Everything still to do: queued records and images, and files never staged."""
        return self.records + self.images + self.files_to_deidentify

    @property
    def images_to_send(self) -> int:
        return self.images + self.files_to_deidentify


def unfinished(outbox: Outbox) -> Unfinished:
    return Unfinished(outbox.count_pending("record"), outbox.count_pending("image"),
                      tuple(outbox.jobs.open_jobs()))


@dataclass
class ResumeOutcome:
    upload: UploadReport = field(default_factory=UploadReport)
    jobs: list[JobEnding] = field(default_factory=list)

    @property
    def images_sent(self) -> int:
        return self.upload.images_stored + self.upload.images_already_held

    @property
    def records_sent(self) -> int:
        return self.upload.records_stored + self.upload.records_unchanged

    @property
    def sources_gone(self) -> list[JobEnding]:
        return [ending for ending in self.jobs if ending.sources_gone]

    @property
    def unfinished_jobs(self) -> list[JobEnding]:
        return [ending for ending in self.jobs if not ending.finished]


class ResumeRun:
    """One resume: records, then every open job, then the images still queued."""

    def __init__(self, outbox: Outbox, client: CollectorClient, keys: SiteKeys,
                 folders: WorkFolders, *, reauthenticate: Reauthenticate | None = None,
                 on_change: Callable[[], None] | None = None) -> None:
        self.outbox, self.client, self.keys, self.folders = outbox, client, keys, folders
        self.reauthenticate, self.on_change = reauthenticate, on_change
        self.current: SendJob | None = None
        self._pause = CancelToken()

    def request_pause(self) -> None:
        """Stop after the batch in flight; what is left stays for the next resume."""
        self._pause.cancel()

    @property
    def paused(self) -> bool:
        return self._pause.cancelled

    def task(self, progress: ProgressCallback, cancel: CancelToken) -> ResumeOutcome:
        """Finish what is left; a full disk stops it with the folder and how much to free."""
        folders = (self.outbox.folder, self.outbox.staging, self.folders.work,
                   self.folders.quarantine)
        with stop_cleanly_when_full(folders, self.outbox.jobs.bytes_to_do):
            return self._run(progress, cancel)

    def _run(self, progress: ProgressCallback, cancel: CancelToken) -> ResumeOutcome:
        outcome = ResumeOutcome()
        self.outbox.recover()
        bar = OverallBar(progress)
        bar.deid_total = self.outbox.jobs.bytes_to_do()
        bar.send_total = bar.deid_total + self.outbox.pending_bytes()
        bar.show("Preparing…")

        images = [outcome.images_sent]

        def answered(answer: BatchAnswered) -> None:
            if answer.kind == "image":
                images[0] += len(answer.acknowledged)
            bar.answered(answer.bytes, images[0], answer.kind)
            if self.on_change is not None:
                self.on_change()

        self._upload(outcome, RECORDS_ONLY, answered, cancel)
        for job in self.outbox.jobs.open_jobs():
            if self._pause.cancelled:
                break
            outcome.jobs.append(self._finish(job, bar, outcome, progress, cancel))
        if not self._pause.cancelled:
            self._upload(outcome, IMAGES_ONLY, answered, cancel)
        outcome.upload.paused = self._pause.cancelled
        return outcome

    def _upload(self, outcome: ResumeOutcome, kinds: tuple[ItemKind, ...],
                answered: BatchCallback, cancel: CancelToken) -> None:
        report = Uploader(self.client, self.outbox, reauthenticate=self.reauthenticate).run(
            cancel=cancel, kinds=kinds, on_batch=answered, pause=self._pause)
        outcome.upload.add(report)

    def _finish(self, job: JobSummary, bar: OverallBar, outcome: ResumeOutcome,
                progress: ProgressCallback, cancel: CancelToken) -> JobEnding:
        try:
            send = SendJob.resume(job, self.keys, self.client, self.outbox, self.folders,
                                  reauthenticate=self.reauthenticate)
        except JournalError as error:
            return JobEnding(job, False, problem=str(error))
        send.bar, send.on_change, send.pause_with = bar, self.on_change, self._pause
        self.current = send
        try:
            send.task(progress, cancel)
        finally:
            self.current = None
            outcome.upload.add(send.upload)
        return send.ending()


def drop_job(outbox: Outbox, job_id: int) -> JobSummary:
    """Close an open job the user gives up on: its files not yet de-identified will not be
    looked for again (what it already queued is still sent)."""
    job = outbox.jobs.get(job_id)
    if job.state != "open":
        raise JournalError(f"{job.label.capitalize()} is not waiting to be finished.")
    outbox.jobs.close_job(job_id, "dropped")
    return job
