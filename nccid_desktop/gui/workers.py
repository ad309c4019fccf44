"""The one way the GUI runs core work off the GUI thread (Anki's taskman, napari's workers).

Why one mechanism: every long core operation already takes a progress callback and a
:class:`CancelToken`, so a page only says *what* to run and *what to do with the answer*. The
worker calls the task on a pool thread, turns its progress into throttled signals, and
delivers the result, or the error, back on the GUI thread. Widgets never open files or
sockets themselves.

Errors: an :class:`NccidError` is delivered as it is (its message is written for the user);
anything else is logged with its traceback (scrubbed by :mod:`logsafe`) and replaced by a
plain message, so a traceback, or an identifier inside one, never reaches the screen.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal, Slot

from nccid_desktop.errors import CancelledError, NccidError
from nccid_desktop.gui.gc_guard import GuiThreadCollector
from nccid_desktop.tasks import CancelToken, Progress, ProgressCallback

log = logging.getLogger(__name__)

Task = Callable[[ProgressCallback, CancelToken], Any]

#: Progress signals are sent at most this often (the final one always), so a 2,000-file
#: upload cannot flood the GUI thread's event queue.
PROGRESS_INTERVAL_SECONDS = 0.05

#: How long a finished job is kept before its last reference is dropped (on the GUI thread).
RETIRE_AFTER_MS = 1000

UNEXPECTED_MESSAGE = ("Something unexpected went wrong ({kind}). Nothing was sent that had not "
                      "been checked. Details, without patient data, are in the log.")


def workflow_task(workflow: Callable[..., Any], *args: Any, **kwargs: Any) -> Task:
    """A worker task running ``workflow(*args, **kwargs, progress=..., cancel=...)``: how a page
    runs a workflow (the arguments are bound now, so the task refers to no widget)."""
    return lambda progress, cancel: workflow(*args, progress=progress, cancel=cancel, **kwargs)


class WorkerSignals(QObject):
    """Signals of one background job; they arrive on the GUI thread (queued connections)."""

    started = Signal()
    progress = Signal(object)  # Progress
    result = Signal(object)  # whatever the task returned
    error = Signal(object)  # NccidError (never a raw exception)
    cancelled = Signal()
    finished = Signal()  # always last, after result, error or cancelled


class Worker(QRunnable):
    """Runs one task with a progress callback and a cancel token on a pool thread."""

    def __init__(self, task: Task, name: str) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.task = task
        self.name = name
        self.cancel_token = CancelToken()
        self.signals = WorkerSignals()
        self.done = threading.Event()
        self._last_progress = 0.0

    def cancel(self) -> None:
        self.cancel_token.cancel()

    def _report(self, progress: Progress) -> None:
        now = time.monotonic()
        final = progress.total is not None and progress.done >= progress.total
        if final or now - self._last_progress >= PROGRESS_INTERVAL_SECONDS:
            self._last_progress = now
            self.signals.progress.emit(progress)

    @Slot()
    def run(self) -> None:
        signals = self.signals
        try:
            signals.started.emit()
            try:
                value = self.task(self._report, self.cancel_token)
            except CancelledError:
                signals.cancelled.emit()
            except NccidError as error:
                log.info("%s stopped: %s", self.name, type(error).__name__)
                signals.error.emit(error)
            except Exception as error:
                log.exception("Unexpected failure in background job %s", self.name)
                signals.error.emit(NccidError(UNEXPECTED_MESSAGE.format(kind=type(error).__name__)))
            else:
                if self.cancel_token.cancelled:
                    signals.cancelled.emit()
                else:
                    signals.result.emit(value)
            signals.finished.emit()
        finally:
            self.done.set()


class WorkerPool(QObject):
    """Owns every running job of the app, so closing the window can stop them all cleanly.

    A finished job is kept a moment longer (``_retired``) so that the last reference to its
    signals object, a QObject of the GUI thread, is dropped here on the GUI thread and never
    by the pool thread returning from ``run``; nothing connected to a job refers back to the
    job (no reference cycle for a garbage collection on another thread to break).
    """

    def __init__(self, parent: QObject | None = None, max_threads: int = 4) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._active: dict[WorkerSignals, Worker] = {}
        self._retired: list[Worker] = []
        self._collector = GuiThreadCollector(self)  # cycles are freed on this thread only

    def run(
        self,
        task: Task,
        *,
        name: str,
        on_result: Callable[[Any], None] | None = None,
        on_error: Callable[[NccidError], None] | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        on_cancelled: Callable[[], None] | None = None,
        on_finished: Callable[[], None] | None = None,
    ) -> Worker:
        """Start ``task(progress, cancel)`` in the background; callbacks run on the GUI thread."""
        worker = Worker(task, name)
        signals = worker.signals
        for signal, slot in ((signals.result, on_result), (signals.error, on_error),
                             (signals.progress, on_progress), (signals.cancelled, on_cancelled),
                             (signals.finished, on_finished)):
            if slot is not None:
                signal.connect(slot)
        signals.finished.connect(self._retire)
        self._active[signals] = worker
        self._pool.start(worker)
        return worker

    @Slot()
    def _retire(self) -> None:
        worker = self._active.pop(self.sender(), None)  # type: ignore[call-overload]
        if worker is not None:
            self._retired.append(worker)
            QTimer.singleShot(RETIRE_AFTER_MS, self._forget_retired)

    @Slot()
    def _forget_retired(self) -> None:
        self._retired = [w for w in self._retired if not w.done.is_set()]

    @property
    def active(self) -> int:
        return sum(1 for w in self._active.values() if not w.done.is_set())

    def cancel_all(self) -> None:
        for worker in list(self._active.values()):
            worker.cancel()

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Cancel every job and wait for the threads; True when all stopped in time."""
        self.cancel_all()
        stopped = self._pool.waitForDone(timeout_ms)
        if not stopped:
            log.warning("%d background jobs did not stop within %d ms", self.active, timeout_ms)
        else:
            self._collector.stop()
        return stopped
