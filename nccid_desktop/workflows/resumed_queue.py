"""What Send Images shows of the work an earlier run left: its series, and what becomes of them.

Why from the journal: after a crash or a closed window the app offers to finish, and PACS
staff expect to see what that is, series by series, as in a live send, not only a bar. The
source files may be gone, so the rows come from the journal: the item journal names each
staged image's series (pseudonym, de-identified study and series), and each unfinished job
names its series the same way, with how many of their files were never de-identified. One
row per series under its pseudonym, the only patient label there is. While the resume runs
(:class:`ResumedQueue.task`, a :class:`ResumeRun`), the rows are read again from the journal
after every chunk and every answered batch, so "n of m sent" is what the journal says, not a
second tally kept here.

Qt-free: the task runs on a worker thread and replaces :attr:`ResumedQueue.series` whole after
each change; the page reads it to repaint.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from nccid_desktop.keys import SiteKeys
from nccid_desktop.tasks import CancelToken, ProgressCallback
from nccid_desktop.transport.client import CollectorClient
from nccid_desktop.transport.job_journal import JobSeries
from nccid_desktop.transport.outbox import Outbox
from nccid_desktop.transport.staged_series import SeriesCount
from nccid_desktop.transport.uploader import Reauthenticate
from nccid_desktop.workflows.resume import ResumeOutcome, ResumeRun, Unfinished, unfinished
from nccid_desktop.workflows.send_progress import Phase, SeriesProgress
from nccid_desktop.workflows.work_folders import WorkFolders

#: How many trailing digits of a de-identified UID tell its rows apart on screen.
SHORT_UID_DIGITS = 6
EARLIER_IMAGES = "Earlier images (series not recorded)"
NO_PSEUDONYM = "(pseudonym not recorded)"

RowKey = tuple[str, str | None, str | None]


def short_uid(uid: str) -> str:
    """``…482913``: enough of a long ``2.25.`` UID to tell two series apart."""
    return "…" + uid[-SHORT_UID_DIGITS:]


@dataclass(frozen=True)
class QueueRow:
    """One series left unfinished: its staged images (by state) and its files never staged."""

    pseudonym: str
    study_uid: str | None
    series_uid: str | None
    modality: str | None
    staged: SeriesCount | None = None
    job_series: tuple[JobSeries, ...] = ()

    @property
    def key(self) -> RowKey:
        return self.pseudonym, self.study_uid, self.series_uid

    @property
    def to_deidentify(self) -> int:
        return sum(s.to_do for s in self.job_series)

    @property
    def pending(self) -> int:
        """Images still to send: those staged and not answered, and those never staged."""
        return (self.staged.pending if self.staged else 0) + self.to_deidentify

    @property
    def total(self) -> int:
        return (self.staged.total if self.staged else 0) + self.to_deidentify

    @property
    def size(self) -> int:
        return self.staged.size if self.staged else 0

    def progress(self) -> SeriesProgress:
        """The row's counts as a series state (its phase is set by the caller)."""
        counts: Counter[str] = Counter()
        reasons: Counter[str] = Counter()
        for job in self.job_series:
            counts.update({k: v for k, v in job.outcomes.items() if k != "deidentified"})
            reasons.update(job.reasons)
        staged = self.staged
        counts["deidentified"] = staged.total if staged else 0
        return SeriesProgress(sum(counts.values()) + self.to_deidentify, counts, reasons,
                              sent=staged.sent if staged else 0,
                              failed_upload=staged.refused if staged else 0,
                              missing=sum(s.missing for s in self.job_series))


def row_key(row: QueueRow | SeriesCount) -> str:
    """The on-screen key of one series (display only: never logged nor stored)."""
    return "/".join(part or "" for part in row.key)


def patient_label(row: QueueRow) -> str:
    return row.pseudonym or NO_PSEUDONYM


def study_label(row: QueueRow) -> str:
    return f"Study {short_uid(row.study_uid)}" if row.study_uid else "Study (not recorded)"


def series_label(row: QueueRow) -> str:
    if row.series_uid is None:
        return EARLIER_IMAGES
    return f"{row.modality or 'Image'} series {short_uid(row.series_uid)}"


