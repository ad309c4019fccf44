"""De-identify a batch of files on every core, with progress, cancellation and flat memory.

Why processes: the work is CPU-bound Python (parsing and editing headers), so threads would
share one core. Each worker keeps the job's settings (pool initializer) and receives small
chunks of sources (paths, never file contents): a CT slice takes a few milliseconds, about as
long as handing a task to another process, so one task per file left the parent as busy as
the workers. Chunks hold several small files or one large one, and a bounded number of files
is in flight per worker, so memory stays flat however many files are dropped. Workers are
forked when this process runs no other thread (the command line): a fork costs milliseconds,
where a fresh interpreter importing pydicom costs a quarter of a second per batch; elsewhere
(the GUI's threads make fork unsafe) they come from a fork server. Cancelling stops
submitting, cancels what has not started, and lets the files in progress finish (each output
appears atomically or not at all), so no half-written file is ever left behind. Files of the
batch that share a SOP Instance UID are settled once all have finished (:mod:`.same_uid`):
copies count once, different images are all held back. The report holds outcomes, never
source paths.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sized
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from nccid_desktop.dicom.deid.heap import frozen_for_fork, keep_freed_memory
from nccid_desktop.dicom.deid.one_file import DeidContext, FileOutcome, deidentify_file
from nccid_desktop.dicom.deid.same_uid import settle_shared_uids
from nccid_desktop.dicom.scan.sources import SourceFile
from nccid_desktop.limits import Limits, current_limits
from nccid_desktop.tasks import NEVER_CANCELLED, CancelToken, Progress, ProgressCallback, no_progress

#: Files handed out per worker and not yet finished: enough to keep every core busy, few
#: enough to keep memory flat (a worker holds one file at a time; the rest are paths).
IN_FLIGHT_PER_WORKER = 16
#: A chunk ends at this many files or this many source bytes, whichever comes first.
CHUNK_FILES = IN_FLIGHT_PER_WORKER // 2
CHUNK_BYTES = 4 * 1024 * 1024
_POLL_SECONDS = 0.2

log = logging.getLogger(__name__)

#: Every outcome status, in the order summaries list them.
STATUSES: tuple[str, ...] = ("deidentified", "duplicate", "held_back", "quarantined", "refused",
                             "unreadable", "failed")


@dataclass(frozen=True)
class BatchReport:
    """What a batch did: one outcome per source file, in the order the sources came.

    ``positions[i]`` is the index, in the sources given, of ``outcomes[i]`` (a cancelled
    batch may leave gaps), so a caller can name a refused file on the user's own screen.
    """

    outcomes: tuple[FileOutcome, ...] = ()
    cancelled: bool = False
    not_started: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    quarantined_by_code: dict[str, int] = field(default_factory=dict)
    positions: tuple[int, ...] = ()

    @classmethod
    def from_outcomes(cls, outcomes: Iterable[FileOutcome], *, cancelled: bool = False,
                      not_started: int = 0, positions: Iterable[int] | None = None
                      ) -> BatchReport:
        items = tuple(outcomes)
        counts: Counter[str] = Counter(o.status for o in items)
        codes = Counter(o.code for o in items if o.status == "quarantined")
        return cls(items, cancelled, not_started,
                   {s: counts.get(s, 0) for s in STATUSES}, dict(sorted(codes.items())),
                   tuple(positions) if positions is not None else tuple(range(len(items))))

    def by_code(self, status: str) -> dict[str, int]:
        """How many outcomes with ``status`` there are per reason code."""
        return dict(sorted(Counter(o.code for o in self.outcomes if o.status == status).items()))

    def with_positions(self, status: str) -> list[tuple[int, FileOutcome]]:
        """(source index, outcome) of every outcome with ``status``."""
        return [(p, o) for p, o in zip(self.positions, self.outcomes, strict=True)
                if o.status == status]

    @property
    def total(self) -> int:
        return len(self.outcomes)

    @property
    def output_bytes(self) -> int:
        return sum(o.bytes for o in self.outcomes if o.status == "deidentified")

    @property
    def pseudonyms(self) -> frozenset[str]:
        return frozenset(o.pseudonym for o in self.outcomes
                         if o.status == "deidentified" and o.pseudonym)


# --- worker side -----------------------------------------------------------------------------

@dataclass(frozen=True)
class _Job:
    """What every file of a batch is de-identified with (sent once to each worker)."""

    out_dir: Path
    ctx: DeidContext
    quarantine_dir: Path | None
    limits: Limits

    def run(self, source: SourceFile) -> FileOutcome:
        return deidentify_file(source, self.out_dir, self.ctx,
                               quarantine_dir=self.quarantine_dir, limits=self.limits)


_worker_job: _Job | None = None


def _init_worker(job: _Job) -> None:
    """Run once per worker: keep the job's settings; leave Ctrl+C and logging to the parent.

    Workers do not write the log file themselves (a rotating file shared by processes can be
    corrupted); the parent logs every failed outcome, whose message is safe to log.
    """
    global _worker_job
    _worker_job = job
    keep_freed_memory()
    logging.getLogger("nccid_desktop").addHandler(logging.NullHandler())
    logging.getLogger("nccid_desktop").propagate = False
    signal.signal(signal.SIGINT, signal.SIG_IGN)


Chunk = list[tuple[int, SourceFile]]


def _work(chunk: Chunk) -> list[tuple[int, FileOutcome]]:
    assert _worker_job is not None, "worker used before its initializer ran"
    return [(index, _worker_job.run(source)) for index, source in chunk]


# --- parent side -----------------------------------------------------------------------------

def _context() -> multiprocessing.context.BaseContext:
    """Fork when it is safe, else a fork server on POSIX, else spawn (Windows, frozen app).

    Fork is safe only in a process that runs no other thread; a Qt application always runs
    some (which Python may not see), so a loaded Qt rules fork out as well.
    """
    if sys.platform == "win32" or getattr(sys, "frozen", False):
        return multiprocessing.get_context("spawn")
    if threading.active_count() == 1 and "PySide6.QtCore" not in sys.modules:
        return multiprocessing.get_context("fork")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["nccid_desktop.dicom.deid.one_file"])
    return context


def _chunks(pending: Iterator[tuple[int, SourceFile]], files: int) -> Iterator[Chunk]:
    """Consecutive sources, up to ``files`` files or ``CHUNK_BYTES`` of them per chunk."""
    chunk: Chunk = []
    size = 0
    for item in pending:
        chunk.append(item)
        size += item[1].size
        if len(chunk) >= files or size >= CHUNK_BYTES:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def _chunk_files(total: int | None, workers: int) -> int:
    """Files per chunk: CHUNK_FILES, fewer for a small batch so every worker gets a share."""
    if total is None:
        return CHUNK_FILES
    return max(1, min(CHUNK_FILES, total // (workers * 4)))


def _progress(progress: ProgressCallback, done: int, total: int | None) -> None:
    of = f" of {total}" if total is not None else ""
    progress(Progress(done, total, f"De-identified {done}{of} files"))


def _crashed() -> FileOutcome:
    return FileOutcome("failed", "worker_crashed",
                       "The de-identifier stopped unexpectedly on this file.")


def deidentify_batch(sources: Iterable[SourceFile], out_dir: Path, ctx: DeidContext, *,
                     quarantine_dir: Path | None = None, workers: int | None = None,
                     progress: ProgressCallback = no_progress,
                     cancel: CancelToken = NEVER_CANCELLED,
                     limits: Limits | None = None) -> BatchReport:
    """De-identify every source into ``out_dir``; see :func:`deidentify_file` per file.

    ``workers`` defaults to the number of cores; 1 runs in this process (no pool). A
    cancelled batch returns the outcomes of the files that finished, ``cancelled=True``.
    ``limits`` defaults to the machine policy's size limits.
    """
    job = _Job(Path(out_dir), ctx, quarantine_dir, limits or current_limits())
    job.out_dir.mkdir(parents=True, exist_ok=True)
    total = len(sources) if isinstance(sources, Sized) else None
    workers = max(1, workers or os.cpu_count() or 1)
    results: dict[int, FileOutcome] = {}
    _progress(progress, 0, total)
    if workers == 1:
        cancelled = _run_inline(enumerate(sources), job, results, progress, total, cancel)
    else:
        cancelled = _run_pool(iter(enumerate(sources)), job, workers, results, progress, total,
                              cancel)
    results = settle_shared_uids(results)
    positions = sorted(results)
    outcomes = [results[i] for i in positions]
    for outcome in outcomes:
        if outcome.status == "failed":
            log.warning("A file could not be de-identified (%s): %s", outcome.code,
                        outcome.message)
    not_started = (total - len(outcomes)) if (cancelled and total is not None) else 0
    return BatchReport.from_outcomes(outcomes, cancelled=cancelled, not_started=not_started,
                                     positions=positions)


def _run_inline(pending: Iterable[tuple[int, SourceFile]], job: _Job,
                results: dict[int, FileOutcome], progress: ProgressCallback, total: int | None,
                cancel: CancelToken) -> bool:
    keep_freed_memory()
    for index, source in pending:
        if cancel.cancelled:
            return True
        results[index] = job.run(source)
        _progress(progress, len(results), total)
    return False


def _run_pool(pending: Iterator[tuple[int, SourceFile]], job: _Job, workers: int,
              results: dict[int, FileOutcome], progress: ProgressCallback, total: int | None,
              cancel: CancelToken) -> bool:
    """Feed a process pool with a bounded number of chunks; restart it if a worker dies."""
    limit = workers * IN_FLIGHT_PER_WORKER
    chunks = _chunks(pending, _chunk_files(total, workers))
    exhausted = False
    while True:
        context = _context()
        with frozen_for_fork(context.get_start_method()):  # forked on the first submit
            pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                                       initargs=(job,))
            started = _pool_starts(pool)
        in_flight: dict[Future[list[tuple[int, FileOutcome]]], Chunk] = {}
        broken = False
        if not started:
            log.warning("Worker processes could not start; de-identifying in this process.")
            rest = (item for chunk in chunks for item in chunk)
            return _run_inline(rest, job, results, progress, total, cancel)
        try:
            while not broken:
                files = sum(len(c) for c in in_flight.values())
                while not cancel.cancelled and not exhausted and files < limit:
                    chunk = next(chunks, None)
                    if chunk is None:
                        exhausted = True
                        break
                    in_flight[pool.submit(_work, chunk)] = chunk
                    files += len(chunk)
                if not in_flight:
                    return cancel.cancelled
                if cancel.cancelled:
                    for future in in_flight:
                        future.cancel()
                done, _ = wait(in_flight, timeout=_POLL_SECONDS, return_when=FIRST_COMPLETED)
                for future in done:
                    chunk = in_flight.pop(future)
                    if future.cancelled():
                        continue
                    before = len(results)
                    broken = _collect(future, chunk, results) or broken
                    for done_count in range(before + 1, len(results) + 1):  # one per file
                        _progress(progress, done_count, total)
            for chunk in in_flight.values():  # the pool died under these files
                for index, _source in chunk:
                    results[index] = _crashed()
            _progress(progress, len(results), total)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        _remove_partial_files(job.out_dir)


def _collect(future: Future[list[tuple[int, FileOutcome]]], chunk: Chunk,
             results: dict[int, FileOutcome]) -> bool:
    """Record a finished chunk's outcomes; True when its worker died (the pool is broken)."""
    try:
        results.update(future.result())
        return False
    except BrokenProcessPool:
        for index, _source in chunk:
            results[index] = _crashed()
        return True
    except Exception as exc:  # deidentify_file reports; this is the backstop
        for index, _source in chunk:
            results[index] = FileOutcome(
                "failed", "deid_error",
                f"The file could not be de-identified ({type(exc).__name__}).")
        return False


def _probe() -> bool:
    return _worker_job is not None


def _pool_starts(pool: ProcessPoolExecutor) -> bool:
    """Whether workers start at all (they cannot when, say, the main module is not guarded)."""
    try:
        return bool(pool.submit(_probe).result())
    except BrokenProcessPool:
        pool.shutdown(wait=True, cancel_futures=True)
        return False


def _remove_partial_files(out_dir: Path) -> None:
    """After a worker died mid-write, remove its temporary files (never a staged output)."""
    for leftover in out_dir.glob(".*.tmp"):
        leftover.unlink(missing_ok=True)
