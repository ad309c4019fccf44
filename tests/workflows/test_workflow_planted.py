"""A send from folders named after a patient (``SMITH^JOHN 9434765919/``): neither the name nor
the number reaches the journal (sealed or not, open job or finished), the logs or the
diagnostics bundle; the journal key never reaches the bundle either."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from nccid_desktop.diagnostics import save_diagnostics
from nccid_desktop.logsafe import configure_logging
from nccid_desktop.paths import user_config_dir, user_data_dir, user_log_dir
from nccid_desktop.tasks import NEVER_CANCELLED, no_progress
from nccid_desktop.transport.journal_seal import JOURNAL_KEY_FILE
from nccid_desktop.transport.outbox import Outbox
from nccid_desktop.workflows import send_job
from nccid_desktop.workflows.resume import ResumeRun
from nccid_desktop.workflows.send_job import SendJob
from nccid_desktop.workflows.work_folders import WorkFolders
from tests.support.planted import leaks_in_folder, leaks_in_zip, nhs_spellings, secret_spellings
from tests.workflows.send_setup import export, selection_of, sheet

NAME, NUMBER = ("SMITH", "JOHN"), "9434765919"
FOLDERS = {501: f"SMITH^JOHN {NUMBER}", 502: f"SMITH^JOHN {NUMBER} (2)"}
PLANTED = [*NAME, "SMITH^JOHN", *nhs_spellings(NUMBER)]


def _journal_and_logs() -> dict[str, list[str]]:
    """Every file of the data folder (journal, staging, work) but the quarantine, and the logs."""
    found = {f"data/{k}": v for k, v in leaks_in_folder(user_data_dir(), PLANTED).items()
             if not k.startswith("quarantine")}
    found.update({f"logs/{k}": v for k, v in leaks_in_folder(user_log_dir(), PLANTED).items()})
    return found


def _bundle(tmp_path: Path, name: str) -> dict[str, list[str]]:
    key = (user_config_dir() / JOURNAL_KEY_FILE).read_bytes()
    return leaks_in_zip(save_diagnostics(tmp_path / name),
                        PLANTED + secret_spellings(key) + [key.hex().upper()])


@pytest.fixture
def logs():
    configure_logging(user_log_dir(), logging.DEBUG)
    yield
    configure_logging(None)


def test_a_job_from_folders_named_after_a_patient_keeps_no_name_or_number(
        tmp_path, collector, client, keys, logs, monkeypatch) -> None:
    monkeypatch.setattr(send_job, "CHUNK_FILES", 3)
    pacs = export(tmp_path / "pacs", list(FOLDERS), 3, folder_name=FOLDERS.__getitem__)
    assert {p.parent.name for p in pacs.rglob("*.dcm")} == set(FOLDERS.values())
    selection = selection_of([pacs], sheet(tmp_path / "status.xlsx", list(FOLDERS)), keys,
                             client)
    outbox = Outbox()
    job = SendJob.plan_send(selection, keys, "hospital", client, outbox,
                            WorkFolders.under(user_data_dir()))
    job.on_change = job.request_pause
    job.task(no_progress, NEVER_CANCELLED)
    [open_job] = outbox.jobs.open_jobs()
    assert open_job.to_do == 3, "an open job, its file list sealed in the journal"
    assert outbox.journal_path.parent == user_data_dir() / "outbox"
    assert _journal_and_logs() == {}
    assert _bundle(tmp_path, "open.zip") == {}

    ResumeRun(outbox, client, keys, WorkFolders.under(user_data_dir())).task(
        no_progress, NEVER_CANCELLED)
    assert outbox.jobs.open_jobs() == [] and outbox.count_pending() == 0
    outbox.close()
    assert _journal_and_logs() == {}
    assert _bundle(tmp_path, "done.zip") == {}
    assert (user_log_dir() / "nccid-desktop.log").read_text().count("Send job") >= 2, \
        "the log was written (so its silence means something)"
