"""What a send job is made of: its series and its source files, and how they are journaled.

Why the exact files and not the folders: the selection (the rules, the service's answers, the
sheets, the user's ticks) is decided once, when the user asks for the send; finishing the job
after a crash must send exactly those files, not whatever a new scan and the service's
answers of another day would choose. So the journal keeps the chosen files in order, each with
the number of its series (whose left-out siblings are simply not there), sealed
(:mod:`nccid_desktop.transport.journal_seal`); the series are kept in the clear under their
de-identified names only (pseudonym, remapped study and series UIDs, modality), exactly as
the item journal names staged images, so a resumed job's rows match its staged images.

Files inside a ``.zip`` are kept as the archive and the member's name, and re-read from it.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from nccid_desktop.dicom.scan.sources import SourceFile
from nccid_desktop.dicom.select.rules import Selection
from nccid_desktop.errors import JournalError
from nccid_desktop.keys import SiteKeys
from nccid_desktop.pseudonym import LinkingIdentifier, is_pseudonym, remap_uid
from nccid_desktop.transport.job_journal import JobSeries, JobSummary
from nccid_desktop.transport.outbox import Outbox
from nccid_desktop.transport.staged_series import StagedSeries

PLAN_VERSION = 1


@dataclass(frozen=True)
class PlannedFile:
    """One source file of a job and the number of its series in the job."""

    series: int
    source: SourceFile


@dataclass(frozen=True)
class JobPlan:
    site: str
    linking: LinkingIdentifier
    series: tuple[JobSeries, ...]
    files: tuple[PlannedFile, ...]

    @property
    def included_by_user(self) -> tuple[tuple[int, tuple[str, ...]], ...]:
        """The series the user ticked in although the rules left them out, with the codes
        of the rules overridden (journaled with the series, and logged)."""
        return tuple((s.number, s.included_by_user) for s in self.series if s.included_by_user)

    @property
    def size(self) -> int:
        return sum(f.source.size for f in self.files)


def plan_from_selection(selection: Selection, keys: SiteKeys,
                        linking: LinkingIdentifier) -> JobPlan:
    """The included series of ``selection`` and their files still to send, in order."""
    series: list[JobSeries] = []
    files: list[PlannedFile] = []
    for number, decision in enumerate(selection.included):
        names = StagedSeries.checked(remap_uid(keys, decision.study.study_uid),
                                     remap_uid(keys, decision.series.series_uid),
                                     decision.series.modality or "")
        pseudonym = decision.pseudonym if decision.pseudonym and is_pseudonym(
            decision.pseudonym) else ""
        series.append(JobSeries(number, pseudonym, names.study_uid, names.series_uid,
                                names.modality, len(decision.files),
                                included_by_user=tuple(e.code for e in decision.overridden)))
        files += [PlannedFile(number, f.source) for f in decision.files]
    return JobPlan(keys.site, linking, tuple(series), tuple(files))


def encode_files(files: Iterable[PlannedFile]) -> bytes:
    """The files as the journal seals them."""
    return json.dumps({"version": PLAN_VERSION, "files": [
        [f.series, str(f.source.path), f.source.member, f.source.size] for f in files]}
    ).encode("utf-8")


def decode_files(data: bytes) -> tuple[PlannedFile, ...]:
    try:
        content = json.loads(data)
        if content.get("version") != PLAN_VERSION:
            raise ValueError("unknown version")
        return tuple(PlannedFile(int(series), SourceFile(Path(path), member, int(size)))
                     for series, path, member, size in content["files"])
    except (ValueError, TypeError, KeyError, AttributeError):
        raise JournalError("An unfinished job's list of files is damaged; drop the job and "
                           "send those images again.") from None


def journal_job(outbox: Outbox, plan: JobPlan) -> int:
    """Write the job down (before any of its files is touched); its id in the journal."""
    return outbox.jobs.create(site=plan.site, linking=plan.linking,
                              plan=encode_files(plan.files), files=len(plan.files),
                              size=plan.size, series=list(plan.series))


def load_plan(outbox: Outbox, job: JobSummary) -> JobPlan:
    """A journaled job's plan, its file list opened (:class:`JournalError` if it cannot be)."""
    linking: LinkingIdentifier = "nhs" if job.linking == "nhs" else "hospital"
    return JobPlan(job.site, linking, tuple(outbox.jobs.series(job.id)),
                   decode_files(outbox.jobs.plan(job.id)))


def absent(files: Sequence[PlannedFile], indices: Iterable[int]) -> set[int]:
    """Which of ``files[i]`` for ``i`` in ``indices`` can no longer be found (an unplugged
    drive, a moved or deleted folder, an archive without that member)."""
    members: dict[Path, frozenset[str] | None] = {}
    gone: set[int] = set()
    for index in indices:
        source = files[index].source
        if source.member is None:
            if not source.path.is_file():
                gone.add(index)
            continue
        if source.path not in members:
            members[source.path] = _members(source.path)
        names = members[source.path]
        if names is None or source.member not in names:
            gone.add(index)
    return gone


def _members(archive: Path) -> frozenset[str] | None:
    try:
        with zipfile.ZipFile(archive) as opened:
            return frozenset(opened.namelist())
    except (OSError, zipfile.BadZipFile):
        return None
