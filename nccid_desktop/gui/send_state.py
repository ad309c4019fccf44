"""What Send Images shows while it works: one overall bar and a live state per series.

Why one bar over two kinds of work: de-identifying and sending are both slow, and a bar that
fills during de-identification and then sits at 100% while the server stores the images is
the complaint users make most about uploaders. So the bar counts bytes: source bytes
de-identified plus bytes the service has acknowledged, out of both totals. The sending total
starts as an estimate (the source sizes) and is corrected to the staged sizes as soon as each
chunk is de-identified, so the bar reaches its end only with the service's last answer.

Qt-free: the job updates these values on a worker thread; the page reads them to repaint.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from nccid_desktop.tasks import Progress, ProgressCallback

#: ``queued``: de-identified in an earlier run and waiting in the outbox to be sent.
Phase = Literal["waiting", "queued", "deidentifying", "sending", "sent", "paused", "stopped"]


@dataclass
class SeriesProgress:
    """What happened so far to one series' files (shown in its Status column)."""

    files: int
    counts: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    new_uids: list[str] = field(default_factory=list, repr=False)
    sent: int = 0
    failed_upload: int = 0
    phase: Phase = "waiting"

    @property
    def pending(self) -> int:
        """Files not yet de-identified (nor refused by the de-identifier)."""
        return self.files - sum(self.counts.values())

    @property
    def deidentified(self) -> int:
        return self.counts["deidentified"]

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
            "waiting": "Waiting",
            "queued": f"Queued ({self.sent} of {done} sent)",
            "deidentifying": f"De-identifying ({self.files - self.pending} of {self.files} done)",
            "sending": f"Sending ({self.sent} of {done} sent)",
            "sent": f"Sent {self.sent} of {done}" if done else "Not sent",
            "paused": f"Paused ({self.sent} of {self.files} sent)",
            "stopped": f"Stopped ({self.sent} of {self.files} sent)",
        }[self.phase]
        parts = [head]
        if self.failed_upload:
            parts.append(f"{self.failed_upload} refused by the service")
        refused = self.files - self.pending - done
        if refused:
            reason = self.reasons.most_common(1)[0][0] if self.reasons else ""
            parts.append(f"{refused} not sent: {reason}".rstrip(": "))
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

    def answered(self, size: int, sent_images: int) -> None:
        self.acknowledged += size
        self.show(f"{readable_size(self.acknowledged)} of {readable_size(self.send_total)} "
                  f"acknowledged by the service ({sent_images} images)")


def readable_size(size: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return ""
