"""Applying the theme (``ui/theme.qss``) and re-styling widgets whose state property changed."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QWidget

from nccid_desktop.resources import ui_dir


def apply_theme(app: QApplication) -> None:
    app.setStyleSheet((ui_dir() / "theme.qss").read_text(encoding="utf-8"))


def set_state_property(widget: QWidget, name: str, value: str | bool) -> None:
    """Set a dynamic property the stylesheet selects on, and make the style notice it."""
    widget.setProperty(name, value)
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
    widget.update()
