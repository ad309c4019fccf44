"""``nccid upload sheet|images``, ``nccid check``, ``nccid summary``.

Why these are thin: checking and uploading a sheet, choosing images and sending them are the
same workflows Send Images and the sheet pages run (:mod:`nccid_desktop.workflows`); this
module parses options and prints. ``upload images`` runs the send as a job, journaled before
its first file is de-identified and sent in chunks: Ctrl+C stops it after the batch in flight,
and ``nccid resume`` finishes it, as it finishes a job cut short by anything else (a crash, a
switched-off workstation, an expired session).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from nccid_desktop.cli._session import (
    LINKING_CHOICES,
    Session,
    connection_options,
    end_progress_line,
    opt_out_option,
    pause_on_ctrl_c,
    print_report,
    printer,
)
from nccid_desktop.errors import BadInputError, IdentifierError, InputNotFoundError, SheetError

if TYPE_CHECKING:
    from nccid_desktop.dicom.select.rules import Selection
    from nccid_desktop.workflows.send_job import SendJob

SHOWN_FINDINGS = 20
INTERRUPTED = 130


def register(subparsers: argparse._SubParsersAction) -> None:
    upload = subparsers.add_parser("upload", help="validate, pseudonymise or de-identify, and send")
    kinds = upload.add_subparsers(dest="upload_kind", metavar="WHAT")
    kinds.required = True
    sheet = kinds.add_parser("sheet", help="send a filled-in NCCID spreadsheet")
    sheet.add_argument("file", type=Path)
    opt_out_option(sheet)
    connection_options(sheet)
    sheet.set_defaults(handler=_upload_sheet)
    images = kinds.add_parser("images", help="scan, select, de-identify, verify and send DICOM "
                              "images (Ctrl+C pauses; 'nccid resume' finishes)")
    images.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    images.add_argument("--linking", choices=LINKING_CHOICES,
                        help="what the DICOM PatientID holds at this site")
    images.add_argument("--sheet", nargs="+", type=Path, default=[], metavar="XLSX",
                        help="Main or Covid Status workbooks whose test dates choose the images, "
                        "besides the records the service already holds (also prints the link "
                        "report: the sheet's patients without images, studies of no patient)")
    images.add_argument("--exclude-series", nargs="+", default=[], metavar="UID",
                        help="leave these series out (their UIDs as 'nccid scan' shows them)")
    images.add_argument("--include-series", nargs="+", default=[], metavar="UID",
                        help="send these series although the rules left them out (never a "
                        "quarantined or held-back one; their UIDs as 'nccid scan' shows them)")
    images.add_argument("--selection", type=Path, metavar="JSON",
                        help="the series to send and leave out: a 'nccid scan --format json' "
                        "report with its \"included\" flags edited (or {\"included\": [...], "
                        "\"excluded\": [...]})")
    opt_out_option(images)
    connection_options(images)
    images.set_defaults(handler=_upload_images)
    check = subparsers.add_parser("check", help="what the service holds for NHS/CHI numbers")
    check.add_argument("numbers", nargs="*", metavar="NHS")
    check.add_argument("--file", type=Path, help="a text file with one NHS/CHI number a line")
    connection_options(check)
    check.set_defaults(handler=_check)
    summary = subparsers.add_parser("summary", help="the site's upload counts")
    connection_options(summary)
    summary.set_defaults(handler=_summary)


def _upload_sheet(args: argparse.Namespace) -> int:
    from nccid_desktop.optouts import opted_out_sentence
    from nccid_desktop.workflows.disk_space import open_outbox
    from nccid_desktop.workflows.sheet_check import check_sheet
    from nccid_desktop.workflows.sheet_upload import upload_sheet

    if not args.file.is_file():
        raise SheetError(f"The file {args.file} does not exist.")
    session = Session(args)
    keys, linking, opt_outs = session.keys(), session.linking, session.opt_outs()
    checked = check_sheet(args.file, hospital_pattern=session.settings.hospital_pattern,
                          keys=keys, linking=linking, keep_cells=False, client=session.client,
                          opt_outs=opt_outs)
    report = checked.report
    if report.error_count:
        print(f"The sheet has {report.error_count} problem(s); nothing was sent:")
        for finding in report.errors[:SHOWN_FINDINGS]:
            where = finding.cell or (f"row {finding.row}" if finding.row else "sheet")
            print(f"  {where}: {finding.message}")
        return 1  # problems found (2 is for a file that cannot be read as a sheet at all)
    outbox = open_outbox()
    outcome = upload_sheet(checked, keys, session.client, outbox, linking, opt_outs=opt_outs,
                           reauthenticate=session.sign_in, progress=printer())
    if outcome.opted_out:
        end_progress_line()
        print(opted_out_sentence(outcome.opted_out))
    return print_report(outcome.upload, outbox, ("record",))


def _upload_images(args: argparse.Namespace) -> int:
    from nccid_desktop.dicom.select.clinical_windows import windows_from_records
    from nccid_desktop.paths import user_data_dir
    from nccid_desktop.tasks import NEVER_CANCELLED
    from nccid_desktop.workflows.disk_space import open_outbox
    from nccid_desktop.workflows.image_selection import (
        check_send_sheets,
        choose,
        image_patient_ids,
        scan_and_ask,
    )
    from nccid_desktop.workflows.opt_outs import OptOutSelection
    from nccid_desktop.workflows.send_job import SendJob
    from nccid_desktop.workflows.series_choice import from_options, resolve
    from nccid_desktop.workflows.work_folders import WorkFolders

    # bad input is said before signing in
    choice = from_options(args.selection, args.exclude_series, args.include_series)
    missing = [str(p) for p in args.paths + args.sheet if not p.exists()]
    if missing:
        raise InputNotFoundError(f"Not found: {', '.join(missing)}")
    session = Session(args)
    keys, linking, opt_outs = session.keys(), session.linking, session.opt_outs()
    scanned = scan_and_ask(args.paths, keys, session.client, progress=printer(), linking=linking)
    included, excluded = resolve(choice, scanned.result, keys)
    sheets = check_send_sheets(args.sheet, keys, linking, on_problems=_sheet_problems,
                               hospital_pattern=session.settings.hospital_pattern,
                               hospital_examples=image_patient_ids(scanned, linking),
                               opt_outs=opt_outs)
    windows = windows_from_records(sheets.envelopes) if args.sheet else None
    opted = OptOutSelection.of(opt_outs, keys, linking, sheets.patients) if opt_outs else None
    selection = choose(scanned, keys, linking, windows, excluded, included,
                       negative_days_after=session.settings.negative_window_days_after,
                       opt_outs=opted)
    end_progress_line()
    checked = scanned.service_windows is not None or windows is not None
    for line in selection_lines(selection, checked=checked):
        print(line)
    for uid in sorted(included):
        decision = next(d for d in selection.decisions if d.series.series_uid == uid)
        if not decision.included:
            print(f"A series you included cannot be sent: {decision.reason}.")
    if args.sheet:
        print("", *sheets.links(selection).text_lines(), "", sep="\n")
    if not selection.files_to_send():
        print("No images to send.")
        return 0
    outbox, folders = open_outbox(), WorkFolders.under(user_data_dir())
    job = SendJob.plan_send(selection, keys, linking, session.client, outbox, folders,
                            reauthenticate=session.sign_in)
    with pause_on_ctrl_c(job) as interrupted:
        job.task(printer(), NEVER_CANCELLED)
    end_progress_line()
    not_sent_lines(job, folders.quarantine)
    ending = job.ending()
    if ending.sources_gone:
        print(f"{ending.describe()} To drop it: nccid resume --drop {ending.job.id}")
    code = print_report(job.upload, outbox, ("image",))
    if interrupted:
        print(f"Stopped after the batch in flight: {job.images_sent} images sent. Run "
              f"'nccid resume' to finish {ending.job.label}.")
        return INTERRUPTED
    return code


def not_sent_lines(job: SendJob, quarantine: Path) -> None:
    """The files of the job not sent, counted by reason (held back, duplicates, quarantined,
    refused, not DICOM), so the counts printed add up to the files written and sent."""
    from collections import Counter

    held_back = sum(sum(s.counts.values()) - s.deidentified for s in job.series.values())
    if not held_back:
        return
    reasons: Counter[str] = Counter()
    for state in job.series.values():
        reasons.update(state.reasons)
    print(f"{held_back} files were not sent:")
    for reason, count in reasons.most_common():
        print(f"  {count}: {reason}")
    print(f"Quarantined and refused files are kept in {quarantine}.")


def _sheet_problems(path: Path, errors: int) -> None:
    print(f"nccid: {path.name} has {errors} problem(s); rows with problems are not linked. "
          "Check it with the sheet validator.", file=sys.stderr)


def selection_lines(selection: Selection, *, checked: bool = True) -> list[str]:
    """What will be sent and, by reason, what was left out or held back: counts only, no
    identifiers."""
    from collections import Counter

    from nccid_desktop.dicom.scan.model import HOLD_REASONS
    from nccid_desktop.workflows.opt_outs import opted_out_images, opted_out_images_sentence
    from nccid_desktop.workflows.words import plural

    chosen = selection.included
    opted_patients, opted_images = opted_out_images(selection.decisions)
    lines = [opted_out_images_sentence(opted_patients, opted_images)] if opted_patients else []
    lines += [f"Selected {plural(len(chosen), 'series')} "
              f"({plural(sum(len(d.files) for d in chosen), 'image')}) to send."]
    left_out: dict[str, list[int]] = {}
    for decision in selection.decisions:
        if not decision.included:
            counts = left_out.setdefault(decision.reason, [0, 0])
            counts[0] += 1
            counts[1] += decision.series.instance_count
    if left_out:
        lines.append(f"Left out {plural(sum(c[0] for c in left_out.values()), 'series')}:")
        lines += [f"  {plural(series, 'series')} ({plural(images, 'image')}): {reason}"
                  for reason, (series, images) in sorted(left_out.items(), key=lambda kv: -kv[1][0])]
    held = Counter(f.hold for d in selection.decisions for f in d.series.held_back_files)
    for code, count in held.items():
        lines.append(f"Held back {plural(count, 'image')} (never sent): "
                     f"{HOLD_REASONS.get(code or '', '')}")
    again = sum(d.series.instance_count - len(d.files) - len(d.series.held_back_files)
                for d in chosen)
    if again:
        lines.append(f"{plural(again, 'image')} of the selected series were already uploaded "
                     "and are not sent again.")
    for decision in selection.overridden:
        lines.append(f"Included by you: series {decision.series.number or '?'} "
                     f"({decision.series.modality or 'no modality'}), {decision.detail}.")
    if not checked:
        lines.append("The service did not say which patients have clinical records, so the "
                     "images were not checked against them; give --sheet to check them.")
    return lines


def _numbers(args: argparse.Namespace) -> list[str]:
    from nccid_desktop.workflows.numbers_file import read_numbers_file

    numbers = list(args.numbers)
    if args.file:
        numbers += read_numbers_file(args.file)
    if not numbers:
        raise BadInputError("Give NHS/CHI numbers, or --file with one a line.")
    return numbers


def _check(args: argparse.Namespace) -> int:
    from nccid_desktop.pseudonym import nhs_index
    from nccid_desktop.uk_dates import uk_prose_of
    from nccid_desktop.workflows.words import plural

    numbers = _numbers(args)
    session = Session(args)
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
        data = f"received {uk_prose_of(r.clinical_data)}" if r.clinical_data else "not received"
        status = f"received {uk_prose_of(r.status)}" if r.status else "not received"
        print(f"#{position}: clinical data {data}; status {status}; {plural(r.studies, 'study')}, "
              f"{plural(r.images, 'image')}")
    return 0


def _summary(args: argparse.Namespace) -> int:
    from nccid_desktop.workflows.takeback import retention_words

    data = Session(args).client.summary()
    print(f"{data.get('site_name') or data.get('site')}: {data.get('patients_data', 0)} patients "
          f"with clinical data, {data.get('patients_status', 0)} with a status, "
          f"{data.get('studies', 0)} studies, {data.get('images', 0)} images")
    for recent in data.get("recent") or []:
        print(f"  {recent.get('date')}: {recent.get('count')} {recent.get('kind')}")
    print(retention_words(data))
    return 0
