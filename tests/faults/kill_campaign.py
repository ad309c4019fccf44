"""The kill campaign: a send job of N images killed (SIGKILL) at random moments, each kill
followed by ``nccid resume``, then checked at the real collection service: every selected image
held exactly once (database and warehouse), nothing else.

Used by ``tests/faults/test_kill_campaign.py`` (a few kills of a small job, in the suite) and by
``tools/kill_campaign.py`` (50 kills of a 300-image job, the long run). The kills are real
processes of the command line (:mod:`tests.faults.kill_child`), killed after a random delay
(drawn from a seeded generator) from the moment the work begins (the job journaled, or the
resume started); a run that ends before its kill simply ends. Optionally every
request goes through :class:`tests.faults.proxy.FaultProxy` with a share of failing requests.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

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


@dataclass
class KillFigures:
    """What a campaign did and found."""

    images: int = 0
    kills: int = 0
    ended_before_kill: int = 0
    runs: int = 0
    killed_in: Counter[str] = field(default_factory=Counter)
    held_once: bool = False
    seconds: float = 0.0

    def to_json(self) -> dict:
        return {"images": self.images, "kills": self.kills, "runs": self.runs,
                "ended_before_kill": self.ended_before_kill,
                "killed_in": dict(self.killed_in), "every_image_once": self.held_once,
                "seconds": round(self.seconds, 1)}


def _env(url: str, account, home: Path) -> dict[str, str]:
    return {**os.environ, "NCCID_HOME": str(home), "NCCID_SERVER": url,
            "NCCID_USER": account.username, "NCCID_PASSWORD": account.password,
            "PYTHONPATH": str(ROOT)}


def _state(home: Path) -> tuple[bool, str]:
    """Whether a job was journaled yet, and the phase the journal shows."""
    outbox_dir = home / "data" / "outbox"
    if not outbox_dir.exists():
        return False, "before the journal"
    outbox = Outbox(outbox_dir)
    try:
        jobs = outbox.jobs.counts_by_state()
        open_jobs = outbox.jobs.open_jobs()
        pending = outbox.count_pending("image")
    finally:
        outbox.close()
    if not jobs:
        return False, "before the job was journaled"
    if open_jobs and open_jobs[0].to_do:
        return True, "staging"
    if pending:
        return True, "sending"
    return True, "closing the job" if open_jobs else "after the job was done"


def run_campaign(collector, client, keys, workdir: Path, *, patients: int, slices: int,
                 kills: int, seed: int, max_delay: float = 4.0, url: str | None = None,
                 first_seed: int = 5000) -> KillFigures:
    """Kill a send of ``patients`` x ``slices`` images up to ``kills`` times while it has work
left (each kill followed by a resume), finish it, and check."""
    began = time.monotonic()
    rng = random.Random(seed)
    seeds = list(range(first_seed, first_seed + patients))
    pacs = export(workdir / "pacs", seeds, slices)
    status = sheet(workdir / "status.xlsx", seeds)
    expected = expected_uids(selection_of([pacs], status, keys, client), keys)
    figures = KillFigures(images=len(expected))
    home = workdir / "home"
    env = _env(url or collector.url, collector.account, home)
    before = stored(collector)
    upload = ["upload", str(pacs), "--sheet", str(status)]
    while figures.kills < kills:
        journaled, _phase = _state(home)
        if journaled and _nothing_left(home):
            break  # the job finished before all the kills: the figures say how many landed
        argv = upload if not journaled else ["resume"]
        child = subprocess.Popen([sys.executable, "-m", "tests.faults.kill_child", *argv],
                                 cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True)
        figures.runs += 1
        assert child.stdout is not None
        child.stdout.readline()  # "started" (or the end of a run with nothing to do)
        try:
            child.wait(timeout=rng.uniform(0.0, max_delay))
            figures.ended_before_kill += 1
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=60)
            figures.kills += 1
            figures.killed_in[_state(home)[1]] += 1
    for _ in range(3):  # the last resume, not killed (twice more if the first was cut short)
        journaled, _phase = _state(home)
        argv = upload if not journaled else ["resume"]
        done = subprocess.run([sys.executable, "-m", "tests.faults.kill_child", *argv],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
        figures.runs += 1
        if done.returncode == 0 and _nothing_left(home):
            break
    assert_held_once(collector, expected, before)
    figures.held_once = True
    figures.seconds = time.monotonic() - began
    return figures


def _nothing_left(home: Path) -> bool:
    outbox = Outbox(home / "data" / "outbox")
    try:
        return not outbox.jobs.open_jobs() and outbox.count_pending() == 0
    finally:
        outbox.close()
