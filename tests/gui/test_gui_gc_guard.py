"""Reference cycles are freed on the GUI thread, never on a background job's thread.

A Qt object destroyed from another thread can crash the app; a cycle dropped by a background
job would otherwise be freed by whichever thread next crossed the collector's threshold.
"""

from __future__ import annotations

import gc
import threading
import weakref
from typing import ClassVar

import pytest

from nccid_desktop.gui.gc_guard import automatic_collection_paused
from nccid_desktop.gui.workers import WorkerPool


class _Cycle:
    freed_in: ClassVar[list[str]] = []

    def __init__(self) -> None:
        self.me = self

    def __del__(self) -> None:
        _Cycle.freed_in.append(threading.current_thread().name)


@pytest.fixture
def pools(qapp):
    """Pools made by a test, shut down after it even when it fails (else gc stays off)."""
    made: list[WorkerPool] = []
    yield made
    for pool in made:
        pool.shutdown(5000)


def _pool(pools: list[WorkerPool]) -> WorkerPool:
    pools.append(WorkerPool())
    return pools[-1]


def test_a_cycle_dropped_by_a_job_is_freed_on_the_gui_thread(qtbot, pools):
    pool = _pool(pools)
    assert automatic_collection_paused()
    qtbot.waitUntil(lambda: gc.get_freeze_count() > 0, timeout=2000)  # start-up is over
    refs: list[weakref.ref[_Cycle]] = []
    _Cycle.freed_in.clear()

    def task(progress, cancel):
        refs.append(weakref.ref(_Cycle()))
        kept = [[index] for index in range(200_000)]  # far past the gen-0 threshold
        return refs[0]() is not None, kept

    results: list[tuple[bool, list[list[int]]]] = []
    pool.run(task, name="cycles", on_result=results.append)
    qtbot.waitUntil(lambda: bool(results), timeout=5000)
    assert results[0][0], "the job's own thread collected the cycle"
    qtbot.waitUntil(lambda: refs[0]() is None, timeout=5000)  # the GUI thread's timer
    assert _Cycle.freed_in == [threading.main_thread().name]
    assert pool.shutdown(5000)
    assert gc.isenabled() and not automatic_collection_paused()


def test_two_pools_hand_collection_back_only_when_both_stop(pools):
    first, second = _pool(pools), _pool(pools)
    assert first.shutdown(5000)
    assert not gc.isenabled(), "the second pool still runs jobs"
    assert second.shutdown(5000)
    assert second.shutdown(5000)  # twice is harmless
    assert gc.isenabled()


def test_objects_of_the_running_app_are_frozen_and_handed_back_at_the_end(qtbot, pools):
    assert gc.get_freeze_count() == 0
    pool = _pool(pools)
    qtbot.waitUntil(lambda: gc.get_freeze_count() > 0, timeout=2000)  # once the loop runs
    assert pool.shutdown(5000)
    assert gc.get_freeze_count() == 0 and gc.isenabled()
