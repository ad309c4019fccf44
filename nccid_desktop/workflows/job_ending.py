"""How a send job's run ended, in the words both front ends use.

Why words here: the command line and Send Images must say the same thing when a job is
finished, or when some of its files are gone, and name the job the same way: by the date and
time it was asked for and its size, never by a folder (which may carry a patient's name).
"""

from __future__ import annotations

from dataclasses import dataclass

from nccid_desktop.transport.job_journal import JobSummary
from nccid_desktop.workflows.words import plural

SOURCES_GONE = ("{count} of {job} can no longer be found (a drive unplugged, or a folder "
                "moved or deleted); everything else was sent. Reconnect them and resume again, "
                "or drop the job.")


@dataclass(frozen=True)
class JobEnding:
    """What a run did with one job: finished it, or left it open (files gone, a problem)."""

    job: JobSummary
    finished: bool
    sources_gone: int = 0
    problem: str = ""

    def describe(self) -> str:
        if self.problem:
            return f"{self.job.label.capitalize()} was not finished: {self.problem}"
        if self.sources_gone:
            return SOURCES_GONE.format(count=plural(self.sources_gone, "file"),
                                       job=self.job.label)
        if self.finished:
            return f"Finished {self.job.label}."
        return f"{self.job.label.capitalize()} is not finished yet."
