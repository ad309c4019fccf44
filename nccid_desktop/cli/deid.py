"""``nccid deid``: de-identify DICOM folders, files and zips into a flat staging folder.

Every output is checked by the independent verifier before it is placed in ``--out``; files
that may carry burned-in text, have no usable Patient ID or fail the check go to the
quarantine folder (by reason), never to staging. Files over a size limit (machine policy) are
refused: not read whole, not copied anywhere. Two different images with one SOP Instance UID
are both held back (never staged over each other); copies of one image are used once, so the
count of files de-identified is the count of files staged. The JSON summary and the audit file (written
beside the staging folder, or to ``--audit``) hold counts, reasons, new UIDs and pseudonyms:
no source path and no identifier; the text summary, for the user's own screen, also names
the files they must act on (refused, held back), as ``nccid scan`` does. Ctrl+C stops cleanly: files in
progress finish, nothing half-written is left, and the summary says what was done.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nccid_desktop.errors import CancelledError, DicomError

if TYPE_CHECKING:
    from nccid_desktop.dicom.deid.pipeline import BatchReport
    from nccid_desktop.dicom.scan.sources import SourceFile
    from nccid_desktop.tasks import CancelToken, Progress

#: Exit code when some files could not be processed at all, were refused or held back (the
#: user must act); quarantine is not a failure: those files are kept for review.
FAILED_FILES_EXIT = 1

STATUS_WORDS = {
    "deidentified": "de-identified",
    "duplicate": "were copies of another file (the same image, used once)",
    "held_back": "held back (not sent)",
    "quarantined": "quarantined",
    "refused": "refused (over a size limit, or damaged), not read further",
    "unreadable": "skipped (not DICOM or unreadable)",
    "failed": "failed",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "deid", help="de-identify DICOM files into a staging folder, ready to send",
        description="De-identify DICOM files with the NCCID profile and verify every output.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="folders, files or .zip files")
    parser.add_argument("--out", required=True, type=Path, help="staging folder for outputs")
    parser.add_argument("--key-file", required=True, type=Path, help="site key file")
    parser.add_argument("--site", required=True, help="site code the key file must belong to")
    parser.add_argument("--linking", choices=("hospital", "nhs"), default="hospital",
                        help="what the DICOM PatientID holds at this site (default: hospital)")
    parser.add_argument("--quarantine", type=Path,
                        help="folder for refused files (default: 'quarantine' beside --out)")
    parser.add_argument("--audit", type=Path, help="audit file to write "
                        "(default: nccid-deid-audit-<time>.json beside --out)")
    parser.add_argument("--workers", type=int, default=None,
                        help="processes de-identifying (default: one per core)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(handler=_deid)


@contextmanager
def _ctrl_c_cancels(cancel: CancelToken) -> Iterator[None]:
    """Turn Ctrl+C into a clean cancel for the duration of the batch."""
    def handler(_signum: int, _frame: Any) -> None:
        cancel.cancel()

    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _printer(enabled: bool) -> Any:
    def show(progress: Progress) -> None:
        if enabled:
            print(f"\r{progress.message}", end="", file=sys.stderr, flush=True)
    return show


def _summary(report: BatchReport, out_dir: Path, audit_path: Path,
             quarantine_dir: Path) -> dict[str, Any]:
    return {
        "deidentified": report.counts.get("deidentified", 0),
        "duplicates": report.counts.get("duplicate", 0),
        "held_back": report.counts.get("held_back", 0),
        "held_back_by_reason": report.by_code("held_back"),
        "quarantined": report.counts.get("quarantined", 0),
        "quarantined_by_reason": report.quarantined_by_code,
        "refused": report.counts.get("refused", 0),
        "refused_by_reason": report.by_code("refused"),
        "skipped": report.counts.get("unreadable", 0),
        "failed": report.counts.get("failed", 0),
        "patients": len(report.pseudonyms),
        "output_bytes": report.output_bytes,
        "cancelled": report.cancelled,
        "out": str(out_dir),
        "quarantine": str(quarantine_dir),
        "audit": str(audit_path),
    }


def _named(report: BatchReport, status: str, sources: list[SourceFile]) -> list[str]:
    """Each file with ``status`` by its name and reason: for the user's own screen only."""
    return [f"  {sources[position].display_name}: {outcome.message}"
            for position, outcome in report.with_positions(status)]


