"""The background steps behind Send Images: scan, then de-identify, queue and send.

Why a job object: Pause and Resume must carry on where they stopped. :class:`SendJob` keeps
which source files are still to be de-identified and, per series, what happened to its files;
each run of :meth:`SendJob.task` de-identifies only what is left (outputs are deterministic,
the outbox ignores a file it already holds) and then sends the queue. Every step is a core
call; this module only orders them and counts. It is Qt-free and holds no source paths in
anything it logs.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from nccid_desktop.dicom.clinical_windows import ClinicalWindow
from nccid_desktop.dicom.deidentify import DeidContext
from nccid_desktop.dicom.model import ScanResult
from nccid_desktop.dicom.pipeline import deidentify_batch
from nccid_desktop.dicom.scan import scan
from nccid_desktop.dicom.select import Selection, SelectionInputs, SeriesDecision, select
from nccid_desktop.dicom.sources import SourceFile
from nccid_desktop.errors import CancelledError
from nccid_desktop.keys import SiteKeys
from nccid_desktop.pseudonym import LinkingIdentifier, remap_uid
from nccid_desktop.tasks import CancelToken, Progress, ProgressCallback
from nccid_desktop.transport.client import CollectorClient
from nccid_desktop.transport.outbox import Outbox
from nccid_desktop.transport.uploader import Uploader, UploadReport

log = logging.getLogger(__name__)

#: Below this many files a process pool costs more than it saves.
INLINE_DEID_BELOW = 40


@dataclass(frozen=True)
class ScanOutcome:
    result: ScanResult
    uploaded_uids: frozenset[str]


def scan_task(paths: list[Path], keys: SiteKeys | None, client: CollectorClient | None):
    """Scan what was dropped, then ask the service which of its images it already holds."""

    def task(progress: ProgressCallback, cancel: CancelToken) -> ScanOutcome:
        result = scan(paths, progress=progress, cancel=cancel)
        uploaded: frozenset[str] = frozenset()
        if keys is not None and client is not None and result.instance_count:
            progress(Progress(0, None, "Asking the service which images it already has"))
            remapped = [remap_uid(keys, f.sop_instance_uid)
                        for _, _, series in result.iter_series() for f in series.files]
            uploaded = frozenset(client.known_sop_instances(remapped, cancel))
        return ScanOutcome(result, uploaded)

    return task


def choose(outcome: ScanOutcome, keys: SiteKeys | None, linking: LinkingIdentifier,
           windows: dict[str, tuple[ClinicalWindow, ...]] | None,
           excluded: frozenset[str]) -> Selection:
    """The selection rules' decision for every series (cheap: headers are already read)."""
    return select(outcome.result, SelectionInputs(
        keys=keys, linking=linking, windows=windows if keys is not None else None,
        uploaded_uids=outcome.uploaded_uids if keys is not None else frozenset(),
        excluded_series=excluded))


@dataclass
class SeriesProgress:
    """What happened so far to one series' files (shown in its Status column)."""

    files: int
    counts: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    new_uids: list[str] = field(default_factory=list, repr=False)
    sent: int = 0
    failed_upload: int = 0

    def describe(self) -> str:
        done = self.counts["deidentified"]
        refused = self.files - done - self.pending
        if self.pending == self.files:
            return "Waiting"
        parts = []
        if self.sent:
            parts.append(f"Sent {self.sent} of {done}")
        elif done:
            parts.append(f"De-identified {done} of {self.files}")
        if self.failed_upload:
            parts.append(f"{self.failed_upload} refused by the service")
        if refused:
            reason = self.reasons.most_common(1)[0][0] if self.reasons else ""
            parts.append(f"{refused} not sent: {reason}".rstrip(": "))
        if self.pending:
            parts.append(f"{self.pending} still to do")
        return "; ".join(parts)

    @property
    def pending(self) -> int:
        return self.files - sum(self.counts.values())


@dataclass
class SendJob:
    """One De-identify-and-send, resumable after Pause, a failure or a cancel."""

    decisions: tuple[SeriesDecision, ...]
    keys: SiteKeys
    linking: LinkingIdentifier
    client: CollectorClient
    outbox: Outbox
    work_dir: Path
    series: dict[int, SeriesProgress] = field(default_factory=dict)
    remaining: list[tuple[int, SourceFile]] = field(default_factory=list, repr=False)
    upload: UploadReport | None = None

    @classmethod
    def plan(cls, selection: Selection, keys: SiteKeys, linking: LinkingIdentifier,
             client: CollectorClient, outbox: Outbox, work_dir: Path) -> SendJob:
        decisions = selection.included
        job = cls(decisions, keys, linking, client, outbox, work_dir)
        for number, decision in enumerate(decisions):
            job.series[number] = SeriesProgress(len(decision.files))
            job.remaining += [(number, f.source) for f in decision.files]
        return job

    @property
    def files(self) -> int:
        return sum(p.files for p in self.series.values())

    @property
    def images_sent(self) -> int:
        return sum(p.sent for p in self.series.values())

    def task(self, progress: ProgressCallback, cancel: CancelToken) -> SendJob:
        if self.remaining:
            self._deidentify(progress, cancel)
        cancel.raise_if_cancelled()
        self.upload = Uploader(self.client, self.outbox).run(progress, cancel)
        self._count_sent()
        return self

    def _deidentify(self, progress: ProgressCallback, cancel: CancelToken) -> None:
        batch = list(self.remaining)
        staging = self.work_dir / "deidentified"
        report = deidentify_batch(
            [source for _, source in batch], staging, DeidContext(self.keys, self.linking),
            quarantine_dir=self.work_dir / "quarantine",
            workers=1 if len(batch) < INLINE_DEID_BELOW else None,
            progress=progress, cancel=cancel)
        for (number, _), outcome in zip(batch, report.outcomes, strict=False):
            state = self.series[number]
            state.counts[outcome.status] += 1
            if outcome.status == "deidentified" and outcome.output and outcome.sop_instance_uid:
                self.outbox.stage_image(outcome.sop_instance_uid, outcome.pseudonym or "",
                                        outcome.output, move=True)
                state.new_uids.append(outcome.sop_instance_uid)
            else:
                state.reasons[outcome.message] += 1
        self.remaining = batch[len(report.outcomes):]
        log.info("De-identified %d files (%s); %d left", len(report.outcomes),
                 ", ".join(f"{k} {v}" for k, v in report.counts.items()), len(self.remaining))
        if report.cancelled:
            raise CancelledError("Paused. De-identified files are kept and will be sent on resume.")

    def _count_sent(self) -> None:
        states = {item.item_key: item.state for item in self.outbox.items("image")}
        for state in self.series.values():
            state.sent = sum(1 for uid in state.new_uids if states.get(uid) == "acknowledged")
            state.failed_upload = sum(1 for uid in state.new_uids if states.get(uid) == "failed")
