"""``nccid resume``: finish everything earlier runs left, or drop a job whose files are gone.

Why it finishes whole jobs: a send is journaled before its first file is de-identified, so
after Ctrl+C, a crash or a switched-off workstation this sends the queued records and images
and de-identifies and sends the files the interrupted job never reached (the same workflow as
the app's start-up offer, :mod:`nccid_desktop.workflows.resume`). A job whose files can no
longer be found is named by when it was asked for and its size, never by a folder, and stays
until its files are back or ``--drop`` closes it.
"""

from __future__ import annotations

import argparse

from nccid_desktop.cli._session import (
    Session,
    connection_options,
    end_progress_line,
    pause_on_ctrl_c,
    print_report,
    printer,
)

INTERRUPTED = 130


def register(subparsers: argparse._SubParsersAction) -> None:
    resume = subparsers.add_parser(
        "resume", help="finish uploads that were interrupted (queued items and unfinished "
        "send jobs)")
    resume.add_argument("--drop", type=int, metavar="JOB",
                        help="give up an unfinished job whose files are gone (its number is "
                        "shown by nccid resume)")
    connection_options(resume)
    resume.set_defaults(handler=_resume)


def _resume(args: argparse.Namespace) -> int:
    from nccid_desktop.paths import user_data_dir
    from nccid_desktop.tasks import NEVER_CANCELLED
    from nccid_desktop.workflows.disk_space import open_outbox
    from nccid_desktop.workflows.resume import ResumeRun, drop_job, unfinished
    from nccid_desktop.workflows.work_folders import WorkFolders

    outbox = open_outbox()
    if args.drop is not None:
        job = drop_job(outbox, args.drop)
        print(f"Dropped {job.label}: its files not yet de-identified will not be looked for "
              "again; images it already queued are still sent.")
        return 0
    outbox.recover()
    left = unfinished(outbox)
    if not left.items and not left.jobs:
        print("Nothing is waiting to be sent.")
        return 0
    session = Session(args)
    run = ResumeRun(outbox, session.client, session.keys(), WorkFolders.under(user_data_dir()),
                    reauthenticate=session.sign_in)
    with pause_on_ctrl_c(run) as interrupted:
        outcome = run.task(printer(), NEVER_CANCELLED)
    end_progress_line()
    for ending in outcome.jobs:
        gone = ending.sources_gone or ending.problem
        drop = f" To drop it: nccid resume --drop {ending.job.id}" if gone else ""
        print(ending.describe() + drop)
    code = print_report(outcome.upload, outbox)
    if interrupted:
        print("Stopped after the batch in flight. Run 'nccid resume' again to finish.")
        return INTERRUPTED
    return code
