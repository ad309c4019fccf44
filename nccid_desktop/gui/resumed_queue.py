"""Resuming the queue an earlier run left: which series it holds, and what becomes of them.

Why: after a crash or a closed window the app offers to send what is left, and PACS staff
expect to see what that is, series by series, as in a live send, not only a bar. The outbox
journals each image's de-identified study and series, so the rows come from the journal
(never from the source files, which may be gone): one per series under its pseudonym, the only
patient label there is. After every batch the service answers, the counts are read again from
the journal, so "n of m sent" is what the journal says, not a second tally kept here.

Qt-free: the task runs on a worker thread and replaces :attr:`ResumedQueue.series` whole after
each answer; the page reads it to repaint.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from nccid_desktop.gui.send_state import Phase, SeriesProgress
from nccid_desktop.tasks import CancelToken, ProgressCallback
from nccid_desktop.transport.client import CollectorClient
from nccid_desktop.transport.outbox import Outbox
from nccid_desktop.transport.staged_series import SeriesCount
from nccid_desktop.transport.uploader import BatchAnswered, Uploader, UploadReport

#: How many trailing digits of a de-identified UID tell its rows apart on screen.
SHORT_UID_DIGITS = 6
EARLIER_IMAGES = "Earlier images (series not recorded)"
NO_PSEUDONYM = "(pseudonym not recorded)"


def short_uid(uid: str) -> str:
    """``…482913``: enough of a long ``2.25.`` UID to tell two series apart."""
    return "…" + uid[-SHORT_UID_DIGITS:]


def row_key(count: SeriesCount) -> str:
    """The on-screen row of one series (display only: never logged nor stored)."""
    return "/".join(part or "" for part in count.key)


def patient_label(count: SeriesCount) -> str:
    return count.pseudonym or NO_PSEUDONYM


def study_label(count: SeriesCount) -> str:
    return f"Study {short_uid(count.study_uid)}" if count.study_uid else "Study (not recorded)"


def series_label(count: SeriesCount) -> str:
    if count.series_uid is None:
        return EARLIER_IMAGES
    return f"{count.modality or 'Image'} series {short_uid(count.series_uid)}"


def load_queue_task(outbox: Outbox):
    """A worker task: the series with images still to send, as the journal counts them."""

    def task(_progress: ProgressCallback, _cancel: CancelToken) -> ResumedQueue:
        return ResumedQueue.from_counts(outbox, outbox.image_series())

    return task


@dataclass
class ResumedQueue:
    """The rows of a resumed queue and each one's state while the queue is sent."""

    outbox: Outbox
    rows: tuple[SeriesCount, ...]
    series: dict[str, SeriesProgress] = field(default_factory=dict)
    _sent_at_start: dict[str, int] = field(default_factory=dict, repr=False)

    @classmethod
    def from_counts(cls, outbox: Outbox, counts: list[SeriesCount]) -> ResumedQueue:
        queue = cls(outbox, tuple(counts))
        queue._show(counts, running=False)
        return queue

    @property
    def images(self) -> int:
        return sum(row.pending for row in self.rows)

    @property
    def images_sent(self) -> int:
        return sum(state.sent for state in self.series.values())

    def send_task(self, client: CollectorClient):
        """A worker task sending everything the outbox holds (records too, as the resume did
        before), repainting the rows after each answer."""

        def task(progress: ProgressCallback, cancel: CancelToken) -> UploadReport:
            self._sent_at_start = {row_key(c): c.sent for c in self.rows}
            self._refresh(running=True)
            try:
                report = Uploader(client, self.outbox).run(progress, cancel,
                                                           on_batch=self._answered)
            except BaseException:
                self._refresh(running=False, interrupted="stopped")
                raise
            self._refresh(running=False)
            return report

        return task

    def _answered(self, answer: BatchAnswered) -> None:
        if answer.kind == "image":
            self._refresh(running=True)

    def _refresh(self, *, running: bool, interrupted: Phase | None = None) -> None:
        shown = {row_key(row) for row in self.rows}
        counts = [c for c in self.outbox.image_series(pending_only=False) if row_key(c) in shown]
        self._show(counts, running=running, interrupted=interrupted)

    def _show(self, counts: list[SeriesCount], *, running: bool,
              interrupted: Phase | None = None) -> None:
        """Queued until its images go; sending while they go (the first unfinished series,
        since the outbox sends in the order it queued, or one with answers this run); sent
        when every image has its answer; ``interrupted`` if the run stopped first."""
        states: dict[str, SeriesProgress] = {}
        first_unfinished = next((row_key(c) for c in counts if c.pending), None)
        for count in counts:
            key = row_key(count)
            state = SeriesProgress(count.total, Counter(deidentified=count.total),
                                   sent=count.sent, failed_upload=count.refused)
            moved = count.sent > self._sent_at_start.get(key, count.sent)
            if state.finished:
                state.phase = "sent"
            elif interrupted is not None:
                state.phase = interrupted
            elif running and (key == first_unfinished or moved):
                state.phase = "sending"
            else:
                state.phase = "queued"
            states[key] = state
        self.series = states
