"""Run malformed inputs through the real readers and count crashes: the fault campaign's core.

A crash is any exception the app did not foresee: from the sheet validator anything but an
:class:`~nccid_desktop.errors.NccidError` (the messages users read); from the scan, the
selection, the reports and the de-identifier any exception at all (they report every file's
fate instead); and a batch whose counts disagree with the files it staged, or that wrote far
more than its input could legitimately unpack to. A de-identification that ends ``failed``
(the file parsed but could not be written back, so it is not sent: fail closed, no
traceback) is not a crash; it is counted as ``deid:failed`` so the campaign reports how often
it happens.
"""

from __future__ import annotations

import shutil
import tempfile
import traceback
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from tests.faults.mutator import Case, case


@dataclass
class Tally:
    cases: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    crashes: list[dict[str, object]] = field(default_factory=list)


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    return f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"


def _sheet(item: Case, path: Path, tally: Tally) -> None:
    from nccid_desktop.errors import NccidError
    from nccid_desktop.sheets.validator import validate_workbook

    try:
        report = validate_workbook(path, today=date(2021, 1, 1))
        tally.outcomes["sheet:report"] += 1
        _ = report.error_count
    except NccidError as error:
        tally.outcomes[f"sheet:{type(error).__name__}"] += 1
        assert "Traceback" not in str(error)


def _images(item: Case, path: Path, work: Path, tally: Tally) -> None:
    from nccid_desktop.dicom.deid.one_file import DeidContext
    from nccid_desktop.dicom.deid.pipeline import deidentify_batch
    from nccid_desktop.dicom.scan.headers import read_headers
    from nccid_desktop.dicom.scan.report import report_json, report_text
    from nccid_desktop.dicom.scan.scanner import group_headers
    from nccid_desktop.dicom.scan.sources import iter_sources
    from nccid_desktop.dicom.select.rules import SelectionInputs, select
    from nccid_desktop.limits import Limits
    from tests.conftest import TEST_DATA

    limits = Limits()
    keys = _keys(TEST_DATA)
    sources = list(iter_sources([path]))
    result = group_headers(read_headers(sources, limits), len(sources))
    selection = select(result, SelectionInputs(keys=keys))
    report_text(result, selection)
    report_json(result, selection, keys=keys)
    for skipped in result.skipped:
        tally.outcomes[f"scan:{skipped.kind}"] += 1
    report = deidentify_batch(sources, work / "out", DeidContext(keys),
                              quarantine_dir=work / "quarantine", workers=1, limits=limits)
    for outcome in report.outcomes:
        tally.outcomes[f"deid:{outcome.status}"] += 1
        if outcome.status == "failed":
            tally.outcomes[f"deid:failed:{outcome.code}"] += 1
    staged = list((work / "out").glob("*.dcm"))
    if len(staged) != report.counts["deidentified"]:
        raise AssertionError(f"{report.counts['deidentified']} de-identified, "
                             f"{len(staged)} staged")
    written = sum(p.stat().st_size for p in work.rglob("*") if p.is_file() and p != path)
    if written > 120 * len(item.data) + 1_000_000:
        raise AssertionError(f"{written} bytes written from {len(item.data)}")


_KEYS: list[object] = []


def _keys(test_data: Path):  # type: ignore[no-untyped-def]
    from nccid_desktop.keys import SiteKeys

    if not _KEYS:
        _KEYS.append(SiteKeys(site="RSH", secret=bytes(range(32)), controller_public_key=(
            test_data / "controller-test-key.pub.pem").read_bytes()))
    return _KEYS[0]


def run_case(item: Case, tally: Tally) -> None:
    """Run one case in a fresh folder; record its outcome or its crash."""
    import warnings

    work = Path(tempfile.mkdtemp(prefix="nccid-fault-"))
    try:
        path = work / ("input.xlsx" if item.kind == "xlsx" else
                       "input.zip" if item.kind == "zip" else "IM0001")
        path.write_bytes(item.data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if item.kind == "xlsx":
                _sheet(item, path, tally)
            else:
                _images(item, path, work, tally)
    except Exception as exc:  # the campaign's whole point: count what escaped
        tally.crashes.append({"case": item.number, "kind": item.kind, "seed": item.seed_name,
                              "mutations": list(item.mutations),
                              "error": type(exc).__name__, "where": _where(exc)})
    finally:
        tally.cases += 1
        tally.by_kind[item.kind] += 1
        shutil.rmtree(work, ignore_errors=True)


def run(start: int, count: int, progress_every: int = 0) -> Tally:
    import logging

    quiet = logging.getLogger("nccid_desktop")  # warnings about damaged files: expected here
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    tally = Tally()
    for number in range(start, start + count):
        run_case(case(number), tally)
        if progress_every and tally.cases % progress_every == 0:
            print(f"{tally.cases} cases, {len(tally.crashes)} crashes", flush=True)
    return tally
