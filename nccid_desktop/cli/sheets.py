"""``nccid template``, ``nccid validate`` and ``nccid pseudonymise``: the clinical sheets.

Exit codes of ``validate``: 0 no errors (warnings allowed), 1 errors, 2 the file cannot be
read as either template. In JSON mode an unreadable file still gives one JSON object, with
``"template": null`` and the reason as its only error.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from nccid_desktop.errors import NccidError, SheetError
from nccid_desktop.keys import check_site_code, load_key_file
from nccid_desktop.sheets.annotate import annotate_copy
from nccid_desktop.sheets.definitions import TEMPLATES, template_by_id
from nccid_desktop.sheets.findings import DEFAULT_FINDINGS_PER_COLUMN, ValidationReport
from nccid_desktop.sheets.payload import build_envelopes, write_warehouse_files
from nccid_desktop.sheets.render import render_text
from nccid_desktop.sheets.validator import validate_workbook
from nccid_desktop.sheets.writer import write_template

TEMPLATE_CHOICES = sorted(TEMPLATES)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError("use the form YYYY-MM-DD") from None


def _add_check_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="the filled-in .xlsx workbook")
    parser.add_argument("--template", choices=TEMPLATE_CHOICES,
                        help="the template the file must follow (default: recognise it)")
    parser.add_argument("--hospital-pattern", metavar="REGEX",
                        help=r"site format of hospital numbers, e.g. '^RR\d{8}$' (warnings)")
    parser.add_argument("--today", type=_day, metavar="YYYY-MM-DD",
                        help="check future dates against this day instead of today")


def register(subparsers: argparse._SubParsersAction) -> None:
    template = subparsers.add_parser("template", help="write a blank clinical template (.xlsx)")
    template.add_argument("which", choices=TEMPLATE_CHOICES,
                          help="main (PCR-positive) or status (PCR-negative)")
    template.add_argument("-o", "--output", required=True, type=Path, help="file to write")
    template.set_defaults(handler=_template)

    validate = subparsers.add_parser("validate", help="check a clinical sheet, every problem "
                                     "at once")
    _add_check_options(validate)
    validate.add_argument("--format", choices=("text", "json"), default="text")
    validate.add_argument("--annotate", type=Path, metavar="COPY.xlsx",
                          help="also write a copy with problem cells highlighted and commented")
    validate.set_defaults(handler=_validate)

    pseudonymise = subparsers.add_parser(
        "pseudonymise", help="write the warehouse records of a valid sheet into a folder")
    _add_check_options(pseudonymise)
    pseudonymise.add_argument("--key-file", required=True, type=Path, help="site key file")
    pseudonymise.add_argument("--site", required=True, help="site code, e.g. RSH")
    pseudonymise.add_argument("--out", required=True, type=Path, help="folder to write into")
    pseudonymise.add_argument("--centre", help="SubmittingCentre value (default: the site code)")
    pseudonymise.add_argument("--linking", choices=("hospital", "nhs"), default="hospital",
                              help="identifier the site's PACS keys on (default: hospital)")
    pseudonymise.add_argument("--accept-warnings", action="store_true",
                              help="go ahead although the sheet has warnings")
    pseudonymise.add_argument("--skip-invalid-rows", action="store_true",
                              help="write the rows without errors and leave the others out")
    pseudonymise.set_defaults(handler=_pseudonymise)


def _template(args: argparse.Namespace) -> int:
    definition = template_by_id(args.which)
    path = write_template(definition, args.output)
    print(f"Blank {definition.title} template v{definition.version} written to {path}")
    return 0


def _check(args: argparse.Namespace, keep_all: bool = False) -> ValidationReport:
    return validate_workbook(args.file, args.template, hospital_pattern=args.hospital_pattern,
                             today=args.today, max_findings_per_column=None if keep_all else
                             DEFAULT_FINDINGS_PER_COLUMN)


def _unreadable_json(args: argparse.Namespace, error: SheetError) -> dict:
    return {"file": str(args.file), "template": None, "template_version": None, "rows": 0,
            "errors": [{"row": None, "column": None, "header": "", "cell": None,
                        "code": "unreadable", "message": str(error)}],
            "warnings": [], "error_count": 1, "warning_count": 0}


def _validate(args: argparse.Namespace) -> int:
    try:
        report = _check(args, keep_all=args.annotate is not None)
    except SheetError as error:
        if args.format != "json":
            raise
        print(json.dumps(_unreadable_json(args, error), indent=2, ensure_ascii=False))
        return error.exit_code
    if args.annotate is not None:
        annotate_copy(args.file, report, args.annotate)
    if args.format == "json":
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        sys.stdout.write(render_text(report))
        if args.annotate is not None:
            print(f"\nAnnotated copy written to {args.annotate}")
    return 0 if report.ok else 1


def _pseudonymise(args: argparse.Namespace) -> int:
    keys = load_key_file(args.key_file, site=check_site_code(args.site))
    report = _check(args)
    if report.error_count and not args.skip_invalid_rows:
        sys.stdout.write(render_text(report))
        raise NccidError(f"Nothing was written: the sheet has {report.error_count} error(s). "
                         "Fix them (see above), or add --skip-invalid-rows.")
    if report.warning_count and not args.accept_warnings:
        sys.stdout.write(render_text(report))
        raise NccidError(f"Nothing was written: the sheet has {report.warning_count} "
                         "warning(s). Check them (see above), then add --accept-warnings.")
    envelopes = build_envelopes(report, keys, centre=args.centre, linking=args.linking,
                                allow_partial=args.skip_invalid_rows)
    written = write_warehouse_files(envelopes, args.out)
    skipped = report.rows - len(envelopes)
    print(f"{len(written)} record file(s) written to {args.out}"
          + (f"; {len(envelopes) - len(written)} already there" if len(written) < len(envelopes)
             else "")
          + (f"; {skipped} row(s) with errors left out" if skipped else "") + ".")
    return 1 if skipped else 0
