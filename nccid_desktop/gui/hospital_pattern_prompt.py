"""On first use, ask for the form of the site's hospital numbers (the learnt form suggested).

Why ask: without a pattern, a hospital number in the wrong form (not the Radiology/PACS one)
only draws a warning when most of a sheet's numbers agree; with the site's pattern every row
is checked, on the workstation and by the service. IT can set it by policy (then nobody is
asked); otherwise the first checked sheet offers the form learnt from its own numbers (the
core's :func:`nccid_desktop.identifiers.infer_hospital_form`), which the user may correct,
save to their settings, or skip. Asked once per user: a small marker file beside the settings
records the answer. The dialog is window-modal but opened with ``open()``, so nothing waits on
it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from nccid_desktop import config
from nccid_desktop.errors import NccidError
from nccid_desktop.gui.context import SiteOptions
from nccid_desktop.identifiers import infer_hospital_form
from nccid_desktop.paths import user_config_dir

ASKED_MARKER = "hospital-pattern-asked"


def _marker():
    return user_config_dir() / ASKED_MARKER


def should_ask(options: SiteOptions) -> bool:
    """No pattern yet, not set by IT, and not asked before."""
    if options.hospital_pattern:
        return False
    try:
        if config.resolve().locked("hospital_pattern"):
            return False
    except NccidError:
        return False
    return not _marker().exists()


def mark_asked() -> None:
    marker = _marker()
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text("asked\n", encoding="utf-8")


class HospitalPatternPrompt(QDialog):
    """The question, the suggested pattern (editable), Save and Not now."""

    def __init__(self, numbers: Iterable[str], on_saved: Callable[[str], None],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Hospital numbers at this site")
        self.on_saved = on_saved
        form = infer_hospital_form([n for n in numbers if n and n.strip()])
        self.suggestion = form.pattern if form is not None else ""
        intro = QLabel(
            "Which form do this site's PACS hospital numbers have? With it, every hospital "
            "number on the sheets is checked (a number in another form is usually the wrong "
            "one). Your IT department can set this for everyone.", self)
        intro.setWordWrap(True)
        learnt = (f"Learnt from this sheet: {form.describe()}, for example {form.example()}."
                  if form is not None else "No common form was found in this sheet.")
        self.learnt = QLabel(learnt, self)
        self.learnt.setWordWrap(True)
        self.pattern = QLineEdit(self.suggestion, self)
        self.pattern.setAccessibleName("Hospital number pattern (regular expression)")
        self.problem = QLabel("", self)
        self.problem.setWordWrap(True)
        buttons = QDialogButtonBox(self)
        self.save_button = buttons.addButton("Save", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton("Not now", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.skip)
        layout = QVBoxLayout(self)
        for widget in (intro, self.learnt, self.pattern, self.problem, buttons):
            layout.addWidget(widget)

    def save(self) -> None:
        value = self.pattern.text().strip()
        try:
            re.compile(value)
        except re.error:
            self.problem.setText("That is not a valid pattern: check the brackets.")
            return
        try:
            config.save_user_settings({"hospital_pattern": value})
        except NccidError as error:
            self.problem.setText(str(error))
            return
        mark_asked()
        self.on_saved(value)
        self.accept()

    def skip(self) -> None:
        mark_asked()
        self.reject()
