"""``nccid scan``: what is in these folders, and which series would be sent.

Reads DICOM headers only (nothing is de-identified or sent). With the site key file the
report shows pseudonyms and checks previous uploads; with the clinical sheets (``--sheet``)
or record files (``--records``: the JSON envelopes the app sends, or warehouse
``*_data.json`` / ``*_status.json`` files) it also checks each patient's link and date
window, and reports the link both ways: the sheet's patients with no images in the export,
the studies that belong to no patient on the sheet, and hospital numbers whose form differs
from the images' PatientIDs. The text report is for the user's own screen and names patients
and hospital numbers; ``--format json`` carries no identifier unless ``--show-identifiers``
is given (shape documented in :mod:`nccid_desktop.dicom.scan.report`).

Only the standard library is imported here; the scan modules load when the command runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from nccid_desktop.errors import ConfigError, NccidError


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
    parser.add_argument("--negative-days-after", type=int, metavar="DAYS", default=None,
                        help="also take a negative patient's images from up to DAYS after the "
                             "test (default: the negative_window_days_after setting, 0)")
    parser.add_argument("--show-identifiers", action="store_true",
                        help="put PatientIDs, hospital numbers, source UIDs and paths in the "
                             "JSON output")
    parser.add_argument("--workers", type=int, default=None,
                        help="processes reading headers (default: one per core)")
    parser.add_argument("--opt-out-list", metavar="FILE",
                        help="NHS/CHI numbers of patients who opted out: their series are shown "
                        "as left out (default: the opt_out_list setting)")
    parser.set_defaults(handler=_scan)


def _records_in(path: Path) -> list[Any]:
    from nccid_desktop.records import ClinicalEnvelope

    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"The records file {path} was not found.") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"The records file {path} is not readable JSON.") from exc
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
            raise ConfigError(f"The records file {path} holds a record that is not an "
                              f"NCCID clinical record: {exc}") from exc
    return envelopes


def _uploaded_uids(path: Path | None) -> frozenset[str]:
    if path is None:
        return frozenset()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"The uploaded-UIDs file {path} cannot be read.") from exc
    return frozenset(line.strip() for line in lines if line.strip())


def _days_after(args: argparse.Namespace) -> int:
    from nccid_desktop.config.definitions import MAX_NEGATIVE_DAYS_AFTER

    days = args.negative_days_after
    if days is None:
        from nccid_desktop.config import load

        days = load().negative_window_days_after
    if not 0 <= days <= MAX_NEGATIVE_DAYS_AFTER:
        raise ConfigError(f"--negative-days-after must be from 0 to {MAX_NEGATIVE_DAYS_AFTER}.")
    return days


class _Clinical:
    """What the clinical side brings: records for the windows, and who it lists."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self.patients: list[Any] = []
        self.listed: list[Any] = []
        self.unlike_images: list[Any] = []
        self.images_form = ""

    def add_records(self, path: Path) -> None:
        from nccid_desktop.dicom.select.links import ListedPatient

        envelopes = _records_in(path)
        self.envelopes += envelopes
        self.listed += [ListedPatient(e.pseudonym, f"records file {path.name}")
                        for e in envelopes]

    def add_sheet(self, path: Path, keys: Any, linking: Any, patient_ids: list[str],
                  opt_outs: Any = None) -> None:
        """A sheet's valid rows link and set windows; every row with a usable identifier is
        listed; the images' PatientIDs teach the form of hospital numbers (hospital linking).
        The check is the send's own (:func:`~nccid_desktop.workflows.image_selection.
        check_send_sheets`), so the two commands never disagree about a sheet."""
        from nccid_desktop.workflows.image_selection import check_send_sheets

        def problems(sheet: Path, errors: int) -> None:
            print(f"nccid: {sheet.name} has {errors} problem(s); rows with problems are not "
                  "linked. Check it with the sheet validator.", file=sys.stderr)

        found = check_send_sheets([path], keys, linking, on_problems=problems,
                                  hospital_examples=patient_ids if linking == "hospital" else None,
                                  opt_outs=opt_outs)
        self.envelopes += found.envelopes
        self.patients += found.patients
        self.listed += found.listed
        self.unlike_images += found.unlike_images
        self.images_form = found.images_form or self.images_form


def _console_progress(progress: Any) -> None:
    if progress.total:
        print(f"\r{progress.message}: {progress.done}/{progress.total}", end="",
              file=sys.stderr, flush=True)
        if progress.done >= progress.total:
            print(file=sys.stderr)


def _scan(args: argparse.Namespace) -> int:
    from nccid_desktop.cli._session import configured_opt_outs
    from nccid_desktop.dicom.scan.report import report_json, report_text
    from nccid_desktop.dicom.scan.scanner import scan
    from nccid_desktop.dicom.select.clinical_windows import WindowPolicy
    from nccid_desktop.dicom.select.links import link_report
    from nccid_desktop.dicom.select.policy import SelectionPolicy
    from nccid_desktop.dicom.select.rules import SelectionInputs, select, windows_from_records
    from nccid_desktop.keys import load_key_file
    from nccid_desktop.workflows.opt_outs import OptOutSelection

    if args.workers is not None and args.workers < 1:
        raise ConfigError("--workers must be 1 or more.")
    keys = load_key_file(args.key_file, args.site) if args.key_file else None
    if keys is None and (args.records or args.sheet or args.uploaded):
        raise ConfigError("--records, --sheet and --uploaded need the site key file "
                          "(--key-file).")
    policy = SelectionPolicy(windows=WindowPolicy(negative_days_after=_days_after(args)))
    opt_outs = configured_opt_outs(args)
    if opt_outs is not None and keys is None:
        raise ConfigError("An opt-out list needs the site key file (--key-file) to match "
                          "images to patients.")
    clinical = _Clinical()
    for path in args.records:
        clinical.add_records(path)
    show_progress = args.format == "text" and sys.stderr.isatty()
    result = scan(args.paths, workers=args.workers,
                  progress=_console_progress if show_progress else lambda _: None)
    patient_ids = [p.patient_id for p in result.patients if p.patient_id.strip()]
    for path in args.sheet:
        clinical.add_sheet(path, keys, args.linking, patient_ids, opt_outs)
    linked = bool(args.records or args.sheet)
    windows = windows_from_records(clinical.envelopes) if linked else None
    opted = (OptOutSelection.of(opt_outs, keys, args.linking, clinical.patients)
             if opt_outs is not None and keys is not None else None)
    selection = select(result, SelectionInputs(
        keys=keys, linking=args.linking, windows=windows,
        uploaded_uids=_uploaded_uids(args.uploaded), policy=policy,
        opted_out=opted.opted_out if opted else None,
        opt_out_checked=opted.checked if opted else None))
    links = link_report(selection, clinical.listed, clinical.unlike_images,
                        clinical.images_form) if linked else None
    if args.format == "json":
        report = report_json(result, selection, keys=keys,
                             show_identifiers=args.show_identifiers, links=links)
        print(json.dumps(report, indent=2))
    else:
        print("\n".join(report_text(result, selection, links)))
    return 0
