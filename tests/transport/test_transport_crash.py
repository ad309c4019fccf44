"""SIGKILL the uploading process at random moments, run it again: nothing lost, nothing twice."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nccid_desktop.transport.outbox import OUTBOX_FOLDER, Outbox
from tests.transport.collector_fixture import RunningCollector
from tests.transport.payloads import pseudonym_of, status_envelope, write_instances

ROOT = Path(__file__).resolve().parents[2]
RECORDS, IMAGES, TRIALS = 40, 24, 10


def _inputs(folder: Path, keys, trial: int) -> Path:
    """Fresh patients and images per trial, so every trial has real work to interrupt."""
    first = trial * RECORDS
    images = write_instances(folder / "images", keys, IMAGES, patients=RECORDS, pixels=96,
                             first_patient=first)
    manifest = {
        "envelopes": [status_envelope(keys, first + n).to_json() for n in range(RECORDS)],
        "images": {uid: {"path": str(path), "pseudonym": pseudonym_of(keys, first + i % RECORDS)}
                   for i, (uid, path) in enumerate(images.items())},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def _child(collector: RunningCollector, home: Path, inputs: Path) -> subprocess.Popen:
    env = dict(os.environ, NCCID_HOME=str(home), NCCID_PASSWORD=collector.account.password)
    return subprocess.Popen(
        [sys.executable, "-m", "tests.transport.crash_child", collector.url,
         collector.account.username, str(inputs)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.slow
def test_killed_uploads_resume_with_every_item_stored_once(tmp_path: Path, collector: RunningCollector,
                                                          site_keys) -> None:
    from nccid_desktop.transport.client import CollectorClient

    client = CollectorClient(collector.url)
    client.sign_in(collector.account.username, collector.account.password)
    keys = client.site_keys()
    rng = random.Random(20261125)
    started = time.monotonic()
    _run_to_completion(collector, tmp_path / "home-c", _inputs(tmp_path / "in-c", keys, TRIALS))
    full_run = time.monotonic() - started
    kills = mid_upload = 0
    for trial in range(TRIALS):
        home, inputs = tmp_path / f"home-{trial}", _inputs(tmp_path / f"in-{trial}", keys, trial)
        child = _child(collector, home, inputs)
        assert child.stdout is not None and child.stdout.readline().strip() == b"uploading"
        for _ in range(rng.randint(1, 10)):  # inside the upload: after a random batch...
            child.stdout.readline()
        time.sleep(rng.uniform(0.0, 0.05))  # ...and a random moment into the next one
        killed_uploading = _kill(child)
        kills += killed_uploading
        if killed_uploading:
            outbox = Outbox(home / "data" / OUTBOX_FOLDER)
            mid_upload += outbox.count_pending() > 0
            outbox.close()
        child = _child(collector, home, inputs)
        time.sleep(rng.uniform(0.1, 1.0) * full_run)  # then anywhere: start-up, staging or upload
        kills += _kill(child)
        _run_to_completion(collector, home, inputs)
    assert kills >= TRIALS, f"the uploads were really interrupted ({kills} kills)"
    assert mid_upload >= TRIALS, f"kills left work half-sent ({mid_upload} trials)"
    records = collector.raw_files("data")
    expected_records, expected_images = (TRIALS + 1) * RECORDS, (TRIALS + 1) * IMAGES
    assert len(records) == expected_records, "each record stored once, re-sends left nothing twice"
    assert len({p.name for p in records}) == expected_records
    assert len(collector.raw_files("images")) == expected_images
    summary = client.summary()
    assert (summary["patients_status"], summary["images"]) == (expected_records, expected_images)


def _kill(child: subprocess.Popen) -> int:
    killed = child.poll() is None
    if killed:
        child.send_signal(signal.SIGKILL)
    child.communicate()
    return int(killed)


def _run_to_completion(collector: RunningCollector, home: Path, inputs: Path) -> None:
    """Run the child to the end and check its journal."""
    finished = _child(collector, home, inputs)
    assert finished.stdout is not None
    first = finished.stdout.readline()
    _, err = finished.communicate(timeout=300)
    assert first.strip() == b"uploading", err.decode()[-2000:]
    assert finished.returncode == 0, err.decode()[-2000:]
    outbox = Outbox(home / "data" / OUTBOX_FOLDER)
    try:
        assert outbox.count_pending() == 0
        assert list(outbox.staging.glob("*/*")) == [], "acknowledged staging files are deleted"
        acked = [i.item_key for i in outbox.items() if i.state == "acknowledged"]
        assert len(acked) == len(set(acked)) == RECORDS + IMAGES, "each item acknowledged once"
    finally:
        outbox.close()
