"""``nccid withdraw`` and ``nccid images remove``: taking data back from the service.

Why a confirmation: a withdrawal removes everything the service holds for the patient and
cannot be undone, so the command shows what the service holds and asks, unless ``--yes``
(for scripts that have asked already). The NHS/CHI number is typed here and never sent: the
workstation turns it into keyed hashes (:mod:`nccid_desktop.workflows.takeback`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nccid_desktop.cli._session import Session, connection_options, end_progress_line, printer
from nccid_desktop.errors import NccidError

REASONS = ("opt-out", "patient-request", "wrong-patient")


def register(subparsers: argparse._SubParsersAction) -> None:
    withdraw = subparsers.add_parser(
        "withdraw", help="withdraw a patient: the service removes everything it holds for them")
    withdraw.add_argument("number", metavar="NHS_OR_CHI_NUMBER")
    withdraw.add_argument("--reason", required=True, choices=REASONS)
    withdraw.add_argument("--hospital-number", metavar="NUMBER",
                          help="the patient's hospital number, when the site links images on "
                          "hospital numbers and the service may not know the NHS/CHI number")
    withdraw.add_argument("--yes", action="store_true",
                          help="do not ask for confirmation (you have checked what it removes)")
    withdraw.add_argument("--linking", choices=("hospital", "nhs"),
                          help="what the DICOM PatientID holds at this site")
    connection_options(withdraw)
    withdraw.set_defaults(handler=_withdraw)

    images = subparsers.add_parser("images", help="images already sent: remove a study")
    actions = images.add_subparsers(dest="images_command", metavar="ACTION")
    actions.required = True
    remove = actions.add_parser("remove", help="remove a wrongly linked study from the service")
    remove.add_argument("--study", required=True, metavar="SOURCE_STUDY_UID_OR_FOLDER",
                        help="the study's own StudyInstanceUID, or its exported folder")
    connection_options(remove)
    remove.set_defaults(handler=_remove_study)


def _confirmed(question: str) -> bool:
    if not sys.stdin.isatty():
        raise NccidError("Nothing was withdrawn: confirm with --yes when not in a terminal.")
    return input(f"{question} Type 'withdraw' to confirm: ").strip().lower() == "withdraw"


def _withdraw(args: argparse.Namespace) -> int:
    from nccid_desktop.workflows.takeback import preview_withdrawal, withdraw_patient

    session = Session(args)
    keys, linking = session.keys(), session.linking
    preview = preview_withdrawal(session.client, keys, args.number, linking,
                                 args.hospital_number, progress=printer())
    end_progress_line()
    print(preview.describe())
    if preview.withdrawn_on:
        return 0
    if not args.yes and not _confirmed("This cannot be undone."):
        print("Nothing was withdrawn.")
        return 1
    done = withdraw_patient(session.client, keys, args.number, args.reason, linking,
                            args.hospital_number, progress=printer())
    end_progress_line()
    print(done.describe())
    return 0


def _remove_study(args: argparse.Namespace) -> int:
    from nccid_desktop.workflows.takeback import remove_studies

    session = Session(args)
    removed = remove_studies(session.client, session.keys(), str(Path(args.study)),
                             progress=printer())
    end_progress_line()
    print(f"Removed {removed} image(s) of the study from the service; it can be sent again "
          "once linked to the right patient.")
    return 0
