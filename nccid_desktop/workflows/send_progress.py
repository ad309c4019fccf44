"""What a send shows while it works: one overall bar and a live state per series.

Why one bar over two kinds of work: de-identifying and sending are both slow, and a bar that
fills during de-identification and then sits at 100% while the server stores the images is
the complaint users make most about uploaders. So the bar counts bytes: source bytes
de-identified plus bytes the service has acknowledged, out of both totals. The sending total
starts as an estimate (the source sizes) and is corrected to the staged sizes as soon as each
chunk is de-identified, so the bar reaches its end only with the service's last answer.

Qt-free: the job updates these values on a worker thread; Send Images reads them to repaint,
the command line prints the bar.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from nccid_desktop.tasks import Progress, ProgressCallback
from nccid_desktop.transport.job_journal import JobSeries
from nccid_desktop.workflows.words import plural, readable_size

#: ``queued``: de-identified in an earlier run and waiting in the outbox to be sent.
Phase = Literal["waiting", "queued", "deidentifying", "sending", "sent", "paused", "stopped"]


#: How a file that was not sent is named in a series' status, by de-identification status.
NOT_SENT_LABELS = {"held_back": "held back", "duplicate": "duplicate", "quarantined":
                   "quarantined", "refused": "refused", "unreadable": "unreadable",
                   "failed": "failed"}


@dataclass
class SeriesProgress:
    """What happened so far to one series' files (shown in its Status column)."""

    files: int
    counts: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    sent: int = 0
    failed_upload: int = 0
    missing: int = 0
    phase: Phase = "waiting"

    @classmethod
    def journaled(cls, row: JobSeries, answered: Mapping[str, int] | None = None
                  ) -> SeriesProgress:
        """A series of a journaled job as the journal left it; ``answered`` counts its staged
        images by state."""
        answered = answered or {}
        state = cls(row.files, Counter(row.outcomes), Counter(row.reasons),
                    sent=answered.get("acknowledged", 0), failed_upload=answered.get("failed", 0),
                    missing=row.missing)
        state.settle("queued" if state.deidentified > state.sent else None)
        return state

    @property
    def pending(self) -> int:
        """Files not yet de-identified (nor refused by the de-identifier)."""
        return self.files - sum(self.counts.values())

    @property
    def deidentified(self) -> int:
        return self.counts["deidentified"]

    @property
    def to_send(self) -> int:
        """Files that are, or will be, de-identified and sent (not refused by the de-identifier)."""
        return self.deidentified + self.pending

    @property
    def finished(self) -> bool:
        return not self.pending and self.sent + self.failed_upload >= self.deidentified

    def settle(self, interrupted: Phase | None = None) -> None:
        """The phase after a run: done when every file has its answer, else ``interrupted``."""
        if self.finished:
            self.phase = "sent"
        elif interrupted is not None:
            self.phase = interrupted

    def describe(self) -> str:
        done = self.deidentified
        head = {
            "waiting": f"Waiting ({self.sent} of {self.to_send} sent)" if done else "Waiting",
            "queued": f"Queued ({self.sent} of {self.to_send} sent)",
            "deidentifying": f"De-identifying ({self.files - self.pending} of {self.files} done)",
            "sending": f"Sending ({self.sent} of {done} sent)",
            "sent": f"Sent {self.sent} of {done}" if done else "Not sent",
            "paused": f"Paused ({self.sent} of {self.files} sent)",
            "stopped": f"Stopped ({self.sent} of {self.files} sent)",
        }[self.phase]
        parts = [head]
        if self.failed_upload:
            parts.append(f"{self.failed_upload} refused by the service")
        if self.missing:
            parts.append(f"{plural(self.missing, 'file')} no longer found")
        refused = self.files - self.pending - done
        if refused:
            kinds = ", ".join(f"{self.counts[status]} {label}"
                              for status, label in NOT_SENT_LABELS.items()
                              if self.counts[status])
            reason = self.reasons.most_common(1)[0][0] if self.reasons else ""
            parts.append(f"{refused} not sent ({kinds}): {reason}".rstrip(": ") if kinds
                         else f"{refused} not sent: {reason}".rstrip(": "))
        return "; ".join(parts)


@dataclass
class OverallBar:
    """One bar in bytes: de-identified source bytes plus acknowledged bytes."""

    report: ProgressCallback
    deid_total: int = 0
    send_total: int = 0
    deid_done: int = 0
    acknowledged: int = 0
    message: str = ""

    @property
    def done(self) -> int:
        return self.deid_done + self.acknowledged

    @property
    def total(self) -> int:
        return self.deid_total + self.send_total

    def show(self, message: str | None = None) -> None:
        if message is not None:
            self.message = message
        self.report(Progress(min(self.done, self.total), self.total, self.message))

    def deidentifying(self, chunk_sizes: list[int], base: int):
        """A progress callback for :func:`deidentify_batch` (which counts files) over one chunk
        whose files have ``chunk_sizes``; ``base`` is the bytes done before the chunk."""
        running = [0]
        for size in chunk_sizes:
            running.append(running[-1] + size)

        def update(progress: Progress) -> None:
            self.deid_done = base + running[min(progress.done, len(chunk_sizes))]
            self.show(f"De-identified {progress.done} of {len(chunk_sizes)} files"
                      if chunk_sizes else None)

        return update

    def chunk_staged(self, estimated: int, staged: int) -> None:
        """Replace a chunk's estimated sending bytes with what was really staged."""
        self.send_total += staged - estimated

    def answered(self, size: int, sent_images: int, kind: str = "image") -> None:
        self.acknowledged += size
        told = (f"{readable_size(self.acknowledged)} of {readable_size(self.send_total)} "
                "acknowledged by the service")
        self.show(f"{told} ({sent_images} images)" if kind == "image" else told)

