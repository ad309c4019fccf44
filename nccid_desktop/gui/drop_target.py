"""Dropping files from Explorer onto a page: one behaviour for the sheet pages and Send Images.

Why a mixin: both pages highlight their drop zone while something droppable hovers, and hand
the dropped local paths to the page; only *what* a page accepts and *what it does* with the
paths differ (``accepts_drop`` and ``handle_drop``).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QDragEnterEvent, QDragLeaveEvent, QDropEvent

from nccid_desktop.gui.style import set_state_property


def _local_paths(event: QDragEnterEvent | QDropEvent) -> list[Path]:
    return [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]


class DropTargetMixin:
    """For a QWidget page whose ``form`` has a ``dropZone`` frame."""

    def accepts_drop(self, path: Path) -> bool:
        return True

    def handle_drop(self, paths: list[Path]) -> None:
        raise NotImplementedError

    def _set_dragging(self, dragging: bool) -> None:
        set_state_property(getattr(self, "form").dropZone, "dragging", dragging)  # noqa: B009

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(self.accepts_drop(p) for p in _local_paths(event)):
            self._set_dragging(True)
            event.acceptProposedAction()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self._set_dragging(False)

    def dropEvent(self, event: QDropEvent) -> None:
        self._set_dragging(False)
        paths = [p for p in _local_paths(event) if self.accepts_drop(p)]
        if paths:
            event.acceptProposedAction()
            self.handle_drop(paths)