def _text(summary: dict[str, Any], report: BatchReport, sources: list[SourceFile]) -> str:
    lines = [f"{summary['deidentified']} files de-identified for {summary['patients']} "
             f"patients into {summary['out']}"]
    if summary["duplicates"]:
        lines.append(f"{summary['duplicates']} files {STATUS_WORDS['duplicate']}")
    if summary["held_back"]:
        lines.append(f"{summary['held_back']} files {STATUS_WORDS['held_back']}:")
        lines += _named(report, "held_back", sources)
    if summary["quarantined"]:
        lines.append(f"{summary['quarantined']} files quarantined (not sent), in "
                     f"{summary['quarantine']}:")
        reasons = {o.code: o.message for o in report.outcomes if o.status == "quarantined"}
        for code, count in summary["quarantined_by_reason"].items():
            lines.append(f"  {count} x {code}: {reasons.get(code, '')}")
    if summary["refused"]:
        lines.append(f"{summary['refused']} files {STATUS_WORDS['refused']}:")
        lines += _named(report, "refused", sources)
    if summary["skipped"]:
        lines.append(f"{summary['skipped']} files {STATUS_WORDS['unreadable']}")
    if summary["failed"]:
        lines.append(f"{summary['failed']} files failed (details in the audit file)")
    if summary["cancelled"]:
        lines.append("Cancelled: the files above were finished; the rest were not started.")
    lines.append(f"Audit: {summary['audit']}")
    return "\n".join(lines)


def _deid(args: argparse.Namespace) -> int:
    from nccid_desktop.dicom.deid.audit import audit_record, default_audit_path, write_audit
    from nccid_desktop.dicom.deid.one_file import DeidContext
    from nccid_desktop.dicom.deid.pipeline import deidentify_batch
    from nccid_desktop.dicom.scan.sources import iter_sources
    from nccid_desktop.keys import load_key_file
    from nccid_desktop.tasks import CancelToken

    keys = load_key_file(args.key_file, site=args.site)
    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        raise DicomError(f"Not found: {', '.join(str(p) for p in missing)}")
    if args.workers is not None and args.workers < 1:
        raise DicomError("--workers must be 1 or more.")
    out_dir: Path = args.out
    quarantine_dir: Path = args.quarantine or out_dir.resolve().parent / "quarantine"
    cancel = CancelToken()
    started = datetime.now(UTC)
    with _ctrl_c_cancels(cancel):
        sources = list(iter_sources(args.paths, cancel))
        if not sources:
            raise DicomError("No files were found in the folders and files given.")
        report = deidentify_batch(
            sources, out_dir, DeidContext(keys, args.linking), quarantine_dir=quarantine_dir,
            workers=args.workers, cancel=cancel,
            progress=_printer(args.format == "text" and sys.stderr.isatty()),
        )
    finished = datetime.now(UTC)
    audit_path = write_audit(
        audit_record(report, site=keys.site, linking=args.linking, started=started,
                     finished=finished),
        args.audit or default_audit_path(out_dir, started),
    )
    summary = _summary(report, out_dir, audit_path, quarantine_dir)
    if args.format == "json":
        print(json.dumps(summary, indent=2))
    else:
        if sys.stderr.isatty():
            print(file=sys.stderr)
        print(_text(summary, report, sources))
    if report.cancelled:
        return CancelledError.exit_code
    problems = summary["failed"] or summary["refused"] or summary["held_back"]
    return FAILED_FILES_EXIT if problems else 0
