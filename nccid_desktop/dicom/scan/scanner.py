"""Scanning what PACS staff dropped: every DICOM header, grouped patient -> study -> series.

Why headers only and in parallel: a CT study is hundreds of files and a folder may hold
thousands; reading a few attributes per file (never the pixels) on every core makes a
10,000-file folder a matter of seconds, so the user sees what will be sent before anything
is de-identified. Worker processes are started with ``spawn`` on every platform: it is the
only method Windows has, and it is safe when the caller is a GUI with threads.

Source paths and patient details stay in memory for the user's own screen; the log gets
counts only, and the patients' IDs and names are registered with :mod:`logsafe` so that no
later log line can print them.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from nccid_desktop.dicom.scan.headers import FileHeader, parse_dicom_date, read_headers
from nccid_desktop.dicom.scan.model import (
    Patient,
    ScannedFile,
    ScanResult,
    Series,
    SkippedFile,
    Study,
)
from nccid_desktop.dicom.scan.shared_uids import SameImage, settle_shared_uids
from nccid_desktop.dicom.scan.sources import SourceFile, iter_sources
from nccid_desktop.errors import InputNotFoundError
from nccid_desktop.limits import DEFAULT_LIMITS, Limits, current_limits
from nccid_desktop.logsafe import register_sensitive
from nccid_desktop.tasks import NEVER_CANCELLED, CancelToken, Progress, ProgressCallback, no_progress

log = logging.getLogger(__name__)

#: Below this many files one process finishes first: the fast header path reads about
#: 10,000 files a second per core, while each spawned worker needs about a second to start
#: and import pydicom (measured with benchmarks/bench_scan.py).
PARALLEL_THRESHOLD = 20_000
MIN_CHUNK, MAX_CHUNK = 32, 512
#: Windows refuses more than 61 worker processes in one pool.
MAX_WORKERS = 61
_POLL_SECONDS = 0.2

HeaderReader = Callable[[list[SourceFile]], list[FileHeader | SkippedFile]]


def find_sources(paths: Sequence[str | os.PathLike[str]], *, progress: ProgressCallback =
                 no_progress, cancel: CancelToken = NEVER_CANCELLED) -> list[SourceFile]:
    """Every candidate file under ``paths``; a path that does not exist is the user's error."""
    for position, raw in enumerate(paths, start=1):
        if not Path(raw).exists():
            # The user chose the path, so it is named (to them; it is never logged).
            raise InputNotFoundError(f"The folder or file {raw} does not exist (item "
                                     f"{position} of the {len(paths)} given).")
    sources: list[SourceFile] = []
    for source in iter_sources(paths, cancel):
        sources.append(source)
        if len(sources) % 1000 == 0:
            progress(Progress(len(sources), None, "Finding files"))
    progress(Progress(len(sources), None, "Finding files"))
    return sources


