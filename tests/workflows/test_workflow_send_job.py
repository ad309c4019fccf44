"""The send job without a display: journaled first, chunked, paused and resumed, cancelled, and
finished whole by a resume, against the real collection service (checked on its side)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nccid_desktop.errors import CancelledError
from nccid_desktop.tasks import NEVER_CANCELLED, CancelToken, Progress, no_progress
from nccid_desktop.transport.outbox import Outbox
from nccid_desktop.workflows import send_job
from nccid_desktop.workflows.resume import ResumeRun, drop_job, unfinished
from nccid_desktop.workflows.send_job import SendJob
from nccid_desktop.workflows.work_folders import WorkFolders
from tests.workflows.send_setup import (
    assert_held_once,
    expected_uids,
    export,
    selection_of,
    sheet,
    stored,
    zipped,
)

SLICES = 4


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(send_job, "CHUNK_FILES", SLICES)
    monkeypatch.setattr(send_job, "SEND_BATCH_COUNT", 2)


def _plan(tmp_path: Path, seeds: list[int], keys, client, *, paths=None):
    source = paths or [export(tmp_path / "pacs", seeds, SLICES)]
    selection = selection_of(source, sheet(tmp_path / "status.xlsx", seeds), keys, client)
    assert len(selection.included) == len(seeds)
    outbox = Outbox(tmp_path / "data" / "outbox")
    job = SendJob.plan_send(selection, keys, "hospital", client, outbox,
                            WorkFolders.under(tmp_path / "data"))
    return job, outbox, expected_uids(selection, keys)


def _resume(outbox: Outbox, keys, client, tmp_path: Path):
    return ResumeRun(outbox, client, keys, WorkFolders.under(tmp_path / "data")).task(
        no_progress, NEVER_CANCELLED)


def test_the_job_is_journaled_before_the_first_file_is_deidentified(
        tmp_path, collector, client, keys, monkeypatch) -> None:
    job, outbox, expected = _plan(tmp_path, [101, 102], keys, client)
    assert outbox.jobs.open_jobs() == [], "planning touches nothing"
    journaled_when_called: list[int] = []
    real = send_job.deidentify_batch

    def watching(sources, *args, **kwargs):
        journaled_when_called.append(sum(j.files for j in outbox.jobs.open_jobs()))
        return real(sources, *args, **kwargs)

    monkeypatch.setattr(send_job, "deidentify_batch", watching)
    before = stored(collector)
    job.task(no_progress, NEVER_CANCELLED)
    assert journaled_when_called[0] == 2 * SLICES, "the whole job was written down first"
    assert job.closed and outbox.jobs.open_jobs() == []
    assert outbox.jobs.counts_by_state() == {"done": 1}
    assert_held_once(collector, expected, before)


def test_a_job_goes_in_chunks_with_one_bar_and_a_state_per_series(
        tmp_path, collector, client, keys, small_chunks, monkeypatch) -> None:
    job, outbox, expected = _plan(tmp_path, [111, 112, 113], keys, client)
    assert outbox.pending_bytes() == 0
    chunks: list[int] = []
    real = send_job.deidentify_batch
    monkeypatch.setattr(send_job, "deidentify_batch",
                        lambda sources, *a, **k: (chunks.append(len(sources)),
                                                  real(sources, *a, **k))[1])
    bars: list[Progress] = []
    before = stored(collector)
    job.task(bars.append, NEVER_CANCELLED)
    assert chunks == [SLICES] * 3
    assert [state.describe() for state in job.series.values()] == [f"Sent {SLICES} of {SLICES}"] * 3
    done = [p.done for p in bars]
    assert done == sorted(done) and all(p.done <= p.total for p in bars if p.total)
    assert bars[-1].done == bars[-1].total, "full only with the service's last answer"
    assert job.images_sent == job.upload.images_stored == 3 * SLICES
    assert outbox.count_pending() == 0 and outbox.jobs.open_jobs() == []
    assert_held_once(collector, expected, before)


def test_pause_keeps_the_job_and_a_resume_after_a_restart_finishes_it(
        tmp_path, collector, client, keys, small_chunks) -> None:
    job, outbox, expected = _plan(tmp_path, [121, 122, 123], keys, client)
    job.on_change = lambda: job.images_sent >= 2 and job.request_pause()
    before = stored(collector)
    job.task(no_progress, NEVER_CANCELLED)
    assert job.paused and not job.closed
    sent = job.images_sent
    assert 2 <= sent < len(expected)
    assert len(stored(collector)) - len(before) == sent
    [journaled] = outbox.jobs.open_jobs()
    assert journaled.processed < journaled.files, "files never de-identified remain"
    assert any(s.describe().startswith("Paused (") for s in job.series.values())
    outbox.close()

    again = Outbox(tmp_path / "data" / "outbox")  # as a new process finds it
    left = unfinished(again)
    assert left.files_to_deidentify == journaled.to_do and left.items > 0
    outcome = _resume(again, keys, client, tmp_path)
    assert [e.finished for e in outcome.jobs] == [True]
    assert outcome.images_sent == len(expected) - sent
    assert again.jobs.open_jobs() == [] and again.count_pending() == 0
    assert_held_once(collector, expected, before)


def test_the_users_cancel_closes_the_job_but_a_stop_leaves_it_to_resume(
        tmp_path, collector, client, keys, small_chunks) -> None:
    job, outbox, expected = _plan(tmp_path, [131, 132, 133], keys, client)
    cancel = CancelToken()

    def user_cancels() -> None:
        if job.images_sent:
            job.request_cancel()
            cancel.cancel()

    job.on_change = user_cancels
    before = stored(collector)
    with pytest.raises(CancelledError):
        job.task(no_progress, cancel)
    assert outbox.jobs.open_jobs() == [] and outbox.jobs.counts_by_state() == {"cancelled": 1}
    assert any(s.describe().startswith("Stopped (") for s in job.series.values())
    held = len(stored(collector)) - len(before)
    assert 2 <= held < len(expected)

    other, outbox2, expected2 = _plan(tmp_path / "closing", [134, 135], keys, client)
    stop = CancelToken()
    other.on_change = lambda: other.images_sent and stop.cancel()  # the window closes
    before2 = stored(collector)
    with pytest.raises(CancelledError):
        other.task(no_progress, stop)
    assert [j.files for j in outbox2.jobs.open_jobs()] == [2 * SLICES], "left to resume"
    _resume(outbox2, keys, client, tmp_path / "closing")
    assert outbox2.jobs.open_jobs() == []
    assert_held_once(collector, expected2, before2)


def test_files_gone_are_set_aside_the_rest_sent_and_the_job_waits_for_them(
        tmp_path, collector, client, keys, small_chunks) -> None:
    seeds = [141, 142]
    job, outbox, expected = _plan(tmp_path, seeds, keys, client)
    unplugged = tmp_path / "unplugged"
    shutil.move(tmp_path / "pacs" / "EXPORTED142", unplugged)
    before = stored(collector)
    job.task(no_progress, NEVER_CANCELLED)
    ending = job.ending()
    assert (ending.finished, ending.sources_gone) == (False, SLICES)
    text = ending.describe()
    assert text.startswith(f"{SLICES} files of the job of ") and f"({2 * SLICES} files)" in text
    assert "EXPORTED" not in text and str(tmp_path) not in text, "a job is never named by a path"
    assert len(stored(collector)) - len(before) == SLICES, "the rest was sent"
    assert [s.missing for s in job.series.values()] == [0, SLICES]
    assert "no longer found" in list(job.series.values())[1].describe()
    assert outbox.jobs.open_jobs()[0].missing, "the journal keeps them aside by position"

    shutil.move(unplugged, tmp_path / "pacs" / "EXPORTED142")  # plugged back in
    outcome = _resume(outbox, keys, client, tmp_path)
    assert [(e.finished, e.sources_gone) for e in outcome.jobs] == [(True, 0)]
    assert_held_once(collector, expected, before)


def test_files_that_vanish_mid_job_are_not_counted_as_unreadable_and_a_job_can_be_dropped(
        tmp_path, collector, client, keys, small_chunks) -> None:
    job, outbox, _ = _plan(tmp_path, [151, 152], keys, client)
    job.on_change = lambda: shutil.rmtree(tmp_path / "pacs" / "EXPORTED152", ignore_errors=True)
    job.task(no_progress, NEVER_CANCELLED)
    assert job.sources_gone == SLICES
    assert all(set(s.counts) <= {"deidentified"} for s in job.series.values()), \
        "a file that disappeared is set aside, never refused as unreadable"
    outcome = _resume(outbox, keys, client, tmp_path)
    assert [e.sources_gone for e in outcome.jobs] == [SLICES], "still gone: still waiting"
    dropped = drop_job(outbox, outcome.jobs[0].job.id)
    assert dropped.label in outcome.jobs[0].describe()
    assert unfinished(outbox).items == 0 and outbox.jobs.open_jobs() == []


def test_a_job_from_a_zip_is_resumed_from_the_zip(tmp_path, collector, client, keys,
                                                  small_chunks) -> None:
    archive = zipped(export(tmp_path / "pacs", [161, 162], SLICES), tmp_path / "export.zip")
    job, outbox, expected = _plan(tmp_path, [161, 162], keys, client, paths=[archive])
    assert {f.source.member is not None for f in job.plan.files} == {True}
    job.on_change = lambda: job.request_pause()
    before = stored(collector)
    job.task(no_progress, NEVER_CANCELLED)
    assert job.paused and outbox.jobs.open_jobs()[0].to_do == SLICES
    outbox.close()
    again = Outbox(tmp_path / "data" / "outbox")
    outcome = _resume(again, keys, client, tmp_path)
    assert [e.finished for e in outcome.jobs] == [True]
    assert_held_once(collector, expected, before)


def test_another_sites_job_is_not_finished_with_these_keys(tmp_path, collector, client,
                                                           keys) -> None:
    from dataclasses import replace

    job, outbox, _ = _plan(tmp_path, [171], keys, client)
    job.journal()
    outcome = _resume(outbox, replace(keys, site="OTH"), client, tmp_path)
    [ending] = outcome.jobs
    assert not ending.finished and "site RSH" in ending.describe()
    assert len(outbox.jobs.open_jobs()) == 1


def test_the_workflows_import_no_qt_and_no_front_end() -> None:
    probe = ("import pkgutil, importlib, sys, nccid_desktop.workflows as w\n"
             "for m in pkgutil.iter_modules(w.__path__): importlib.import_module(f'{w.__name__}.{m.name}')\n"
             "bad = [m for m in sys.modules if m.startswith(('PySide6', 'nccid_desktop.gui', "
             "'nccid_desktop.cli', 'nccid_collector'))]\n"
             "print(bad)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
