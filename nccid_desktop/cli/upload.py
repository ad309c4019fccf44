"""``nccid upload sheet|images``, ``nccid resume``, ``nccid check``, ``nccid summary``.

Why these live together: they share one sign-in (server and user from options, environment or
settings; the password from ``NCCID_PASSWORD`` or a prompt, never an option), one outbox and one
uploader, so an upload interrupted by anything (Ctrl+C, a crash, an expired session) is
finished by ``nccid resume`` or by running the same command again.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import uuid
from pathlib import Path
from typing import cast

from nccid_desktop import config
from nccid_desktop.dicom.select.rules import Selection
from nccid_desktop.errors import AuthError, IdentifierError, NccidError, SheetError
from nccid_desktop.keys import SiteKeys
from nccid_desktop.paths import user_data_dir
from nccid_desktop.pseudonym import LinkingIdentifier, nhs_index
from nccid_desktop.tasks import Progress
from nccid_desktop.transport.client import CollectorClient
from nccid_desktop.transport.errors import PasswordChangeRequiredError
from nccid_desktop.transport.http import http_settings_for
from nccid_desktop.transport.outbox import ItemKind, Outbox
from nccid_desktop.transport.uploader import (
    ALL_KINDS,
    IMAGES_ONLY,
    RECORDS_ONLY,
    Uploader,
    UploadReport,
)

SHOWN_FINDINGS = 20


def _connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", help="collection service address (or NCCID_SERVER)")
    parser.add_argument("--user", help="user name (or NCCID_USER); password from NCCID_PASSWORD "
                        "or a prompt")
    parser.add_argument("--proxy", help="proxy URL (default: environment, then the system's)")
    parser.add_argument("--ca-bundle", help="extra trusted CA certificates (PEM file)")


def register(subparsers: argparse._SubParsersAction) -> None:
    upload = subparsers.add_parser("upload", help="validate, pseudonymise or de-identify, and send")
    kinds = upload.add_subparsers(dest="upload_kind", metavar="WHAT")
    kinds.required = True
    sheet = kinds.add_parser("sheet", help="send a filled-in NCCID spreadsheet")
    sheet.add_argument("file", type=Path)
    _connection_options(sheet)
    sheet.set_defaults(handler=_upload_sheet)
    images = kinds.add_parser("images", help="scan, select, de-identify, verify and send DICOM "
                              "images")
    images.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    images.add_argument("--linking", choices=config.LINKING_CHOICES,
                        help="what the DICOM PatientID holds at this site")
    images.add_argument("--sheet", nargs="+", type=Path, default=[], metavar="XLSX",
                        help="Main or Covid Status workbooks whose test dates choose the images, "
                        "besides the records the service already holds")
    _connection_options(images)
    images.set_defaults(handler=_upload_images)
    resume = subparsers.add_parser("resume", help="finish uploads that were interrupted")
    _connection_options(resume)
    resume.set_defaults(handler=_resume)
    check = subparsers.add_parser("check", help="what the service holds for NHS/CHI numbers")
    check.add_argument("numbers", nargs="*", metavar="NHS")
    check.add_argument("--file", type=Path, help="a text file with one NHS/CHI number a line")
    _connection_options(check)
    check.set_defaults(handler=_check)
    summary = subparsers.add_parser("summary", help="the site's upload counts")
    _connection_options(summary)
    summary.set_defaults(handler=_summary)


class _Session:
    """Settings, a signed-in client and the way to sign in again when the session expires."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.settings = config.load({"server_url": args.server, "username": args.user,
                                     "proxy": args.proxy, "ca_bundle": args.ca_bundle,
                                     "linking": getattr(args, "linking", None)})
        self.client = CollectorClient(self.settings.require_server(),
                                      http_settings_for(self.settings))
        self._password = config.password_from_environment()
        self.sign_in()

    def sign_in(self) -> None:
        username = self.settings.require_username()
        if self._password is None:
            if not sys.stdin.isatty():
                raise AuthError("No password: set NCCID_PASSWORD or run this in a terminal.")
            self._password = getpass.getpass(f"Password for {username}: ")
        signed_in = self.client.sign_in(username, self._password)
        if signed_in.password_change_required:
            raise PasswordChangeRequiredError("Your password has expired. Choose a new one in "
                                              "NCCID Desktop, then run this again.")

    def keys(self) -> SiteKeys:
        return self.client.site_keys()

    def upload(self, outbox: Outbox, kinds: tuple[ItemKind, ...] = ALL_KINDS) -> UploadReport:
        return Uploader(self.client, outbox, reauthenticate=self.sign_in).run(_printer(),
                                                                             kinds=kinds)