def _chunks(sources: list[SourceFile], workers: int) -> list[list[SourceFile]]:
    size = max(MIN_CHUNK, min(MAX_CHUNK, len(sources) // (workers * 4) or 1))
    return [sources[i:i + size] for i in range(0, len(sources), size)]


def _read_in_process(sources: list[SourceFile], progress: ProgressCallback,
                     cancel: CancelToken, limits: Limits) -> list[FileHeader | SkippedFile]:
    results: list[FileHeader | SkippedFile] = []
    for chunk in _chunks(sources, 1):
        cancel.raise_if_cancelled()
        results.extend(read_headers(chunk, limits))
        progress(Progress(len(results), len(sources), "Reading DICOM headers"))
    return results


def _read_in_workers(sources: list[SourceFile], workers: int, progress: ProgressCallback,
                     cancel: CancelToken, limits: Limits) -> list[FileHeader | SkippedFile]:
    chunks = _chunks(sources, workers)
    results: list[list[FileHeader | SkippedFile] | None] = [None] * len(chunks)
    executor = ProcessPoolExecutor(max_workers=workers,
                                   mp_context=multiprocessing.get_context("spawn"))
    done = 0
    try:
        pending: dict[Future[list[FileHeader | SkippedFile]], int] = {
            executor.submit(read_headers, chunk, limits): index
            for index, chunk in enumerate(chunks)
        }
        while pending:
            cancel.raise_if_cancelled()
            finished, _ = wait(pending, timeout=_POLL_SECONDS, return_when=FIRST_COMPLETED)
            for future in finished:
                index = pending.pop(future)
                try:
                    results[index] = future.result()
                except BrokenProcessPool:  # a worker died (e.g. out of memory): read here
                    results[index] = read_headers(chunks[index], limits)
                done += len(chunks[index])
            progress(Progress(done, len(sources), "Reading DICOM headers"))
    finally:
        executor.shutdown(wait=not cancel.cancelled, cancel_futures=True)
    return [item for chunk_result in results if chunk_result for item in chunk_result]


def read_all_headers(sources: list[SourceFile], *, workers: int | None = None,
                     progress: ProgressCallback = no_progress,
                     cancel: CancelToken = NEVER_CANCELLED,
                     limits: Limits = DEFAULT_LIMITS) -> list[FileHeader | SkippedFile]:
    """Headers of ``sources`` in their order, using worker processes for large inputs."""
    workers = min(MAX_WORKERS, workers if workers is not None else (os.cpu_count() or 1))
    if workers <= 1 or len(sources) < PARALLEL_THRESHOLD:
        return _read_in_process(sources, progress, cancel, limits)
    return _read_in_workers(sources, workers, progress, cancel, limits)


def _series_number(text: str) -> int | None:
    try:
        return int(float(text))
    except ValueError:
        return None


def _build_series(headers: list[FileHeader]) -> Series:
    first = headers[0]
    files = tuple(
        ScannedFile(h.source, h.get("SOPInstanceUID"), h.get("SOPClassUID"),
                    h.transfer_syntax_uid, h.image_date, h.risk, h.hold)
        for h in headers
    )
    return Series(first.get("SeriesInstanceUID"), first.get("Modality").upper(),
                  _series_number(first.get("SeriesNumber")), first.get("SeriesDescription"),
                  first.get("BodyPartExamined").upper(), files, first.get("ProtocolName"))


def _build_study(series_groups: dict[str, list[FileHeader]]) -> Study:
    series = sorted((_build_series(group) for group in series_groups.values()),
                    key=lambda s: (s.number is None, s.number or 0, s.series_uid))
    first = next(iter(series_groups.values()))[0]
    return Study(first.get("StudyInstanceUID"), parse_dicom_date(first.get("StudyDate")),
                 first.get("StudyDescription"), tuple(series))


def _same_image_by_content(limits: Limits) -> SameImage:
    def same(first: FileHeader, second: FileHeader) -> bool:
        from nccid_desktop.dicom.deid.same_image import same_image

        return same_image(first.source, second.source, limits)
    return same


def group_headers(items: Iterable[FileHeader | SkippedFile], files_seen: int,
                  same_image: SameImage | None = None) -> ScanResult:
    """Patients (in the order first met) -> studies (by date) -> series (by number).

    Files sharing a SOP Instance UID are settled first (:mod:`.shared_uids`): copies of one
    image are kept once, different images are held back. ``same_image`` says which are
    copies (default: same bytes, or same once de-identified; read only for shared UIDs).
    """
    tree: dict[str, dict[str, dict[str, list[FileHeader]]]] = {}
    skipped: list[SkippedFile] = []
    settled = settle_shared_uids(list(items), same_image or _same_image_by_content(DEFAULT_LIMITS))
    for item in settled:
        if isinstance(item, SkippedFile):
            skipped.append(item)
            continue
        studies = tree.setdefault(item.get("PatientID"), {})
        series = studies.setdefault(item.get("StudyInstanceUID"), {})
        series.setdefault(item.get("SeriesInstanceUID"), []).append(item)
    patients = []
    for patient_id, studies in tree.items():
        built = sorted((_build_study(group) for group in studies.values()),
                       key=lambda s: (s.date is None, s.date or 0, s.study_uid))
        first = next(iter(next(iter(studies.values())).values()))[0]
        patients.append(Patient(patient_id, first.get("PatientName"),
                                first.get("PatientSex").upper(), tuple(built)))
    return ScanResult(tuple(patients), tuple(skipped), files_seen)


def _register_identifiers(result: ScanResult) -> None:
    values: list[str] = []
    for patient in result.patients:
        values += [patient.patient_id, patient.name, patient.display_name, *patient.name_parts]
    register_sensitive(*values)


def scan(paths: Sequence[str | os.PathLike[str]], *, workers: int | None = None,
         progress: ProgressCallback = no_progress,
         cancel: CancelToken = NEVER_CANCELLED, limits: Limits | None = None) -> ScanResult:
    """Scan files, folders and zip archives for DICOM objects, headers only.

    Non-DICOM, damaged and unreadable files, and files over the size limits (default: the
    machine policy's), are counted in ``ScanResult.skipped`` with a reason; they never stop
    the scan. Raises :class:`CancelledError` when cancelled and :class:`InputNotFoundError`
    when a given path does not exist.
    """
    limits = limits or current_limits()
    sources = find_sources(paths, progress=progress, cancel=cancel)
    items = read_all_headers(sources, workers=workers, progress=progress, cancel=cancel,
                             limits=limits)
    result = group_headers(items, len(sources), _same_image_by_content(limits))
    _register_identifiers(result)
    counts = result.skipped_counts()
    log.info("Scan finished: %d files, %d DICOM objects in %d series of %d patients; "
             "not DICOM %d, damaged %d, unreadable %d, duplicates %d, refused %d, "
             "quarantine risk %d, held back %d",
             len(sources), result.instance_count, result.series_count, len(result.patients),
             counts["not_dicom"], counts["corrupt"], counts["unreadable"], counts["duplicate"],
             counts["refused"], result.quarantined_count, len(result.held_back))
    return result
