"""Python's cyclic garbage collector runs on the GUI thread only, while background jobs run.

Why: Python collects reference cycles in whichever thread happens to allocate when a
threshold is crossed. A background job (scanning, de-identifying, uploading) that triggers a
collection can free a cycle holding Qt objects made on the GUI thread, and a Qt object
destroyed from another thread can crash the application: seen as rare crashes at the end of
GUI tests, with the collector running on a pool thread. So while a :class:`~.workers.WorkerPool`
exists, automatic collection is off and a timer on the GUI thread collects with the usual
thresholds (the pattern of pyqtgraph and other Qt applications). Reference counting still frees
everything that is not in a cycle, at once and in the thread that drops it.

A full collection walks every object of the app (about 120,000 once the window is built: 20 to
60 ms, too long for a GUI tick), so once the event loop runs, the objects that exist then (modules,
widgets, the app's own state: they live as long as the app) are frozen (``gc.freeze``) and full
collections walk only what came later (about 1 ms). Python does the same kind of thing with its
rule that full collections wait for a quarter of new long-lived objects.

Nested holders (two pools) share one state: collection is handed back to Python, after a full
collection on the GUI thread, when the last holder stops.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

#: How often the GUI thread looks at the allocation counts (milliseconds).
INTERVAL_MS = 500

_holders = 0
_thresholds = gc.get_threshold()
_froze = False


class GuiThreadCollector(QObject):
    """Collects cycles on the thread that made it (the GUI thread) until :meth:`stop`."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        global _holders, _thresholds
        if _holders == 0:
            _thresholds = gc.get_threshold()
            gc.disable()
            QTimer.singleShot(0, _freeze_startup_objects)
        _holders += 1
        self._stopped = False
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.check)
        self._timer.start(interval_ms)

    def check(self) -> None:
        """Collect the generations whose counts passed their thresholds, as Python would
        (called by the timer, so on the thread this object lives in)."""
        first, second, third = gc.get_count()
        if first > _thresholds[0]:
            gc.collect(0)
            if second > _thresholds[1]:
                gc.collect(1)
                if third > _thresholds[2]:
                    gc.collect(2)

    def stop(self) -> None:
        """Stop the timer; the last holder collects fully here and re-enables collection."""
        global _holders
        if self._stopped:
            return
        self._stopped = True
        self._timer.stop()
        _holders -= 1
        if _holders == 0:
            _unfreeze()
            gc.collect()
            gc.enable()


def _freeze_startup_objects() -> None:
    """Freeze what exists once the event loop runs, unless something else froze objects."""
    global _froze
    if _holders and not _froze and not gc.get_freeze_count():
        gc.freeze()
        _froze = True


def _unfreeze() -> None:
    global _froze
    if _froze:
        gc.unfreeze()
        _froze = False


def automatic_collection_paused() -> bool:
    """Whether a collector holds Python's automatic collection off (for tests and support)."""
    return _holders > 0 and not gc.isenabled()
