"""``nccid template``, ``nccid validate`` and ``nccid pseudonymise``: the clinical sheets.

Exit codes of ``validate``: 0 no errors (warnings allowed), 1 errors, 2 the file cannot be
read as either template. In JSON mode an unreadable file still gives one JSON object, with
``"template": null`` and the reason as its only error. Given a Main and a Covid Status sheet
together, ``validate`` also finds patients on both (JSON: ``{"sheets": [report, report]}``).

``nccid template upgrade OLD -o NEW`` copies a sheet in an older or the national portal's
template into a fresh current template.

Only the standard library is imported here: the sheet modules (openpyxl) load when a
command runs, so ``nccid --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from nccid_desktop.errors import BadInputError, NccidError, SheetError

#: The template ids of ``nccid_desktop.sheets.definitions.TEMPLATES`` (a test keeps them equal).
TEMPLATE_CHOICES = ("main", "status")
UPGRADE = "upgrade"


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError("use the form YYYY-MM-DD") from None


def _add_check_options(parser: argparse.ArgumentParser, files: bool = False) -> None:
    if files:
        parser.add_argument("files", nargs="+", type=Path, metavar="FILE",
                            help="the filled-in .xlsx workbook; give a Main and a Covid Status "
                                 "sheet together to find patients on both")
    else:
        parser.add_argument("file", type=Path, help="the filled-in .xlsx workbook")
    parser.add_argument("--template", choices=TEMPLATE_CHOICES,
                        help="the template the file must follow (default: recognise it)")
    parser.add_argument("--hospital-pattern", metavar="REGEX",
                        help=r"site format of hospital numbers, e.g. '^RR\d{8}$' (warnings)")
    parser.add_argument("--today", type=_day, metavar="YYYY-MM-DD",
                        help="check dates against this day instead of today")


def register(subparsers: argparse._SubParsersAction) -> None:
    template = subparsers.add_parser(
        "template", help="write a blank clinical template (.xlsx), or upgrade an old one",
        description="nccid template main|status -o NEW.xlsx writes a blank template; "
                    "nccid template upgrade OLD.xlsx -o NEW.xlsx copies a sheet in an older or "
                    "the national portal's template into a fresh current one.")
    template.add_argument("which", choices=(*TEMPLATE_CHOICES, UPGRADE),
                          help="main (PCR-positive), status (PCR-negative), or upgrade")
    template.add_argument("old", nargs="?", type=Path, metavar="OLD",
                          help="with upgrade: the filled-in sheet to copy")
    template.add_argument("-o", "--output", required=True, type=Path, help="file to write")
    template.set_defaults(handler=_template)

    validate = subparsers.add_parser("validate", help="check a clinical sheet, every problem "
                                     "at once")
    _add_check_options(validate, files=True)
    validate.add_argument("--format", choices=("text", "json"), default="text")
    validate.add_argument("--annotate", type=Path, metavar="COPY.xlsx",
                          help="also write a copy with problem cells highlighted and commented")
    validate.add_argument("--key-file", type=Path,
                          help="site key file, to compare two sheets by the site's pseudonyms")
    validate.add_argument("--site", help="site code the key file must belong to")
    validate.add_argument("--linking", choices=("hospital", "nhs"), default="hospital",
                          help="identifier the site's PACS keys on (default: hospital)")
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
    pseudonymise.add_argument("--opt-out-list", metavar="FILE",
                              help="NHS/CHI numbers of patients who opted out: their rows are "
                              "never pseudonymised (default: the opt_out_list setting)")
    pseudonymise.set_defaults(handler=_pseudonymise)


def _template(args: argparse.Namespace) -> int:
    if args.which == UPGRADE:
        if args.old is None:
            raise BadInputError("Name the sheet to upgrade: nccid template upgrade OLD.xlsx "
                             "-o NEW.xlsx")
        from nccid_desktop.sheets.upgrade import save_as_current

        print(save_as_current(args.old, args.output).describe())
        return 0
    if args.old is not None:
        raise BadInputError("A blank template takes no input file; to copy a filled-in sheet "
                         "into the current template use: nccid template upgrade OLD.xlsx "
                         "-o NEW.xlsx")
    from nccid_desktop.sheets.definitions import template_by_id
    from nccid_desktop.sheets.writer import write_template

    definition = template_by_id(args.which)
    path = write_template(definition, args.output)
    print(f"Blank {definition.title} template v{definition.version} written to {path}")
    return 0


def _check(args: argparse.Namespace, path: Path, keep_all: bool = False) -> Any:
    from nccid_desktop.sheets.findings import DEFAULT_FINDINGS_PER_COLUMN
    from nccid_desktop.sheets.validator import validate_workbook

    return validate_workbook(path, args.template, hospital_pattern=args.hospital_pattern,
                             today=args.today, max_findings_per_column=None if keep_all else
                             DEFAULT_FINDINGS_PER_COLUMN)


def _unreadable_json(path: Path, error: SheetError) -> dict:
    return {"file": str(path), "template": None, "template_version": None,
            "recognised_as": None, "rows": 0,
            "errors": [{"row": None, "column": None, "header": "", "cell": None,
                        "code": "unreadable", "message": str(error)}],
            "warnings": [], "error_count": 1, "warning_count": 0, "notes": []}


def _validate(args: argparse.Namespace) -> int:
    if len(args.files) > 2:
        raise BadInputError("Give one sheet, or a Main and a Covid Status sheet together.")
    if args.annotate is not None and len(args.files) > 1:
        raise BadInputError("--annotate takes one sheet at a time.")
    reports: list[Any] = []
    worst = 0
    for path in args.files:
        try:
            reports.append(_check(args, path, keep_all=args.annotate is not None))
        except SheetError as error:
            if args.format != "json":
                raise
            reports.append(_unreadable_json(path, error))
            worst = max(worst, error.exit_code)
    if len(args.files) == 2:
        _check_together(args, reports)
    if args.annotate is not None and not isinstance(reports[0], dict):
        from nccid_desktop.sheets.annotate import annotate_copy

        annotate_copy(args.files[0], reports[0], args.annotate)
    if args.format == "json":
        shown = [r if isinstance(r, dict) else r.to_json() for r in reports]
        print(json.dumps(shown[0] if len(shown) == 1 else {"sheets": shown}, indent=2,
                         ensure_ascii=False))
    else:
        from nccid_desktop.sheets.render import render_text

        sys.stdout.write("\n".join(render_text(r) for r in reports))
        if args.annotate is not None:
            print(f"\nAnnotated copy written to {args.annotate}")
    problems = any(isinstance(r, dict) or not r.ok for r in reports)
    return worst or (1 if problems else 0)


def _check_together(args: argparse.Namespace, reports: list[Any]) -> None:
    """A Main and a Covid Status sheet checked together: patients on both are errors."""
    from nccid_desktop.sheets.cross_check import check_together

    readable = [r for r in reports if not isinstance(r, dict)]
    if len(readable) < 2:
        return  # an unreadable sheet is already reported; there is nothing to compare
    by_template = {r.template: r for r in readable}
    if set(by_template) != {"main", "status"}:
        raise BadInputError("Two sheets are checked together only as one Main and one Covid "
                         "Status sheet.")
    keys = None
    if args.key_file is not None:
        from nccid_desktop.keys import check_site_code, load_key_file

        keys = load_key_file(args.key_file, check_site_code(args.site) if args.site else None)
    check_together(by_template["main"], by_template["status"], keys, linking=args.linking)


def _pseudonymise(args: argparse.Namespace) -> int:
    from nccid_desktop.cli._session import configured_opt_outs
    from nccid_desktop.keys import check_site_code, load_key_file
    from nccid_desktop.optouts import opted_out_sentence
    from nccid_desktop.sheets.payload import build_envelopes, opted_out_rows, write_warehouse_files
    from nccid_desktop.sheets.render import render_text

    keys = load_key_file(args.key_file, site=check_site_code(args.site))
    opt_outs = configured_opt_outs(args)
    report = _check(args, args.file)
    if report.error_count and not args.skip_invalid_rows:
        sys.stdout.write(render_text(report))
        raise NccidError(f"Nothing was written: the sheet has {report.error_count} error(s). "
                         "Fix them (see above), or add --skip-invalid-rows.")
    if report.warning_count and not args.accept_warnings:
        sys.stdout.write(render_text(report))
        raise NccidError(f"Nothing was written: the sheet has {report.warning_count} "
                         "warning(s). Check them (see above), then add --accept-warnings.")
    envelopes = build_envelopes(report, keys, centre=args.centre, linking=args.linking,
                                allow_partial=args.skip_invalid_rows, opt_outs=opt_outs)
    written = write_warehouse_files(envelopes, args.out)
    opted_out = opted_out_rows(report, opt_outs)
    if opted_out:
        print(opted_out_sentence(opted_out))
    skipped = report.rows - len(envelopes) - opted_out
    print(f"{len(written)} record file(s) written to {args.out}"
          + (f"; {len(envelopes) - len(written)} already there" if len(written) < len(envelopes)
             else "")
          + (f"; {skipped} row(s) with errors left out" if skipped else "") + ".")
    return 1 if skipped else 0
