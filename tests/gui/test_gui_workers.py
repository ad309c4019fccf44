"""The worker mechanism: results, errors, progress and cancellation arrive on the GUI thread."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication

from nccid_desktop.errors import NccidError, SheetError
from nccid_desktop.gui.workers import WorkerPool
from nccid_desktop.tasks import Progress


@pytest.fixture
def pool(qapp):
    workers = WorkerPool()
    yield workers
    assert workers.shutdown(5000)


def _gui_thread() -> QThread:
    return QApplication.instance().thread()


def test_result_arrives_on_the_gui_thread_from_another_thread(qtbot, pool):
    seen: dict[str, object] = {}

    def task(progress, cancel):
        seen["task_thread"] = threading.get_ident()
        progress(Progress(1, 1, "done"))
        return 42

    def on_result(value):
        seen["value"] = value
        seen["on_gui_thread"] = QThread.currentThread() is _gui_thread()

    finished = []
    pool.run(task, name="answer", on_result=on_result, on_finished=lambda: finished.append(1))
    qtbot.waitUntil(lambda: bool(finished), timeout=5000)
    assert seen["value"] == 42
    assert seen["on_gui_thread"] is True
    assert seen["task_thread"] != threading.get_ident()


def test_nccid_error_is_delivered_as_it_is(qtbot, pool):
    errors = []

    def task(progress, cancel):
        raise SheetError("Row 4: the date is not a date.")

    finished = []
    pool.run(task, name="bad", on_error=errors.append, on_finished=lambda: finished.append(1))
    qtbot.waitUntil(lambda: bool(finished), timeout=5000)
    assert len(errors) == 1
    assert isinstance(errors[0], SheetError)
    assert str(errors[0]) == "Row 4: the date is not a date."


def test_unexpected_error_is_logged_and_replaced_by_a_plain_message(qtbot, pool, caplog):
    errors = []

    def task(progress, cancel):
        raise KeyError("9434765919 SMITH")

    caplog.set_level(logging.ERROR, logger="nccid_desktop")
    finished = []
    pool.run(task, name="broken", on_error=errors.append, on_finished=lambda: finished.append(1))
    qtbot.waitUntil(lambda: bool(finished), timeout=5000)
    message = str(errors[0])
    assert type(errors[0]) is NccidError
    assert "KeyError" in message
    assert "9434765919" not in message and "SMITH" not in message
    assert any(r.exc_info for r in caplog.records)


def test_cancel_stops_a_running_task_and_reports_cancelled(qtbot, pool):
    started = threading.Event()
    outcome = []

    def task(progress, cancel):
        started.set()
        while True:
            cancel.raise_if_cancelled()
            time.sleep(0.01)

    worker = pool.run(task, name="endless", on_cancelled=lambda: outcome.append("cancelled"),
                      on_result=lambda _: outcome.append("result"))
    assert started.wait(5)
    with qtbot.waitSignal(worker.signals.finished, timeout=5000):
        worker.cancel()
    assert outcome == ["cancelled"]


def test_progress_is_throttled_but_the_last_step_always_arrives(qtbot, pool):
    received: list[Progress] = []

    def task(progress, cancel):
        for done in range(1, 5001):
            progress(Progress(done, 5000, "step"))
        return None

    finished = []
    pool.run(task, name="chatty", on_progress=received.append,
             on_finished=lambda: finished.append(1))
    qtbot.waitUntil(lambda: bool(finished), timeout=5000)
    assert 1 <= len(received) < 200
    assert received[-1].done == 5000


def test_shutdown_cancels_every_running_job(qtbot, qapp):
    pool = WorkerPool()
    started = threading.Barrier(3)

    def task(progress, cancel):
        started.wait(5)
        while not cancel.cancelled:
            time.sleep(0.01)

    pool.run(task, name="one")
    pool.run(task, name="two")
    started.wait(5)
    assert pool.active == 2
    began = time.monotonic()
    assert pool.shutdown(5000)
    assert time.monotonic() - began < 4, "cancelled, not waited out to the 5 s timeout"
    assert pool.active == 0
