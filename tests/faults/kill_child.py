"""A real ``nccid`` process for the kill campaign: the command line's own ``upload images`` or
``resume``, with chunks and batches small enough that a random kill lands in staging as often
as in sending.

Run as ``python -m tests.faults.kill_child upload|resume ARGS...``; NCCID_HOME, NCCID_SERVER,
NCCID_USER and NCCID_PASSWORD come from the environment.
"""

from __future__ import annotations

import sys

from nccid_desktop.cli import main
from nccid_desktop.workflows import resume, send_job

CHUNK_FILES = 10
SEND_BATCH_COUNT = 8

#: Printed (and flushed) when the work begins: the parent's random delay starts then, so its
#: kill lands in staging or sending, not in the interpreter's start-up.
STARTED = "started"


def _say_when_started() -> None:
    journal, resume_task = send_job.SendJob.journal, resume.ResumeRun.task

    def journal_and_say(self):
        job_id = journal(self)
        print(STARTED, flush=True)
        return job_id

    def resume_and_say(self, *args, **kwargs):
        print(STARTED, flush=True)
        return resume_task(self, *args, **kwargs)

    send_job.SendJob.journal = journal_and_say  # type: ignore[method-assign]
    resume.ResumeRun.task = resume_and_say  # type: ignore[method-assign]


if __name__ == "__main__":
    _say_when_started()
    send_job.CHUNK_FILES = CHUNK_FILES
    send_job.SEND_BATCH_COUNT = SEND_BATCH_COUNT
    command = sys.argv[1]
    argv = ["upload", "images", *sys.argv[2:]] if command == "upload" else ["resume"]
    sys.exit(main(argv))
