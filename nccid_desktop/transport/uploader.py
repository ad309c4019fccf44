"""Driving the outbox: send what is queued, resume what a crash interrupted, keep the queue.

Why separate from the outbox: the journal only records facts; this module decides what to
send next, turns the service's answers into journal states, and handles the one interruption
users meet daily, an expired session, by asking for a new sign-in (through a callback the CLI
or GUI provides) and carrying on with the same batch, so nothing queued is lost or sent twice.

A refusal is final for what it refuses: a refused record or image is marked failed with the
service's words (naming the row or the de-identified file, and what to do), and the rest of the
job goes on. An image the service could not take *just now* (its warehouse unavailable, a
failure on its side: :data:`TRY_AGAIN_CODES`) is not refused: it goes back in the queue and the
run stops sending images, so it is neither lost nor retried for ever in one run. When the
service refuses a whole request (:class:`RefusedError`), its items are sent one by one, so
one bad item cannot hold the others back nor be sent again for ever.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from functools import partial

from nccid_desktop.records import ClinicalEnvelope
from nccid_desktop.tasks import NEVER_CANCELLED, CancelToken, Progress, ProgressCallback, no_progress
from nccid_desktop.transport.client import CollectorClient, RowResult
from nccid_desktop.transport.errors import RefusedError, SessionExpiredError, refusal_message
from nccid_desktop.transport.outbox import Batch, ItemKind, Outbox
from nccid_desktop.transport.stow import (
    DEFAULT_BATCH_BYTES,
    DEFAULT_BATCH_COUNT,
    StowClient,
    StowItem,
    StowResult,
)

log = logging.getLogger(__name__)
#: Per-image answers that mean "not now", not "never": the image is queued again.
TRY_AGAIN_CODES = frozenset({"storage_unavailable", "processing_failure"})

RECORD_BATCH_COUNT = 100
ALL_KINDS: tuple[ItemKind, ...] = ("record", "image")
RECORDS_ONLY: tuple[ItemKind, ...] = ("record",)
IMAGES_ONLY: tuple[ItemKind, ...] = ("image",)
#: Said of a queued image whose identifier the service holds for another patient.
HELD_FOR_ANOTHER_PATIENT = ("A different patient's image is already held under this SOP "
                            "Instance UID: two images share one identifier. Ask PACS to "
                            "re-export them.")


@dataclass
class UploadReport:
    """What one run achieved; ``problems`` are plain-English reasons, one per refused item."""

    records_stored: int = 0
    records_unchanged: int = 0
    images_stored: int = 0
    images_already_held: int = 0
    problems: list[str] = field(default_factory=list)
    paused: bool = False
    #: Images the service could not take just now: queued again for the next run.
    deferred: int = 0
    #: What the service accepted but says it holds back (a correction not yet current), one
    #: plain-English line per record: both front ends show them beside the counts.
    notices: list[str] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.problems)

    def add(self, other: UploadReport) -> None:
        """Fold another run's counts into this one (a job is sent over several runs)."""
        self.records_stored += other.records_stored
        self.records_unchanged += other.records_unchanged
        self.images_stored += other.images_stored
        self.images_already_held += other.images_already_held
        self.deferred += other.deferred
        self.problems += other.problems
        self.notices += other.notices


@dataclass(frozen=True)
class BatchAnswered:
    """One batch the service has answered: the item keys (SOP Instance UIDs for images,
    ``<pseudonym>_<kind>`` for records) it now holds, those it refused, and the bytes the
    answer covers. Images the service already held are reported as one such batch."""

    kind: ItemKind
    acknowledged: tuple[str, ...]
    refused: tuple[str, ...]
    bytes: int


BatchCallback = Callable[[BatchAnswered], None]
Reauthenticate = Callable[[], None]


