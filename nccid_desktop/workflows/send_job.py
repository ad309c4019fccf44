"""Send images as one resumable job: de-identify and send in chunks; pause, resume, cancel.

Why a job, journaled first: a send of 2,000 files takes long enough for the workstation to be
switched off in the middle. The first run of :meth:`SendJob.task` writes the job down
(:mod:`job_plan`: the exact files, sealed, and its series), then works through it in chunks
(de-identify, stage, journal how far it got, send the queue), so one bar and the series states
move through both kinds of work. After a crash at any moment :meth:`SendJob.resume` finishes
it; re-doing a chunk a crash cut short is harmless (a file gives the same de-identified
instance, which the outbox and the service each hold once). Pause stops after the batch in
flight with the job open; the user's Cancel (:meth:`request_cancel`) closes it; any other stop
(the window closing, a kill) leaves it open. Files not found when their turn comes are set
aside by position, the rest carry on, and the job waits for them until the user drops it.
Qt-free; nothing it logs or journals in the clear names a source file.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path

from nccid_desktop.dicom.deid.one_file import DISK_FULL, DeidContext, FileOutcome
from nccid_desktop.dicom.deid.pipeline import deidentify_batch
from nccid_desktop.dicom.scan.model import HOLD_REASONS
from nccid_desktop.dicom.select.rules import Selection, SeriesDecision
from nccid_desktop.errors import CancelledError, JournalError
from nccid_desktop.keys import SiteKeys
from nccid_desktop.pseudonym import LinkingIdentifier
from nccid_desktop.tasks import (
    NEVER_CANCELLED,
    CancelToken,
    EitherToken,
    ProgressCallback,
    no_progress,
)
from nccid_desktop.transport.client import CollectorClient
from nccid_desktop.transport.job_journal import JobState, JobSummary, SeriesProgressUpdate
from nccid_desktop.transport.outbox import JobLink, Outbox
from nccid_desktop.transport.stow import DEFAULT_BATCH_COUNT
from nccid_desktop.transport.uploader import (
    IMAGES_ONLY,
    BatchAnswered,
    Reauthenticate,
    Uploader,
    UploadReport,
)
from nccid_desktop.workflows.disk_space import (
    check_space,
    disk_full_error,
    job_needs,
    stop_cleanly_when_full,
)
from nccid_desktop.workflows.job_ending import JobEnding
from nccid_desktop.workflows.job_plan import (
    JobPlan,
    absent,
    journal_job,
    load_plan,
    plan_from_selection,
)
from nccid_desktop.workflows.job_position import JobPosition
from nccid_desktop.workflows.send_progress import OverallBar, Phase, SeriesProgress
from nccid_desktop.workflows.work_folders import WorkFolders

log = logging.getLogger(__name__)

#: Below this many files a process pool costs more than it saves.
INLINE_DEID_BELOW = 40
#: A chunk de-identified before its images are sent: big enough that starting the process
#: pool is a small cost, small enough that sending starts early in a large job.
CHUNK_FILES = 500
CHUNK_BYTES = 256 * 1024 * 1024
#: The hold code of an image whose identifier the outbox already holds for a different image.
UID_IN_OUTBOX = "uid_in_outbox"
#: Images per STOW request: Pause takes effect between two requests.
SEND_BATCH_COUNT = DEFAULT_BATCH_COUNT


class SendJob:
    """One journaled De-identify-and-send, resumable after Pause, a failure or a crash."""

    def __init__(self, job: JobSummary | None, plan: JobPlan, keys: SiteKeys,
                 client: CollectorClient, outbox: Outbox, folders: WorkFolders, *,
                 decisions: tuple[SeriesDecision, ...] = (),
                 reauthenticate: Reauthenticate | None = None) -> None:
        """``job`` None: a new job, journaled when its first run starts."""
        if plan.site != keys.site:
            raise JournalError(f"{job.label.capitalize() if job else 'This job'} was asked for "
                               f"site {plan.site}; sign in as a user of that site to finish it.")
        self.summary, self.plan, self.keys = job, plan, keys
        self.client, self.outbox, self.folders = client, outbox, folders
        self.decisions, self.reauthenticate = decisions, reauthenticate
        self.position = JobPosition(job, plan.files)
        self._series_of, states = outbox.job_images(job.id) if job else ({}, {})
        self.series = {row.number: SeriesProgress.journaled(row, states.get(row.number))
                       for row in plan.series}
        self.upload = UploadReport()  # what the last run sent
        self.paused = self.closed = False
        self._pause, self._user_cancelled = CancelToken(), False
        self.bar = OverallBar(no_progress)
        self.bar.deid_total = sum(plan.files[i].source.size for i in self.position.to_do())
        self.bar.send_total = -1  # known at the first run (the queue may hold earlier images)
        #: Called (on the job's thread) after each chunk is journaled and each batch answered.
        self.on_change: Callable[[], None] | None = None
        #: A pause of a larger run (a resume) that pauses this job too.
        self.pause_with: CancelToken = NEVER_CANCELLED

    @classmethod
    def plan_send(cls, selection: Selection, keys: SiteKeys, linking: LinkingIdentifier,
                  client: CollectorClient, outbox: Outbox, folders: WorkFolders, *,
                  reauthenticate: Reauthenticate | None = None) -> SendJob:
        """The send of ``selection``'s included series (no I/O: it is journaled by the first
        run of :meth:`task`, before any file is touched)."""
        return cls(None, plan_from_selection(selection, keys, linking), keys, client, outbox,
                   folders, decisions=selection.included, reauthenticate=reauthenticate)

    @classmethod
    def resume(cls, job: JobSummary, keys: SiteKeys, client: CollectorClient, outbox: Outbox,
               folders: WorkFolders, *,
               reauthenticate: Reauthenticate | None = None) -> SendJob:
        """An open job from the journal, ready to finish (its file list opened)."""
        return cls(job, load_plan(outbox, job), keys, client, outbox, folders,
                   reauthenticate=reauthenticate)

    def journal(self) -> int:
        """Write the job down (once); its id in the journal."""
        if self.summary is None:
            self.summary = self.outbox.jobs.get(journal_job(self.outbox, self.plan))
            log.info("Send job %d journaled: %d files in %d series", self.summary.id,
                     self.summary.files, len(self.plan.series))
            for number, codes in self.plan.included_by_user:  # codes only: no identifier
                log.info("Send job %d: series %d included by the user although left out as "
                         "%s", self.summary.id, number, ", ".join(codes))
        return self.summary.id

    @property
    def job_id(self) -> int:
        return self.summary.id if self.summary else 0

    @property
    def files(self) -> int:
        return len(self.plan.files)

    def ending(self) -> JobEnding:
        """How the last run left the job (finished, or open with files gone)."""
        self.journal()
        assert self.summary is not None
        return JobEnding(self.summary, self.closed, self.sources_gone)

    @property
    def images_sent(self) -> int:
        return sum(p.sent for p in self.series.values())

    @property
    def sources_gone(self) -> int:
        """Files of this job that could not be found (kept aside, the job left open)."""
        return len(self.position.missing)

    @property
    def pause_requested(self) -> bool:
        return self._pause.cancelled

    def request_pause(self) -> None:
        """Stop after the batch in flight; the next :meth:`task` carries on from there."""
        self._pause.cancel()

    def request_cancel(self) -> None:
        """The user cancels the job: when the run stops, the job is closed, not resumed."""
        self._user_cancelled = True

    def task(self, progress: ProgressCallback, cancel: CancelToken) -> SendJob:
        """Work through what is left of the job (a worker task: progress, cancel).

        A disk too small for what is left stops the run before anything is de-identified; a
        disk that fills up during the run stops it after the last file written whole. Either
        way the job stays open and the error names the folder and how much to free.
        """
        folders = (self.outbox.folder, self.outbox.staging, self.folders.work,
                   self.folders.quarantine)
        with stop_cleanly_when_full(folders, self._bytes_left):
            return self._run(progress, cancel)

    def _bytes_left(self) -> int:
        return sum(self.plan.files[i].source.size for i in self.position.to_do())

    def _check_space(self) -> None:
        """Stop before de-identifying when a folder's disk cannot hold what is left."""
        to_do = self.position.to_do()
        if not to_do:
            return
        check_space(job_needs(staging=self.outbox.staging, work=self.folders.work,
                              journal=self.outbox.folder, to_do_bytes=self._bytes_left(),
                              to_do_files=len(to_do), chunk_bytes=CHUNK_BYTES))

    def _run(self, progress: ProgressCallback, cancel: CancelToken) -> SendJob:
        self.journal()
        self._check_space()
        self._pause = EitherToken(self.pause_with)  # a Pause holds for one run
        self.paused, self.upload = False, UploadReport()
        if self.bar.send_total < 0:
            self.bar.send_total = self.bar.deid_total + self.outbox.pending_bytes("image")
        self.bar.report = progress
        self.bar.show("Preparing…")
        run_dir = self.folders.run_folder()
        try:
            work = self._work_list()
            while True:
                if work and not self._pause.cancelled:
                    chunk = work[:self.position.chunk_length(work, CHUNK_FILES, CHUNK_BYTES)]
                    work = work[self._deidentify(chunk, run_dir, cancel):]
                self._send(cancel)
                if self._pause.cancelled or not work:
                    break
        except BaseException as error:
            self._settle("stopped")
            if isinstance(error, CancelledError) and self._user_cancelled:
                self._close("cancelled")
            raise
        finally:
            shutil.rmtree(run_dir, ignore_errors=True)
        if self.position.complete:
            self._close("done")
        self.paused = self._pause.cancelled and bool(
            work or self.outbox.count_pending("image"))
        self._settle("paused" if self.paused else None)
        return self

    # --- one chunk -------------------------------------------------------------------------
    def _work_list(self) -> list[int]:
        """The files to process in this run; those that cannot be found are set aside."""
        work, gone = self.position.work_list()
        for state in self.series.values():
            state.missing = 0
        for index in self.position.missing:
            self.series[self.plan.files[index].series].missing += 1
        if gone:
            log.warning("Send job %d: %d files can no longer be found", self.job_id, len(gone))
            self._record([], set())
        return work

    def _deidentify(self, chunk: list[int], run_dir: Path, cancel: CancelToken) -> int:
        """De-identify and stage ``chunk``; journal how far the job got; how many were done."""
        files = [self.plan.files[index] for index in chunk]
        for number in {f.series for f in files}:
            self.series[number].phase = "deidentifying"
        sizes = [f.source.size for f in files]
        base = self.bar.deid_done
        report = deidentify_batch(
            [f.source for f in files], run_dir, DeidContext(self.keys, self.plan.linking),
            quarantine_dir=self.folders.quarantine,
            workers=1 if len(files) < INLINE_DEID_BELOW else None,
            progress=self.bar.deidentifying(sizes, base), cancel=EitherToken(cancel, self._pause))
        outcomes = report.outcomes
        full = next((n for n, o in enumerate(outcomes) if o.code == DISK_FULL), None)
        if full is not None:  # that file and those after it are done again on Resume
            outcomes = outcomes[:full]
        done = chunk[:len(outcomes)]
        vanished = absent(self.plan.files, [i for i, outcome in zip(done, outcomes,
                                                                    strict=False)
                                            if outcome.status == "unreadable"])
        staged = sum(self._stage(index, outcome, vanished)
                     for index, outcome in zip(done, outcomes, strict=False))
        self._record(done, vanished)
        processed_size = sum(sizes[:len(done)])
        self.bar.deid_done = base + processed_size
        self.bar.chunk_staged(processed_size, staged)
        for number in {self.plan.files[i].series for i in done}:
            state = self.series[number]
            state.phase = "sent" if state.finished else "sending"
        log.info("De-identified %d files (%s); %d left", len(done),
                 ", ".join(f"{k} {v}" for k, v in report.counts.items()),
                 self.position.left())
        if full is not None:
            raise disk_full_error(run_dir.parent, self._bytes_left())
        if report.cancelled and cancel.cancelled:
            raise CancelledError("De-identified files are kept and will be sent on resume.")
        return len(done)

    def _stage(self, index: int, outcome: FileOutcome, vanished: set[int]) -> int:
        """Count one file's outcome and queue it if de-identified; the bytes staged."""
        number = self.plan.files[index].series
        state = self.series[number]
        if index in vanished:
            state.missing += 1
            return 0
        if outcome.status == "deidentified" and outcome.output and outcome.sop_instance_uid:
            staged = self.outbox.stage_image(
                outcome.sop_instance_uid, outcome.pseudonym or "", outcome.output, move=True,
                expected_size=outcome.bytes, job=JobLink(self.job_id, number),
                content_key=outcome.output_key)
            if staged != "conflict":
                state.counts[outcome.status] += 1
                self._series_of[outcome.sop_instance_uid] = number
                return outcome.bytes
            log.warning("Send job %d: an image was held back: a different image with its "
                        "identifier was sent or queued before", self.job_id)
            state.counts["held_back"] += 1
            state.reasons[HOLD_REASONS[UID_IN_OUTBOX]] += 1
            return 0
        state.counts[outcome.status] += 1
        state.reasons[outcome.message] += 1
        return 0

    def _record(self, done: list[int], vanished: set[int]) -> None:
        """Journal the job's progress after a chunk (files processed, aside, per series)."""
        position = self.position
        position.processed_chunk(done, vanished)
        touched = {self.plan.files[i].series for i in done} | {
            self.plan.files[i].series for i in position.missing}
        self.outbox.jobs.record_progress(
            self.job_id, processed=position.processed, processed_bytes=position.processed_bytes,
            missing=position.journaled_missing(), series={
                number: SeriesProgressUpdate(sum(self.series[number].counts.values()),
                                             self.series[number].missing,
                                             self.series[number].counts,
                                             self.series[number].reasons)
                for number in touched})
        if self.on_change is not None:
            self.on_change()

    # --- sending ---------------------------------------------------------------------------
    def _send(self, cancel: CancelToken) -> None:
        report = Uploader(self.client, self.outbox, reauthenticate=self.reauthenticate,
                          image_batch_count=SEND_BATCH_COUNT).run(
            cancel=cancel, kinds=IMAGES_ONLY, on_batch=self._answered, pause=self._pause)
        self.upload.add(report)

    def _answered(self, answer: BatchAnswered) -> None:
        for keys, attribute in ((answer.acknowledged, "sent"), (answer.refused, "failed_upload")):
            for uid in keys:
                number = self._series_of.get(uid)
                if number is not None:
                    state = self.series[number]
                    setattr(state, attribute, getattr(state, attribute) + 1)
                    if state.finished:
                        state.phase = "sent"
        self.bar.answered(answer.bytes, self.images_sent)
        if self.on_change is not None:
            self.on_change()

    # --- endings ---------------------------------------------------------------------------
    def _settle(self, interrupted: Phase | None) -> None:
        for state in self.series.values():
            state.settle(interrupted)

    def _close(self, state: JobState) -> None:
        if not self.closed:
            self.outbox.jobs.close_job(self.job_id, state)
            self.closed = True
            log.info("Send job %d %s", self.job_id, state)
