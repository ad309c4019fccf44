"""Telling screen readers that something changed: a step finished, a check found problems.

Why explicit: Qt tells assistive technology when focus moves, not when a label far from the
focus changes its words. A nurse using a screen reader presses Upload and must hear
"4 patients uploaded" without hunting for it, so every state change of the progress panel
and every page heading goes through :func:`announce` (the accessible description changes and
an event says so), and bar movements through :func:`announce_value`.
"""

from __future__ import annotations

from PySide6.QtGui import QAccessible, QAccessibleEvent, QAccessibleValueChangeEvent
from PySide6.QtWidgets import QWidget


def announce(widget: QWidget, text: str) -> None:
    """Give ``widget`` the accessible description ``text`` and tell assistive technology."""
    widget.setAccessibleDescription(text)
    event = QAccessibleEvent(widget, QAccessible.Event.DescriptionChanged)
    QAccessible.updateAccessibility(event)


def announce_value(widget: QWidget, value: int) -> None:
    """A progress bar moved: screen readers read the new value when asked, not unprompted."""
    QAccessible.updateAccessibility(QAccessibleValueChangeEvent(widget, value))
