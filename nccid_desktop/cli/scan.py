"""``nccid scan``: what is in these folders, and which series would be sent.

Reads DICOM headers only (nothing is de-identified or sent). With the site key file the
report shows pseudonyms and checks previous uploads; with the clinical sheets (``--sheet``)
or record files (``--records``: the JSON envelopes the app sends, or warehouse
``*_data.json`` / ``*_status.json`` files) it also checks each patient's link and date
window. The text report
is for the user's own screen and names patients; ``--format json`` carries no identifier
unless ``--show-identifiers`` is given (shape documented in
:mod:`nccid_desktop.dicom.scan.report`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from nccid_desktop.cli._sheet_windows import sheet_records
from nccid_desktop.dicom.scan.report import report_json, report_text
from nccid_desktop.dicom.scan.scanner import scan
from nccid_desktop.dicom.select.rules import SelectionInputs, select, windows_from_records
from nccid_desktop.errors import ConfigError, NccidError
from nccid_desktop.keys import SiteKeys, load_key_file
from nccid_desktop.records import ClinicalEnvelope
from nccid_desktop.tasks import Progress


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "scan", help="list the DICOM patients, studies and series in folders, files and zips",
        description="Read DICOM headers (never pixels) and show which series would be sent.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="folders, files or .zip files")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--key-file", type=Path, help="site key file (shows pseudonyms)")
    parser.add_argument("--site", help="site code the key file must belong to")
    parser.add_argument("--linking", choices=("hospital", "nhs"), default="hospital",
                        help="what the DICOM PatientID holds at this site (default: hospital)")
    parser.add_argument("--records", nargs="+", type=Path, default=[], metavar="FILE",
                        help="clinical record JSON files to link and date-check against")
    parser.add_argument("--sheet", nargs="+", type=Path, default=[], metavar="XLSX",
                        help="NCCID Main or Covid Status workbooks to link and date-check against")
    parser.add_argument("--uploaded", type=Path, metavar="FILE",
                        help="file of already uploaded (remapped) SOP Instance UIDs, one a line")
    parser.add_argument("--show-identifiers", action="store_true",
                        help="put PatientIDs, source UIDs and paths in the JSON output")
    parser.add_argument("--workers", type=int, default=None,
                        help="processes reading headers (default: one per core)")
    parser.set_defaults(handler=_scan)


def _records_in(path: Path) -> list[ClinicalEnvelope]:
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"The records file {path.name} was not found.") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"The records file {path.name} is not readable JSON.") from exc
    items = data if isinstance(data, list) else [data]
    envelopes = []
    for item in items:
        if isinstance(item, dict) and "record" not in item and "Pseudonym" in item:
            kind = "status" if path.stem.endswith("_status") else "data"
            item = {"kind": kind, "pseudonym": item.get("Pseudonym"),
                    "site": item.get("SubmittingCentre", ""), "record": item}
        try:
            envelopes.append(ClinicalEnvelope.from_json(item))
        except NccidError as exc:
            raise ConfigError(f"The records file {path.name} holds a record that is not an "
                              f"NCCID clinical record: {exc}") from exc
    return envelopes


def _uploaded_uids(path: Path | None) -> frozenset[str]:
    if path is None:
        return frozenset()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"The uploaded-UIDs file {path.name} cannot be read.") from exc
    return frozenset(line.strip() for line in lines if line.strip())


def _inputs(args: argparse.Namespace) -> tuple[SelectionInputs, SiteKeys | None]:
    keys = load_key_file(args.key_file, args.site) if args.key_file else None
    if keys is None and (args.records or args.sheet or args.uploaded):
        raise ConfigError("--records, --sheet and --uploaded need the site key file "
                          "(--key-file).")
    windows = None
    if keys is not None and (args.records or args.sheet):
        envelopes = [e for p in args.records for e in _records_in(p)]
        envelopes += [e for p in args.sheet for e in sheet_records(p, keys, args.linking)]
        windows = windows_from_records(envelopes)
    return SelectionInputs(keys=keys, linking=args.linking, windows=windows,
                           uploaded_uids=_uploaded_uids(args.uploaded)), keys


def _console_progress(progress: Progress) -> None:
    if progress.total:
        print(f"\r{progress.message}: {progress.done}/{progress.total}", end="",
              file=sys.stderr, flush=True)
        if progress.done >= progress.total:
            print(file=sys.stderr)


def _scan(args: argparse.Namespace) -> int:
    if args.workers is not None and args.workers < 1:
        raise ConfigError("--workers must be 1 or more.")
    inputs, keys = _inputs(args)
    show_progress = args.format == "text" and sys.stderr.isatty()
    result = scan(args.paths, workers=args.workers,
                  progress=_console_progress if show_progress else lambda _: None)
    selection = select(result, inputs)
    if args.format == "json":
        report = report_json(result, selection, keys=keys,
                             show_identifiers=args.show_identifiers)
        print(json.dumps(report, indent=2))
    else:
        print("\n".join(report_text(result, selection)))
    return 0
