"""The fault campaign of a whole send job, bounded for the suite (``tools/kill_campaign.py``
runs the long one): killed with SIGKILL at random moments of staging and sending, each kill
followed by ``nccid resume``, every image is held exactly once by the real collection service;
and with a fifth of the requests failing (resets, 500/503/429, slow answers), every image is
delivered."""

from __future__ import annotations

from pathlib import Path

import pytest

from nccid_desktop.tasks import NEVER_CANCELLED, no_progress
from nccid_desktop.transport.client import CollectorClient
from nccid_desktop.transport.http import HttpSettings
from nccid_desktop.transport.outbox import Outbox
from nccid_desktop.workflows import send_job
from nccid_desktop.workflows.resume import ResumeRun
from nccid_desktop.workflows.send_job import SendJob
from nccid_desktop.workflows.work_folders import WorkFolders
from tests.faults.kill_campaign import run_campaign
from tests.faults.proxy import Fault, FaultProxy, random_plan
from tests.transport.collector_fixture import running_collector
from tests.workflows.send_setup import (
    assert_held_once,
    expected_uids,
    export,
    selection_of,
    sheet,
    stored,
)

PATIENT = HttpSettings(connect_timeout=2, read_timeout=3, max_attempts=15, backoff_base=0.05,
                       backoff_cap=0.5)


@pytest.mark.slow
def test_random_kills_then_resume_hold_every_image_once(tmp_path: Path) -> None:
    with running_collector(tmp_path / "service") as collector:
        client = CollectorClient(collector.url)
        client.sign_in(collector.account.username, collector.account.password)
        figures = run_campaign(collector, client, client.site_keys(), tmp_path / "work",
                               patients=6, slices=5, kills=4, seed=7, max_delay=0.6)
    print("kill campaign:", figures.to_json())
    assert figures.held_once and figures.images == 30
    # How many kills land before the small job is done depends on the machine's speed; the
    # first lands within its first 0.6 s of work, long before 30 images are de-identified.
    assert figures.killed_in["staging"] + figures.killed_in["sending"] >= 1, figures


@pytest.mark.slow
def test_a_send_job_through_a_fifth_of_requests_failing_delivers_everything(
        tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(send_job, "CHUNK_FILES", 20)
    monkeypatch.setattr(send_job, "SEND_BATCH_COUNT", 2)
    with running_collector(tmp_path / "service") as collector:
        direct = CollectorClient(collector.url)
        direct.sign_in(collector.account.username, collector.account.password)
        keys = direct.site_keys()
        seeds = list(range(6100, 6112))
        pacs = export(tmp_path / "pacs", seeds, 5)
        selection = selection_of([pacs], sheet(tmp_path / "status.xlsx", seeds), keys, direct)
        expected = expected_uids(selection, keys)
        before = stored(collector)
        host, port = collector.url.removeprefix("http://").split(":")
        plan = random_plan(seed=20, rate=0.2)
        with FaultProxy((host, int(port)), plan, retry_after=1, stall_seconds=4) as proxy:
            client = CollectorClient(proxy.url, PATIENT, interactive=PATIENT)
            client.sign_in(collector.account.username, collector.account.password)
            outbox = Outbox(tmp_path / "data" / "outbox")
            folders = WorkFolders.under(tmp_path / "data")
            job = SendJob.plan_send(selection, keys, "hospital", client, outbox, folders)
            job.task(no_progress, NEVER_CANCELLED)
            runs = 1
            while outbox.count_pending() or outbox.jobs.open_jobs():  # what Retry does
                ResumeRun(outbox, client, keys, folders).task(no_progress, NEVER_CANCELLED)
                runs += 1
                assert runs < 10
            applied = dict(proxy.applied)
        failed = sum(n for f, n in applied.items() if f is not Fault.PASS)
        total = sum(applied.values())
        print(f"faults: {failed} of {total} requests failed ({applied}); runs: {runs}")
        assert failed >= 0.1 * total, applied
        assert job.upload.failed == 0
        assert_held_once(collector, expected, before)
        assert len(expected) == 60
