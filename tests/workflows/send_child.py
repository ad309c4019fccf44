"""A real ``nccid upload images`` process for the kill tests, stopped at a chosen moment.

Run as ``python -m tests.workflows.send_child PHASE PATH... --sheet XLSX``; NCCID_HOME,
NCCID_SERVER, NCCID_USER and NCCID_PASSWORD come from the environment. It wraps one seam of
the real code so that, at that moment, it prints PHASE and waits for the parent's SIGKILL;
then it runs the command line's own ``upload images``:

- ``journaled``: the job is written down, no file de-identified yet;
- ``staging``: two files of the first chunk are staged, the rest never de-identified;
- ``sending``: a batch is marked sent and is about to be posted (earlier batches answered);
- ``ctrl-c``: no wait; the process sends itself SIGINT (Ctrl+C) as its first batch goes.
"""

from __future__ import annotations

import os
import signal
import sys
import time

from nccid_desktop.cli import main
from nccid_desktop.transport.outbox import Outbox
from nccid_desktop.transport.uploader import Uploader
from nccid_desktop.workflows import send_job

STAGED_BEFORE_KILL = 2


def _stop(phase: str) -> None:
    print(phase, flush=True)
    time.sleep(600)


def _arm(phase: str) -> None:
    journal, stage, send = send_job.SendJob.journal, Outbox.stage_image, Uploader._send_images
    calls = {"stage": 0, "send": 0}

    def journal_then_stop(self):
        job_id = journal(self)
        if phase == "journaled":
            _stop(phase)
        return job_id

    def stage_then_stop(self, *args, **kwargs):
        outcome = stage(self, *args, **kwargs)
        calls["stage"] += 1
        if phase == "staging" and calls["stage"] == STAGED_BEFORE_KILL:
            _stop(phase)
        return outcome

    def send_or_stop(self, *args, **kwargs):
        calls["send"] += 1
        if phase == "sending" and calls["send"] == 2:
            _stop(phase)
        if phase == "ctrl-c" and calls["send"] == 1:
            os.kill(os.getpid(), signal.SIGINT)
        return send(self, *args, **kwargs)

    send_job.SendJob.journal = journal_then_stop  # type: ignore[method-assign]
    Outbox.stage_image = stage_then_stop  # type: ignore[method-assign]
    Uploader._send_images = send_or_stop  # type: ignore[method-assign]
    send_job.CHUNK_FILES = 6
    send_job.SEND_BATCH_COUNT = 3


if __name__ == "__main__":
    _arm(sys.argv[1])
    sys.exit(main(["upload", "images", *sys.argv[2:]]))
