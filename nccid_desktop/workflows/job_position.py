"""How far a send job has got through its files, as the job journal records it.

Why positions and not names: the journal must say which files are done without naming any
(a file's path may carry a patient's name), and the plan's file list is sealed. Files are
processed in the plan's order, so "the first ``processed`` files, except those set aside in
``missing``" says it all in a few integers. A file is set aside when it cannot be found when
its turn comes (an unplugged drive, a deleted folder); the next run looks for it again first.
"""

from __future__ import annotations

from collections.abc import Sequence

from nccid_desktop.transport.job_journal import JobSummary
from nccid_desktop.workflows.job_plan import PlannedFile, absent


class JobPosition:
    """The processed prefix, the files set aside, and those found again this run."""

    def __init__(self, job: JobSummary | None, files: Sequence[PlannedFile]) -> None:
        """Where ``job`` got to, as journaled; a job not yet journaled is at the start."""
        self.files = files
        self.processed = job.processed if job else 0
        self.processed_bytes = job.processed_bytes if job else 0
        self.missing: set[int] = set(job.missing) if job else set()
        self._retry: set[int] = set()  # set aside before, found again, not yet processed
        self._handled: set[int] = set()  # processed beyond the prefix

    @property
    def complete(self) -> bool:
        return self.processed >= len(self.files) and not self.missing and not self._retry

    def to_do(self) -> list[int]:
        """Files still to process: those set aside before (first), then the rest in order."""
        return sorted(self.missing | self._retry) + list(range(self.processed, len(self.files)))

    def left(self) -> int:
        return len(self.to_do()) - len(self.missing)

    def work_list(self) -> tuple[list[int], set[int]]:
        """The files to process in this run, and those set aside because they are gone."""
        to_do = self.to_do()
        gone = absent(self.files, to_do)
        self._retry = (self.missing | self._retry) - gone
        self.missing = gone
        self._advance()
        return [index for index in to_do if index not in gone], gone

    def processed_chunk(self, done: Sequence[int], vanished: set[int]) -> None:
        """``done`` were processed, except ``vanished`` (gone while their turn came)."""
        self._retry -= set(done)
        self.missing |= vanished
        self._handled |= set(done) - vanished
        self.processed_bytes += sum(self.files[i].source.size for i in done if i not in vanished)
        self._advance()

    def chunk_length(self, work: Sequence[int], max_files: int, max_bytes: int) -> int:
        """How many of ``work`` make the next chunk (at least one file)."""
        count = size = 0
        for index in work:
            file_size = self.files[index].source.size
            if count and (count >= max_files or size + file_size > max_bytes):
                break
            count, size = count + 1, size + file_size
        return count

    def journaled_missing(self) -> list[int]:
        """What the journal keeps as set aside: everything not found or not yet retried."""
        return sorted(self.missing | self._retry)

    def _advance(self) -> None:
        while self.processed < len(self.files) and (self.processed in self._handled
                                                    or self.processed in self.missing):
            self._handled.discard(self.processed)
            self.processed += 1
