"""A full disk stops a send job cleanly and Resume finishes it once space is freed: checked
before de-identifying (the folder and how much to free named), and when the disk fills while
the job runs, on a small real file system (tmpfs) and with an injected ``ENOSPC``. Nothing
half-written is left behind or journaled as done; each image reaches the real collection
service exactly once."""

from __future__ import annotations

import errno
import re
import shutil
from pathlib import Path

import pytest

from nccid_desktop.dicom.deid import one_file
from nccid_desktop.errors import DiskFullError
from nccid_desktop.tasks import NEVER_CANCELLED, no_progress
from nccid_desktop.transport import staging_files
from nccid_desktop.transport.outbox import Outbox
from nccid_desktop.workflows import send_job
from nccid_desktop.workflows.disk_space import MB, SpaceNeed, check_space
from nccid_desktop.workflows.resume import ResumeRun
from nccid_desktop.workflows.send_job import SendJob
from nccid_desktop.workflows.work_folders import WorkFolders
from tests.workflows.send_setup import (
    assert_held_once,
    expected_uids,
    export,
    selection_of,
    sheet,
    stored,
)
from tests.workflows.small_disk import fill, small_disk

SLICES = 4
FULL_MESSAGE = re.compile(r"The disk holding (.+) is full: free (\d+) MB and press Resume")


def _plan(tmp_path: Path, data: Path, seeds: list[int], keys, client):
    selection = selection_of([export(tmp_path / "pacs", seeds, SLICES)],
                             sheet(tmp_path / "status.xlsx", seeds), keys, client)
    outbox = Outbox(data / "outbox")
    job = SendJob.plan_send(selection, keys, "hospital", client, outbox, WorkFolders.under(data))
    return job, outbox, expected_uids(selection, keys)


def _resume(outbox: Outbox, keys, client, data: Path):
    return ResumeRun(outbox, client, keys, WorkFolders.under(data)).task(no_progress,
                                                                        NEVER_CANCELLED)


def _half_written(data: Path) -> list[Path]:
    return [p for p in data.rglob("*") if p.is_file() and (
        p.name.endswith((".part", ".tmp")) or p.parent.parent == data / "images-work")]


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(send_job, "CHUNK_FILES", SLICES)
    monkeypatch.setattr(send_job, "SEND_BATCH_COUNT", 2)