def _printer():
    def show(progress: Progress) -> None:
        if sys.stderr.isatty():
            percent = f"{100 * progress.fraction:3.0f}% " if progress.fraction is not None else ""
            print(f"\r{percent}{progress.message}", end="", file=sys.stderr, flush=True)
    return show


def _print_report(report: UploadReport, outbox: Outbox,
                  kinds: tuple[ItemKind, ...] = ALL_KINDS) -> int:
    if sys.stderr.isatty():
        print(file=sys.stderr)
    if "record" in kinds:
        print(f"Records: {report.records_stored} stored, {report.records_unchanged} already up "
              "to date.")
    if "image" in kinds:
        print(f"Images: {report.images_stored} stored, {report.images_already_held} already "
              "held.")
    for problem in report.problems:
        print(f"Not accepted: {problem}")
    left = sum(outbox.count_pending(kind) for kind in kinds)
    if left:
        print(f"{left} items are still waiting; run 'nccid resume' to send them.")
    return 1 if report.problems or left else 0


def _upload_sheet(args: argparse.Namespace) -> int:
    from nccid_desktop.sheets.payload import build_envelopes
    from nccid_desktop.sheets.validator import validate_workbook

    if not args.file.is_file():
        raise SheetError(f"The file {args.file} does not exist.")
    session = _Session(args)
    report = validate_workbook(args.file, hospital_pattern=session.settings.hospital_pattern)
    if report.error_count:
        print(f"The sheet has {report.error_count} problem(s); nothing was sent:")
        for finding in report.errors[:SHOWN_FINDINGS]:
            where = finding.cell or (f"row {finding.row}" if finding.row else "sheet")
            print(f"  {where}: {finding.message}")
        return SheetError.exit_code
    envelopes = build_envelopes(report, session.keys(), linking=session.settings.linking)  # type: ignore[arg-type]
    outbox = Outbox()
    for envelope in envelopes:
        outbox.stage_record(envelope)
    return _print_report(session.upload(outbox, RECORDS_ONLY), outbox, RECORDS_ONLY)


def _upload_images(args: argparse.Namespace) -> int:
    from nccid_desktop.dicom.deid.one_file import DeidContext
    from nccid_desktop.dicom.deid.pipeline import deidentify_batch
    from nccid_desktop.errors import DicomError

    missing = [str(p) for p in args.paths + args.sheet if not p.exists()]
    if missing:
        raise DicomError(f"Not found: {', '.join(missing)}")
    session = _Session(args)
    keys, linking = session.keys(), cast(LinkingIdentifier, session.settings.linking)
    selection = _select_images(args, session.client, keys, linking)
    sources = selection.files_to_send()
    if not sources:
        print("No images to send.")
        return 0
    work = user_data_dir() / "deid-work" / uuid.uuid4().hex
    report = deidentify_batch(sources, work, DeidContext(keys, linking),
                              quarantine_dir=user_data_dir() / "quarantine", progress=_printer())
    outbox = Outbox()
    for outcome in report.outcomes:
        if outcome.status == "deidentified" and outcome.output and outcome.sop_instance_uid:
            outbox.stage_image(outcome.sop_instance_uid, outcome.pseudonym or "", outcome.output,
                               move=True, expected_size=outcome.bytes)
    held_back = sum(n for status, n in report.counts.items() if status != "deidentified")
    if held_back:
        print(f"{held_back} files were not sent (quarantined or not DICOM); see the quarantine "
              f"folder {user_data_dir() / 'quarantine'}.")
    return _print_report(session.upload(outbox, IMAGES_ONLY), outbox, IMAGES_ONLY)


