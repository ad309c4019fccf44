"""The list of sections on the left, always wide enough for its longest entry.

Why a widget of its own: a plain list asks for Qt's default 256 pixels whatever its items say,
so "Upload Covid Status (Negative)" was cut and a horizontal scrollbar appeared. This list asks
the layout for exactly the width its items need (with the theme's padding and the current
font and scale), and recomputes it when the font or style changes.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize
from PySide6.QtWidgets import QListWidget, QWidget


class SectionList(QListWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)

    def content_width(self) -> int:
        """The width every item needs, with the frame and room for a vertical scrollbar."""
        self.ensurePolished()
        items = max(self.sizeHintForColumn(0), 0)
        scrollbar = self.verticalScrollBar().sizeHint().width()
        return items + 2 * self.frameWidth() + scrollbar

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(self.content_width(), hint.height())

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(self.content_width(), hint.height())

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self.updateGeometry()
