"""The background steps behind Send Images: scan, then de-identify, queue and send.

Why a job object: Pause and Resume must carry on where they stopped. :class:`SendJob` keeps
which source files are still to be de-identified and, per series, what happened to its files;
each run of :meth:`SendJob.task` works through the rest in chunks (de-identify a chunk, then
send the queue), so the bar and the series states move through both kinds of work. Pause
stops after the batch in flight (de-identification finishes the files it holds, the uploader
the batch awaiting its answer) with the queue intact; the next run sends only what is left.
Every step is a core call; this module only orders them and counts. It is Qt-free and holds no
source paths in anything it logs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from nccid_desktop.dicom.deid.one_file import DeidContext
from nccid_desktop.dicom.deid.pipeline import deidentify_batch
from nccid_desktop.dicom.scan.model import ScanResult
from nccid_desktop.dicom.scan.scanner import scan
from nccid_desktop.dicom.scan.sources import SourceFile
from nccid_desktop.dicom.select.clinical_windows import ClinicalWindow
from nccid_desktop.dicom.select.rules import Selection, SelectionInputs, SeriesDecision, select
from nccid_desktop.errors import CancelledError
from nccid_desktop.gui.send_state import OverallBar, Phase, SeriesProgress
from nccid_desktop.keys import SiteKeys
from nccid_desktop.pseudonym import LinkingIdentifier
from nccid_desktop.tasks import CancelToken, ProgressCallback, no_progress
from nccid_desktop.transport.client import CollectorClient
from nccid_desktop.transport.outbox import Outbox
from nccid_desktop.transport.service_knowledge import Windows, ask_service, merge_windows
from nccid_desktop.transport.stow import DEFAULT_BATCH_COUNT
from nccid_desktop.transport.uploader import IMAGES_ONLY, BatchAnswered, Uploader, UploadReport

log = logging.getLogger(__name__)

#: Below this many files a process pool costs more than it saves.
INLINE_DEID_BELOW = 40
#: A chunk de-identified before its images are sent: big enough that starting the process
#: pool is a small cost, small enough that sending starts early in a large job.
CHUNK_FILES = 500
CHUNK_BYTES = 256 * 1024 * 1024
#: Images per STOW request: Pause takes effect between two requests.
SEND_BATCH_COUNT = DEFAULT_BATCH_COUNT

__all__ = ["ScanOutcome", "SendJob", "SeriesProgress", "choose", "scan_task"]


@dataclass(frozen=True)
class ScanOutcome:
    result: ScanResult
    uploaded_uids: frozenset[str]
    service_windows: Windows | None = None


def scan_task(paths: list[Path], keys: SiteKeys | None, client: CollectorClient | None):
    """Scan what was dropped, then ask the service which images it holds and which patients
    have clinical records (with their test dates)."""

    def task(progress: ProgressCallback, cancel: CancelToken) -> ScanOutcome:
        result = scan(paths, progress=progress, cancel=cancel)
        if keys is None or client is None or not result.instance_count:
            return ScanOutcome(result, frozenset())
        known = ask_service(client, keys, result, progress, cancel)
        return ScanOutcome(result, known.uploaded_uids, known.windows)

    return task


def choose(outcome: ScanOutcome, keys: SiteKeys | None, linking: LinkingIdentifier,
           windows: dict[str, tuple[ClinicalWindow, ...]] | None,
           excluded: frozenset[str]) -> Selection:
    """The selection rules' decision for every series (cheap: headers are already read)."""
    return select(outcome.result, SelectionInputs(
        keys=keys, linking=linking,
        windows=merge_windows(outcome.service_windows, windows) if keys is not None else None,
        uploaded_uids=outcome.uploaded_uids if keys is not None else frozenset(),
        excluded_series=excluded))


