"""Guidance & FAQ: the workflow text from ``resources/guidance/``, shown as written."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from nccid_desktop.gui.forms.guidance_page import Ui_GuidancePage
from nccid_desktop.resources import resource


class GuidancePage(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = Ui_GuidancePage()
        self.form.setupUi(self)
        text = resource("guidance", "guidance.md").read_text(encoding="utf-8")
        self.form.guidanceText.setMarkdown(text)