def test_the_space_check_adds_up_folders_on_one_disk(tmp_path: Path) -> None:
    free = shutil.disk_usage(tmp_path).free
    check_space([SpaceNeed(tmp_path / "a", MB), SpaceNeed(tmp_path / "b" / "c", MB)])
    with pytest.raises(DiskFullError) as caught:
        check_space([SpaceNeed(tmp_path / "a", free // 2 + MB),
                     SpaceNeed(tmp_path / "b", free // 2 + MB)])
    assert "There is not enough free space on the disk holding" in str(caught.value)
    assert caught.value.needed_bytes > 0


def test_too_little_space_stops_before_anything_is_deidentified_and_resume_finishes(
        tmp_path, collector, client, keys, small_chunks, monkeypatch) -> None:
    with small_disk(tmp_path / "disk", 48) as disk:
        data = disk / "data"
        job, outbox, expected = _plan(tmp_path, data, [901, 902], keys, client)
        filler = fill(disk, leave=4 * MB)
        calls: list[int] = []
        real = send_job.deidentify_batch
        monkeypatch.setattr(send_job, "deidentify_batch",
                            lambda sources, *a, **k: (calls.append(1), real(sources, *a, **k))[1])
        before = stored(collector)
        with pytest.raises(DiskFullError) as caught:
            job.task(no_progress, NEVER_CANCELLED)
        message = str(caught.value)
        assert f"on the disk holding {data}" in message, message
        assert re.search(r"Free \d+ MB and press Resume", message), message
        assert calls == [], "nothing de-identified"
        [open_job] = outbox.jobs.open_jobs()
        assert open_job.processed == 0
        filler.unlink()
        outcome = _resume(outbox, keys, client, data)
        assert [e.finished for e in outcome.jobs] == [True]
        assert outbox.jobs.open_jobs() == [] and outbox.count_pending() == 0
        assert_held_once(collector, expected, before)
        outbox.close()


def test_a_disk_that_fills_during_the_job_stops_it_cleanly_and_resume_finishes(
        tmp_path, collector, client, keys, small_chunks, monkeypatch) -> None:
    with small_disk(tmp_path / "disk", 48) as disk:
        data = disk / "data"
        job, outbox, expected = _plan(tmp_path, data, [911, 912, 913], keys, client)
        fillers: list[Path] = []
        real = send_job.deidentify_batch

        def another_program_fills_the_disk(sources, *args, **kwargs):
            if not fillers:
                fillers.append(fill(disk))
            return real(sources, *args, **kwargs)

        monkeypatch.setattr(send_job, "deidentify_batch", another_program_fills_the_disk)
        before = stored(collector)
        with pytest.raises(DiskFullError) as caught:
            job.task(no_progress, NEVER_CANCELLED)
        found = FULL_MESSAGE.search(str(caught.value))
        assert found, str(caught.value)
        assert Path(found.group(1)).is_relative_to(data)
        assert _half_written(data) == []
        [open_job] = outbox.jobs.open_jobs()
        assert open_job.processed < open_job.files, "no file journaled as done unwritten"
        fillers[0].unlink()
        monkeypatch.setattr(send_job, "deidentify_batch", real)
        _resume(outbox, keys, client, data)
        assert outbox.jobs.open_jobs() == [] and outbox.count_pending() == 0
        assert_held_once(collector, expected, before)
        outbox.close()


def test_an_injected_enospc_mid_chunk_keeps_only_whole_files_and_resume_finishes(
        tmp_path, collector, client, keys, small_chunks, monkeypatch) -> None:
    data = tmp_path / "data"
    job, outbox, expected = _plan(tmp_path, data, [921, 922, 923], keys, client)
    written: list[int] = []
    real_stage = one_file.stage

    def full_at_the_sixth_file(target, content):
        if len(written) == 5:
            part = target.with_name(target.name + ".tmp")
            part.write_bytes(content[: len(content) // 2])
            part.unlink()  # what the atomic writer does with a cut-short copy
            raise OSError(errno.ENOSPC, "No space left on device", str(part))
        written.append(1)
        return real_stage(target, content)

    monkeypatch.setattr(one_file, "stage", full_at_the_sixth_file)
    before = stored(collector)
    with pytest.raises(DiskFullError) as caught:
        job.task(no_progress, NEVER_CANCELLED)
    assert FULL_MESSAGE.search(str(caught.value)), str(caught.value)
    [open_job] = outbox.jobs.open_jobs()
    assert open_job.processed == SLICES + 1, "journaled up to the last file written whole"
    assert sum(s.counts["failed"] for s in job.series.values()) == 0
    assert _half_written(data) == []
    monkeypatch.setattr(one_file, "stage", real_stage)
    _resume(outbox, keys, client, data)
    assert outbox.jobs.open_jobs() == [] and outbox.count_pending() == 0
    assert_held_once(collector, expected, before)


def test_a_journal_that_cannot_grow_is_a_full_disk_not_an_unexpected_failure(
        tmp_path, collector, client, keys, small_chunks, monkeypatch) -> None:
    import sqlite3

    data = tmp_path / "data"
    job, outbox, expected = _plan(tmp_path, data, [931, 932], keys, client)
    real = outbox.jobs.record_progress
    calls: list[int] = []

    def database_full(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise sqlite3.OperationalError("database or disk is full")
        return real(*args, **kwargs)

    monkeypatch.setattr(outbox.jobs, "record_progress", database_full)
    before = stored(collector)
    with pytest.raises(DiskFullError) as caught:
        job.task(no_progress, NEVER_CANCELLED)
    found = FULL_MESSAGE.search(str(caught.value))
    assert found and Path(found.group(1)) == data / "outbox", str(caught.value)
    monkeypatch.setattr(outbox.jobs, "record_progress", real)
    _resume(outbox, keys, client, data)
    assert outbox.jobs.open_jobs() == [] and outbox.count_pending() == 0
    assert_held_once(collector, expected, before)


def test_a_copy_into_staging_cut_short_leaves_no_part_and_keeps_the_source(
        tmp_path, monkeypatch) -> None:
    source = tmp_path / "a.dcm"
    source.write_bytes(b"x" * 10_000)
    target = tmp_path / "staging" / "b.dcm"
    target.parent.mkdir()

    def copy_cut_short(src, dst):
        Path(dst).write_bytes(b"x" * 100)
        raise OSError(errno.ENOSPC, "No space left on device", str(dst))

    monkeypatch.setattr(staging_files.shutil, "copyfile", copy_cut_short)
    monkeypatch.setattr(staging_files, "same_device", lambda a, b: False)
    with pytest.raises(OSError):
        staging_files.place_file(source, target, move=True)
    assert list(target.parent.iterdir()) == []
    assert source.read_bytes() == b"x" * 10_000