class Uploader:
    """Sends the outbox's pending work through ``client``; safe to run again at any time."""

    def __init__(self, client: CollectorClient, outbox: Outbox, *,
                 reauthenticate: Reauthenticate | None = None,
                 record_batch_count: int = RECORD_BATCH_COUNT,
                 image_batch_bytes: int = DEFAULT_BATCH_BYTES,
                 image_batch_count: int = DEFAULT_BATCH_COUNT) -> None:
        self.client = client
        self.outbox = outbox
        self.reauthenticate = reauthenticate
        self.record_batch_count = record_batch_count
        self.image_batch_bytes = image_batch_bytes
        self.image_batch_count = image_batch_count

    def run(self, progress: ProgressCallback = no_progress,
            cancel: CancelToken = NEVER_CANCELLED, *, kinds: Collection[ItemKind] = ALL_KINDS,
            on_batch: BatchCallback | None = None,
            pause: CancelToken = NEVER_CANCELLED) -> UploadReport:
        """Send what is pending of ``kinds``: records first, then images (skipping those the
        service already holds). ``pause`` stops before the next batch, leaving the rest
        queued (the report says ``paused``); ``cancel`` raises as soon as it can."""
        self.outbox.recover()
        report = UploadReport()
        total = sum(self.outbox.pending_bytes(kind) for kind in kinds)
        done = 0

        def answered(answer: BatchAnswered) -> None:
            nonlocal done
            done += answer.bytes
            if on_batch is not None:
                on_batch(answer)
            progress(Progress(done, total, f"{report.records_stored + report.records_unchanged} "
                              f"records and {report.images_stored} images sent"))

        def next_batch(kind: ItemKind, count: int, size: int | None = None) -> Batch | None:
            cancel.raise_if_cancelled()
            if pause.cancelled:
                report.paused = True
                return None
            return self.outbox.next_batch(kind, count, size)

        progress(Progress(0, total, "Preparing upload"))
        if "record" in kinds:
            while batch := next_batch("record", self.record_batch_count):
                self._with_session(partial(self._send_records, batch, report, cancel, answered))
        if "image" in kinds and not report.paused:
            self._skip_known_images(report, cancel, answered)
            while batch := next_batch("image", self.image_batch_count, self.image_batch_bytes):
                self._with_session(partial(self._send_images, batch, report, cancel, answered))
                if report.deferred:
                    break  # the service is struggling: the rest waits for the next run
        log.info("Upload run: %d records stored, %d unchanged, %d images stored, %d already held, "
                 "%d refused%s", report.records_stored, report.records_unchanged,
                 report.images_stored, report.images_already_held, report.failed,
                 "; paused" if report.paused else "")
        return report

    def _with_session(self, action: Callable[[], None]) -> None:
        """Run ``action``; on an expired session, sign in again (if we can) and repeat it."""
        for _ in range(3):
            try:
                action()
                return
            except SessionExpiredError:
                if self.reauthenticate is None:
                    raise
                log.info("Session expired during upload; asking for a new sign-in")
                self.reauthenticate()
        action()

    def _send_records(self, batch: Batch, report: UploadReport, cancel: CancelToken,
                      answered: BatchCallback) -> None:
        envelopes = [ClinicalEnvelope.from_json(json.loads(item.staging_path.read_bytes()))
                     for item in batch.items]
        results = self._record_results(batch, envelopes, cancel)
        acknowledged: list[int] = []
        for index, (item, envelope) in enumerate(zip(batch.items, envelopes, strict=True)):
            result = results.get(index)
            if result is not None and result.status in ("stored", "unchanged"):
                acknowledged.append(item.id)
                if result.status == "stored":
                    report.records_stored += 1
                else:
                    report.records_unchanged += 1
                if result.message:
                    report.notices.append(f"{_where(envelope, item)}: {result.message}")
                continue
            where = _where(envelope, item)
            problem = refusal_message(where, result.message if result else "",
                                      result.code if result else None)
            report.problems.append(problem)
            self.outbox.fail(item.id, problem)
        self.outbox.acknowledge(acknowledged)
        _answer(answered, batch, {item.id for item in batch.items if item.id in acknowledged})

    def _record_results(self, batch: Batch, envelopes: list[ClinicalEnvelope],
                        cancel: CancelToken) -> dict[int, RowResult]:
        """The service's answer per record; a batch refused whole is sent record by record
        (a record refused alone is answered with the service's words)."""
        try:
            return {r.index: r for r in self.client.upload_clinical(batch.batch_id, envelopes,
                                                                    cancel)}
        except RefusedError as refused:
            if len(envelopes) == 1:
                return {0: RowResult(0, envelopes[0].pseudonym, envelopes[0].kind, "rejected",
                                     str(refused), refused.code)}
        log.info("A record batch was refused whole; sending its records one by one")
        answers: dict[int, RowResult] = {}
        for index, envelope in enumerate(envelopes):
            cancel.raise_if_cancelled()
            try:
                [answer] = self.client.upload_clinical(f"{batch.batch_id}.{index}", [envelope],
                                                       cancel)
                answers[index] = answer
            except RefusedError as refused:
                answers[index] = RowResult(index, envelope.pseudonym, envelope.kind,
                                           "rejected", str(refused), refused.code)
        return answers

    def _skip_known_images(self, report: UploadReport, cancel: CancelToken,
                           answered: BatchCallback) -> None:
        staged = self.outbox.pending_images()
        if not staged:
            return
        known: set[str] = set()
        other: set[str] = set()

        def ask() -> None:
            same, clash = self.client.held_images([i.item_key for i in staged],
                                                  [i.pseudonym for i in staged], cancel)
            known.update(same)
            other.update(clash)

        self._with_session(ask)
        held = [item for item in staged if item.item_key in known]
        self.outbox.acknowledge([item.id for item in held])
        report.images_already_held += len(held)
        if held:
            answered(BatchAnswered("image", tuple(i.item_key for i in held), (),
                                   sum(i.size for i in held)))
        # Held for another patient: never "already held" (this image would be lost unsaid).
        clashing = [item for item in staged if item.item_key in other]
        for item in clashing:
            problem = refusal_message(
                f"Image {item.item_key}.dcm of {item.pseudonym or 'an unknown patient'}",
                HELD_FOR_ANOTHER_PATIENT, "uid_held_for_another_patient")
            report.problems.append(problem)
            self.outbox.fail(item.id, problem)
        if clashing:
            answered(BatchAnswered("image", (), tuple(i.item_key for i in clashing),
                                   sum(i.size for i in clashing)))

    def _send_images(self, batch: Batch, report: UploadReport, cancel: CancelToken,
                     answered: BatchCallback) -> None:
        stow = self.client.stow(max_batch_bytes=max(self.image_batch_bytes, batch.size),
                                max_batch_count=max(self.image_batch_count, len(batch.items)))
        items = [StowItem(i.item_key, i.staging_path, i.size) for i in batch.items]
        try:
            result = stow.send_batch(items, cancel)
        except RefusedError as refused:
            result = self._images_one_by_one(stow, items, refused, cancel)
        self.outbox.acknowledge([i.id for i in batch.items if i.item_key in result.stored])
        report.images_stored += sum(1 for i in batch.items if i.item_key in result.stored)
        later = [i for i in batch.items if i.item_key not in result.stored
                 and result.codes.get(i.item_key) in TRY_AGAIN_CODES]
        self.outbox.requeue([i.id for i in later])
        report.deferred += len(later)
        for item in batch.items:
            if item.item_key in result.stored or item in later:
                continue
            problem = refusal_message(
                f"Image {item.item_key}.dcm of {item.pseudonym or 'an unknown patient'}",
                result.failed.get(item.item_key) or "The service did not confirm this image.",
                result.codes.get(item.item_key))
            report.problems.append(problem)
            self.outbox.fail(item.id, problem)
        _answer(answered, batch, {i.id for i in batch.items if i.item_key in result.stored},
                later={i.id for i in later})

    @staticmethod
    def _images_one_by_one(stow: StowClient, items: list[StowItem], refused: RefusedError,
                           cancel: CancelToken) -> StowResult:
        """A batch refused whole, sent instance by instance: each refused alone is failed."""
        if len(items) == 1:
            return StowResult(failed={items[0].sop_instance_uid: str(refused)},
                              codes={items[0].sop_instance_uid: refused.code})
        log.info("An image batch was refused whole; sending its images one by one")
        result = StowResult()
        for item in items:
            cancel.raise_if_cancelled()
            try:
                result.merge(stow.send_batch([item], cancel))
            except RefusedError as alone:
                result.failed[item.sop_instance_uid] = str(alone)
                result.codes[item.sop_instance_uid] = alone.code
        return result


def _answer(answered: BatchCallback, batch: Batch, acknowledged_ids: set[int],
            later: Collection[int] = ()) -> None:
    """Tell the caller what the service holds and what it refused (not what waits for later)."""
    answered(BatchAnswered(
        batch.kind, tuple(i.item_key for i in batch.items if i.id in acknowledged_ids),
        tuple(i.item_key for i in batch.items
              if i.id not in acknowledged_ids and i.id not in later), batch.size))


def _where(envelope: ClinicalEnvelope, item) -> str:
    return f"Row {envelope.row}" if envelope.row else f"Record {item.pseudonym}"
