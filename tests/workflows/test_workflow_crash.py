"""Killed (SIGKILL) at each phase of a send, then ``nccid resume`` as a real process: every
selected image is held by the service exactly once (its database and its warehouse), files
never staged included. And Ctrl+C stops after the batch in flight, for ``nccid resume``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nccid_desktop.transport.outbox import Outbox
from tests.workflows.send_setup import (
    assert_held_once,
    expected_uids,
    export,
    selection_of,
    sheet,
    stored,
)

ROOT = Path(__file__).resolve().parents[2]
NCCID = Path(sys.executable).with_name("nccid")
SLICES = 4
PHASES = {"journaled": [201, 202, 203], "staging": [211, 212, 213], "sending": [221, 222, 223]}


def _env(collector, home: Path) -> dict[str, str]:
    return {**os.environ, "NCCID_HOME": str(home), "NCCID_SERVER": collector.url,
            "NCCID_USER": collector.account.username,
            "NCCID_PASSWORD": collector.account.password, "PYTHONPATH": str(ROOT)}


def _inputs(tmp_path: Path, seeds: list[int], keys, client) -> tuple[list[str], set[str]]:
    pacs = export(tmp_path / "pacs", seeds, SLICES)
    sheet_path = sheet(tmp_path / "status.xlsx", seeds)
    expected = expected_uids(selection_of([pacs], sheet_path, keys, client), keys)
    assert len(expected) == SLICES * len(seeds)
    return [str(pacs), "--sheet", str(sheet_path)], expected


def _child(phase: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.workflows.send_child", phase, *args],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _wait_for(child: subprocess.Popen, marker: str, timeout: float = 120) -> None:
    assert child.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            break
        if line.strip() == marker:
            return
    child.kill()
    raise AssertionError(f"the child never reached {marker}: {child.communicate()[1][-2000:]}")


def _journal(home: Path) -> tuple[list, dict[str, int]]:
    outbox = Outbox(home / "data" / "outbox")
    try:
        states: dict[str, int] = {}
        for item in outbox.items("image"):
            states[item.state] = states.get(item.state, 0) + 1
        return outbox.jobs.open_jobs(), states
    finally:
        outbox.close()


@pytest.mark.slow
@pytest.mark.parametrize("phase", list(PHASES))
def test_killed_at_each_phase_resume_delivers_every_selected_image_once(
        phase, tmp_path, collector, client, keys) -> None:
    args, expected = _inputs(tmp_path, PHASES[phase], keys, client)
    env = _env(collector, tmp_path / "home")
    before = stored(collector)
    child = _child(phase, args, env)
    _wait_for(child, phase)
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL

    [job], items = _journal(tmp_path / "home")
    assert job.files == len(expected) and job.to_do > 0
    if phase == "journaled":
        assert items == {} and job.processed == 0, "killed before any file was staged"
    elif phase == "staging":
        assert items == {"staged": 2}, "killed with two staged, the rest never de-identified"
    else:
        assert items.get("acknowledged") and items.get("sent"), "killed with a batch in flight"
    arrived = len(stored(collector)) - len(before)
    assert arrived < len(expected)

    resumed = subprocess.run([str(NCCID), "resume"], env=env, capture_output=True, text=True,
                             timeout=300)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "Finished the job of " in resumed.stdout
    assert_held_once(collector, expected, before)
    assert _journal(tmp_path / "home") == ([], {"acknowledged": len(expected)})
    again = subprocess.run([str(NCCID), "resume"], env=env, capture_output=True, text=True,
                           timeout=120)
    assert again.returncode == 0 and "Nothing is waiting" in again.stdout


@pytest.mark.slow
def test_ctrl_c_stops_after_the_batch_in_flight_and_resume_finishes(
        tmp_path, collector, client, keys) -> None:
    args, expected = _inputs(tmp_path, [231, 232, 233], keys, client)
    env = _env(collector, tmp_path / "home")
    before = stored(collector)
    child = _child("ctrl-c", args, env)
    out, err = child.communicate(timeout=300)
    assert child.returncode == 130, out + err
    assert "stopping after the batch in flight" in err
    assert "Stopped after the batch in flight: 3 images sent." in out
    assert "Run 'nccid resume' to finish the job of " in out
    [job], items = _journal(tmp_path / "home")
    assert items == {"acknowledged": 3, "staged": 3}, "the first chunk staged, one batch sent"
    assert job.to_do == len(expected) - 6
    assert len(stored(collector)) - len(before) == 3, "the batch in flight, no more"
    resumed = subprocess.run([str(NCCID), "resume"], env=env, capture_output=True, text=True,
                             timeout=300)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert_held_once(collector, expected, before)
