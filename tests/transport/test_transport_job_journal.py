"""The job journal: a job is kept before its first file is touched, its file list sealed under a
per-user key kept outside the journal's folder; its progress and series are plain counts."""

from __future__ import annotations

import os
import sqlite3
import stat

import pytest

from nccid_desktop.errors import JournalError
from nccid_desktop.paths import user_config_dir
from nccid_desktop.transport.job_journal import JobSeries, SeriesProgressUpdate
from nccid_desktop.transport.journal_seal import JOURNAL_KEY_FILE, JournalSeal
from nccid_desktop.transport.outbox import Outbox

PLAN = b'{"files": [[0, "/exports/SMITH^JOHN 9434765919/IM1.dcm", null, 1024]]}'


def _job(outbox: Outbox) -> int:
    return outbox.jobs.create(
        site="RSH", linking="hospital", plan=PLAN, files=3, size=3072,
        series=[JobSeries(0, "Covid0000000000000001", "2.25.1", "2.25.2", "CT", 2),
                JobSeries(1, "Covid0000000000000001", "2.25.1", "2.25.3", "CR", 1)])


def test_a_job_is_kept_with_its_plan_sealed_and_its_counts_plain(tmp_path) -> None:
    outbox = Outbox(tmp_path / "outbox")
    job_id = _job(outbox)
    assert outbox.jobs.plan(job_id) == PLAN
    [job] = outbox.jobs.open_jobs()
    assert (job.id, job.site, job.files, job.to_do, job.missing) == (job_id, "RSH", 3, 3, ())
    assert job.label.startswith("the job of ") and job.label.endswith("(3 files)")
    outbox.close()
    raw = b"".join(p.read_bytes() for p in (tmp_path / "outbox").iterdir() if p.is_file())
    for planted in (b"SMITH", b"JOHN", b"9434765919", b"exports"):
        assert planted not in raw, "the file list is sealed, never in the journal as text"


def test_the_key_is_the_users_own_file_outside_the_journal_folder(tmp_path) -> None:
    outbox = Outbox(tmp_path / "outbox")
    _job(outbox)
    key = user_config_dir() / JOURNAL_KEY_FILE
    assert key.is_file() and len(key.read_bytes()) == 32
    assert tmp_path / "outbox" not in key.parents
    if os.name == "posix":
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert not list((tmp_path / "outbox").glob("*.key"))


def test_a_plan_cannot_be_opened_with_another_key_or_none(tmp_path) -> None:
    outbox = Outbox(tmp_path / "outbox")
    job_id = _job(outbox)
    outbox.close()
    other = Outbox(tmp_path / "outbox", key_file=tmp_path / "other.key")
    other.jobs.seal.seal(b"x", b"make the other key")  # a different, valid key
    with pytest.raises(JournalError, match="cannot be resumed"):
        other.jobs.plan(job_id)
    other.close()
    (user_config_dir() / JOURNAL_KEY_FILE).unlink()
    gone = Outbox(tmp_path / "outbox")
    with pytest.raises(JournalError, match="Drop the job"):
        gone.jobs.plan(job_id)


def test_two_processes_creating_the_key_agree_on_one(tmp_path) -> None:
    first, second = JournalSeal(tmp_path / "k"), JournalSeal(tmp_path / "k")
    sealed = first.seal(b"plan", b"c")
    assert second.open(sealed, b"c") == b"plan"
    with pytest.raises(JournalError):
        second.open(sealed, b"another context")


def test_progress_missing_files_and_closing(tmp_path) -> None:
    outbox = Outbox(tmp_path / "outbox")
    job_id = _job(outbox)
    outbox.jobs.record_progress(job_id, processed=2, processed_bytes=2048, missing=[1],
                                series={0: SeriesProgressUpdate(2, 0, {"deidentified": 1}, {})})
    job = outbox.jobs.get(job_id)
    assert (job.processed, job.missing, job.to_do) == (2, (1,), 2)
    assert outbox.jobs.files_to_do() == 2 and outbox.jobs.bytes_to_do() == 1024
    series = outbox.jobs.series(job_id)
    assert (series[0].done, dict(series[0].outcomes)) == (2, {"deidentified": 1})
    assert series[1].key == ("Covid0000000000000001", "2.25.1", "2.25.3")
    outbox.jobs.close_job(job_id, "dropped")
    assert outbox.jobs.open_jobs() == [] and outbox.jobs.counts_by_state() == {"dropped": 1}
    with pytest.raises(JournalError):
        outbox.jobs.plan(job_id)  # a closed job's file list is erased


def test_a_journal_from_before_jobs_gains_the_tables_and_columns(tmp_path) -> None:
    folder = tmp_path / "outbox"
    folder.mkdir()
    old = sqlite3.connect(folder / "outbox.sqlite3")
    old.executescript("""
        CREATE TABLE items (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, item_key TEXT NOT NULL,
            pseudonym TEXT NOT NULL, staging_path TEXT NOT NULL, size INTEGER NOT NULL,
            content_hash TEXT NOT NULL, state TEXT NOT NULL, reason TEXT, batch_id TEXT,
            updated_at TEXT NOT NULL);
        INSERT INTO items VALUES (1, 'image', '2.25.9', 'Covid1', '/x.dcm', 10, 'h', 'staged',
            NULL, NULL, '2026-01-01');""")
    old.commit()
    old.close()
    outbox = Outbox(folder)
    assert outbox.count_pending("image") == 1
    assert outbox.job_images(1) == ({}, {})
    columns = {r[1] for r in sqlite3.connect(folder / "outbox.sqlite3")
               .execute("PRAGMA table_info(items)")}
    assert {"job_id", "job_series", "series_uid"} <= columns
    assert outbox.jobs.open_jobs() == []
    assert [i.staging_path.name for i in outbox.items()] == ["x.dcm"], "the old row is kept"