def queue_rows(outbox: Outbox, *, pending_only: bool = True) -> list[QueueRow]:
    """One row per series with something left: staged images first (in queue order), then
    series of unfinished jobs with files never staged."""
    staged = {count.key: count for count in outbox.image_series(pending_only=False)}
    jobs: dict[RowKey, list[JobSeries]] = {}
    for job in outbox.jobs.open_jobs():
        for series in outbox.jobs.series(job.id):
            jobs.setdefault(series.key, []).append(series)
    rows: list[QueueRow] = []
    for key in list(staged) + [k for k in jobs if k not in staged]:
        count = staged.get(key)
        modality = count.modality if count else jobs[key][0].modality
        row = QueueRow(key[0], key[1], key[2], modality, count, tuple(jobs.get(key, ())))
        if row.pending or not pending_only:
            rows.append(row)
    return rows


def load_queue(outbox: Outbox) -> ResumedQueue:
    """The series with something still to send, as the journal has them."""
    return ResumedQueue.from_rows(outbox, queue_rows(outbox), unfinished(outbox))


@dataclass
class ResumedQueue:
    """The rows of a resumed queue and each one's state while the queue is finished."""

    outbox: Outbox
    rows: tuple[QueueRow, ...]
    left: Unfinished
    series: dict[str, SeriesProgress] = field(default_factory=dict)
    _at_start: dict[str, tuple[int, int]] = field(default_factory=dict, repr=False)

    @classmethod
    def from_rows(cls, outbox: Outbox, rows: list[QueueRow], left: Unfinished) -> ResumedQueue:
        queue = cls(outbox, tuple(rows), left)
        queue._show(rows, running=False)
        return queue

    @property
    def images(self) -> int:
        return sum(row.pending for row in self.rows)

    @property
    def images_sent(self) -> int:
        return sum(state.sent for state in self.series.values())

    def run(self, client: CollectorClient, keys: SiteKeys, folders: WorkFolders, *,
            reauthenticate: Reauthenticate | None = None) -> ResumeRun:
        """The resume that finishes everything (records too), repainting after each change."""
        return ResumeRun(self.outbox, client, keys, folders, reauthenticate=reauthenticate,
                         on_change=lambda: self._refresh(running=True))

    def task(self, run: ResumeRun):
        """A worker task running ``run`` with the rows' states kept up to date."""

        def task(progress: ProgressCallback, cancel: CancelToken) -> ResumeOutcome:
            self._at_start = {row_key(r): (r.staged.sent if r.staged else 0, r.to_deidentify)
                              for r in self.rows}
            self._refresh(running=True)
            try:
                outcome = run.task(progress, cancel)
            except BaseException:
                self._refresh(running=False, interrupted="stopped")
                raise
            self._refresh(running=False, interrupted="paused" if run.paused else None)
            return outcome

        return task

    def _refresh(self, *, running: bool, interrupted: Phase | None = None) -> None:
        shown = {row_key(row) for row in self.rows}
        rows = [r for r in queue_rows(self.outbox, pending_only=False) if row_key(r) in shown]
        self._show(rows, running=running, interrupted=interrupted)

    def _show(self, rows: list[QueueRow], *, running: bool,
              interrupted: Phase | None = None) -> None:
        """Queued until its images go; de-identifying while its files are; sending while its
        images go (the first unfinished series, since the outbox sends in the order it
        queued, or one with answers this run); sent when every image has its answer;
        ``interrupted`` if the run stopped first."""
        states: dict[str, SeriesProgress] = {}
        first_unfinished = next((row_key(r) for r in rows if r.staged and r.staged.pending),
                                None)
        for row in rows:
            key = row_key(row)
            state = row.progress()
            sent_before, to_do_before = self._at_start.get(key, (state.sent, row.to_deidentify))
            if state.finished:
                state.phase = "sent"
            elif interrupted is not None:
                state.phase = interrupted
            elif running and row.to_deidentify and row.to_deidentify < to_do_before:
                state.phase = "deidentifying"
            elif running and (key == first_unfinished or state.sent > sent_before):
                state.phase = "sending"
            else:
                state.phase = "queued"
            states[key] = state
        self.series = states