class _EitherToken(CancelToken):
    """Cancelled when any of its tokens is: de-identification stops for Pause or Cancel."""

    def __init__(self, *tokens: CancelToken) -> None:
        super().__init__()
        self._tokens = tokens

    @property
    def cancelled(self) -> bool:
        return any(token.cancelled for token in self._tokens)

    def raise_if_cancelled(self) -> None:
        if self.cancelled:
            raise CancelledError()


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
    paused: bool = False
    bar: OverallBar = field(default_factory=lambda: OverallBar(no_progress))
    _pause: CancelToken = field(default_factory=CancelToken, repr=False)
    _series_of: dict[str, int] = field(default_factory=dict, repr=False)

    @classmethod
    def plan(cls, selection: Selection, keys: SiteKeys, linking: LinkingIdentifier,
             client: CollectorClient, outbox: Outbox, work_dir: Path) -> SendJob:
        decisions = selection.included
        job = cls(decisions, keys, linking, client, outbox, work_dir)
        for number, decision in enumerate(decisions):
            job.series[number] = SeriesProgress(len(decision.files))
            job.remaining += [(number, f.source) for f in decision.files]
        estimate = sum(source.size for _, source in job.remaining)
        job.bar.deid_total = estimate
        job.bar.send_total = estimate + outbox.pending_bytes("image")
        return job

    @property
    def files(self) -> int:
        return sum(p.files for p in self.series.values())

    @property
    def images_sent(self) -> int:
        return sum(p.sent for p in self.series.values())

    @property
    def pause_requested(self) -> bool:
        return self._pause.cancelled

    def request_pause(self) -> None:
        """Stop after the batch in flight; the next :meth:`task` carries on from there."""
        self._pause.cancel()

    def task(self, progress: ProgressCallback, cancel: CancelToken) -> SendJob:
        self._pause, self.paused, self.upload = CancelToken(), False, UploadReport()
        self.bar.report = progress
        self.bar.show("Preparing…")
        try:
            while True:
                if self.remaining and not self._pause.cancelled:
                    self._deidentify(self._next_chunk(), cancel)
                self._send(cancel)
                if self._pause.cancelled or not self.remaining:
                    break
        except BaseException:
            self._settle("stopped")
            raise
        self.paused = self._pause.cancelled and bool(
            self.remaining or self.outbox.count_pending("image"))
        self._settle("paused" if self.paused else None)
        return self

    def _next_chunk(self) -> list[tuple[int, SourceFile]]:
        chunk: list[tuple[int, SourceFile]] = []
        size = 0
        for number, source in self.remaining:
            if chunk and (len(chunk) >= CHUNK_FILES or size + source.size > CHUNK_BYTES):
                break
            chunk.append((number, source))
            size += source.size
        return chunk

    def _deidentify(self, chunk: list[tuple[int, SourceFile]], cancel: CancelToken) -> None:
        for number in {n for n, _ in chunk}:
            self.series[number].phase = "deidentifying"
        sizes = [source.size for _, source in chunk]
        base = self.bar.deid_done
        report = deidentify_batch(
            [source for _, source in chunk], self.work_dir / "deidentified",
            DeidContext(self.keys, self.linking), quarantine_dir=self.work_dir / "quarantine",
            workers=1 if len(chunk) < INLINE_DEID_BELOW else None,
            progress=self.bar.deidentifying(sizes, base), cancel=_EitherToken(cancel, self._pause))
        staged = 0
        for (number, _), outcome in zip(chunk, report.outcomes, strict=False):
            state = self.series[number]
            state.counts[outcome.status] += 1
            if outcome.status == "deidentified" and outcome.output and outcome.sop_instance_uid:
                self.outbox.stage_image(outcome.sop_instance_uid, outcome.pseudonym or "",
                                        outcome.output, move=True, expected_size=outcome.bytes)
                state.new_uids.append(outcome.sop_instance_uid)
                self._series_of[outcome.sop_instance_uid] = number
                staged += outcome.bytes
            else:
                state.reasons[outcome.message] += 1
        processed = len(report.outcomes)
        self.remaining = self.remaining[processed:]
        self.bar.deid_done = base + sum(sizes[:processed])
        self.bar.chunk_staged(sum(sizes[:processed]), staged)
        for number in {n for n, _ in chunk[:processed]}:
            state = self.series[number]
            state.phase = "sent" if state.finished else "sending"
        log.info("De-identified %d files (%s); %d left", processed,
                 ", ".join(f"{k} {v}" for k, v in report.counts.items()), len(self.remaining))
        if report.cancelled and cancel.cancelled:
            raise CancelledError("De-identified files are kept and will be sent on resume.")

    def _send(self, cancel: CancelToken) -> None:
        report = Uploader(self.client, self.outbox, image_batch_count=SEND_BATCH_COUNT).run(
            cancel=cancel, kinds=IMAGES_ONLY, on_batch=self._answered, pause=self._pause)
        total = self.upload or UploadReport()
        total.images_stored += report.images_stored
        total.images_already_held += report.images_already_held
        total.problems += report.problems
        self.upload = total

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

    def _settle(self, interrupted: Phase | None) -> None:
        for state in self.series.values():
            state.settle(interrupted)
