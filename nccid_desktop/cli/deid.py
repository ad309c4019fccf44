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
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nccid_desktop.errors import CancelledError

if TYPE_CHECKING:
    from nccid_desktop.tasks import CancelToken, Progress

#: Exit code when some files could not be processed at all, were refused or held back (the
#: user must act); quarantine is not a failure: those files are kept for review.
FAILED_FILES_EXIT = 1

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


def _deid(args: argparse.Namespace) -> int:
    from nccid_desktop.keys import load_key_file
    from nccid_desktop.tasks import CancelToken
    from nccid_desktop.workflows.deid_folder import deidentify_to_folder, summary_lines

    keys = load_key_file(args.key_file, site=args.site)
    cancel = CancelToken()
    with _ctrl_c_cancels(cancel):
        outcome = deidentify_to_folder(
            [Path(p) for p in args.paths], args.out, keys, args.linking,
            quarantine_dir=args.quarantine, audit_path=args.audit, workers=args.workers,
            progress=_printer(args.format == "text" and sys.stderr.isatty()), cancel=cancel)
    if args.format == "json":
        print(json.dumps(outcome.summary, indent=2))
    else:
        if sys.stderr.isatty():
            print(file=sys.stderr)
        print("\n".join(summary_lines(outcome)))
    if outcome.report.cancelled:
        return CancelledError.exit_code
    return FAILED_FILES_EXIT if outcome.problems else 0