def _select_images(args: argparse.Namespace, client: CollectorClient, keys: SiteKeys,
                   linking: LinkingIdentifier) -> Selection:
    """Scan, then apply the selection rules with the service's and the sheets' test dates."""
    from nccid_desktop.cli._sheet_windows import sheet_records
    from nccid_desktop.dicom.scan.scanner import scan
    from nccid_desktop.dicom.select.rules import SelectionInputs, select, windows_from_records
    from nccid_desktop.transport.service_knowledge import ask_service, merge_windows

    result = scan(args.paths, progress=_printer())
    known = ask_service(client, keys, result)
    sheets = (windows_from_records(e for path in args.sheet
                                   for e in sheet_records(path, keys, linking))
              if args.sheet else None)
    windows = merge_windows(known.windows, sheets)
    selection = select(result, SelectionInputs(keys=keys, linking=linking, windows=windows,
                                               uploaded_uids=known.uploaded_uids))
    if sys.stderr.isatty():
        print(file=sys.stderr)
    for line in selection_lines(selection, checked=windows is not None):
        print(line)
    return selection


def selection_lines(selection: Selection, *, checked: bool = True) -> list[str]:
    """What will be sent and, by reason, what was left out: counts only, no identifiers."""
    chosen = selection.included
    lines = [f"Selected {_count(len(chosen), 'series')} "
             f"({_count(sum(len(d.files) for d in chosen), 'image')}) to send."]
    left_out: dict[str, list[int]] = {}
    for decision in selection.decisions:
        if not decision.included:
            counts = left_out.setdefault(decision.reason, [0, 0])
            counts[0] += 1
            counts[1] += decision.series.instance_count
    if left_out:
        lines.append(f"Left out {_count(sum(c[0] for c in left_out.values()), 'series')}:")
        lines += [f"  {_count(series, 'series')} ({_count(images, 'image')}): {reason}"
                  for reason, (series, images) in sorted(left_out.items(), key=lambda kv: -kv[1][0])]
    again = sum(d.series.instance_count - len(d.files) for d in chosen)
    if again:
        lines.append(f"{_count(again, 'image')} of the selected series were already uploaded "
                     "and are not sent again.")
    if not checked:
        lines.append("The service did not say which patients have clinical records, so the "
                     "images were not checked against them; give --sheet to check them.")
    return lines


def _count(number: int, noun: str, plural: str | None = None) -> str:
    if number == 1 or noun == "series":
        return f"{number} {noun}"
    return f"{number} {plural or noun + 's'}"


def _resume(args: argparse.Namespace) -> int:
    outbox = Outbox()
    if not outbox.recover():
        print("Nothing is waiting to be sent.")
        return 0
    return _print_report(_Session(args).upload(outbox), outbox)


def _numbers(args: argparse.Namespace) -> list[str]:
    numbers = list(args.numbers)
    if args.file:
        try:
            numbers += [line.strip() for line in args.file.read_text().splitlines() if line.strip()]
        except (OSError, UnicodeDecodeError) as error:
            raise NccidError(f"The file {args.file} cannot be read.") from error
    if not numbers:
        raise IdentifierError("Give NHS/CHI numbers, or --file with one a line.")
    return numbers


def _check(args: argparse.Namespace) -> int:
    numbers = _numbers(args)
    session = _Session(args)
    keys = session.keys()
    indexes: list[str | None] = []
    for number in numbers:
        try:
            indexes.append(nhs_index(keys, number))
        except IdentifierError:
            indexes.append(None)
    results = iter(session.client.check([i for i in indexes if i is not None]))
    for position, index in enumerate(indexes, start=1):
        if index is None:
            print(f"#{position}: not a valid NHS/CHI number (check the digits)")
            continue
        r = next(results)
        print(f"#{position}: clinical data {r.clinical_data or 'not received'}; "
              f"status {r.status or 'not received'}; {_count(r.studies, 'study', 'studies')}, "
              f"{_count(r.images, 'image')}")
    return 0


def _summary(args: argparse.Namespace) -> int:
    data = _Session(args).client.summary()
    print(f"{data.get('site_name') or data.get('site')}: {data.get('patients_data', 0)} patients "
          f"with clinical data, {data.get('patients_status', 0)} with a status, "
          f"{data.get('studies', 0)} studies, {data.get('images', 0)} images")
    for recent in data.get("recent") or []:
        print(f"  {recent.get('date')}: {recent.get('count')} {recent.get('kind')}")
    return 0
