"""The progress bar with a state: blue while working, green on success, red on error.

Why a widget of its own: every long step (validate, upload, scan, send, check) reports the same
way, so a nurse learns it once. The state is shown three ways, never by colour alone: the bar's
colour (``state`` property, styled by ``ui/theme.qss``), an icon with an accessible name, and a
sentence ("48 patients uploaded", or the error with a Retry button).
"""

from __future__ import annotations

from typing import Literal

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

from nccid_desktop.gui.announce import announce, announce_value
from nccid_desktop.gui.forms.progress_panel import Ui_ProgressPanel
from nccid_desktop.gui.icons import icon
from nccid_desktop.gui.style import set_state_property
from nccid_desktop.tasks import Progress

State = Literal["idle", "working", "success", "error", "paused", "cancelled"]

_ICONS: dict[State, tuple[str, str]] = {
    "idle": ("idle", "Ready"),
    "working": ("working", "Working"),
    "success": ("success", "Done"),
    "error": ("error", "Problem"),
    "paused": ("paused", "Paused"),
    "cancelled": ("idle", "Cancelled"),
}
_BAR_FORMAT: dict[State, str] = {
    "idle": "",
    # The whole job's share, never a step's: "50%" beside "De-identified 14 of 14 files"
    # read as a contradiction.
    "working": "%p% of the whole job done",
    "success": "Done",
    "error": "Stopped: see the message below",
    "paused": "Paused at %p%",
    "cancelled": "Cancelled",
}


class ProgressPanel(QWidget):
    retryRequested = Signal()
    pauseRequested = Signal()
    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = Ui_ProgressPanel()
        self.form.setupUi(self)
        self.state: State = "idle"
        self._can_pause = False
        self._can_cancel = True
        self.form.retryButton.clicked.connect(self.retryRequested)
        self.form.pauseButton.clicked.connect(self.pauseRequested)
        self.form.cancelButton.clicked.connect(self.cancelRequested)
        self.reset()

    @property
    def message(self) -> str:
        return self.form.stateText.text()

    def reset(self, message: str = "") -> None:
        self._show("idle", message)
        self.setVisible(bool(message))

    def start(self, message: str, *, total: int | None = None, can_pause: bool = False,
              can_cancel: bool = True) -> None:
        """Enter the working state; an unknown ``total`` shows a busy bar."""
        self._can_pause, self._can_cancel = can_pause, can_cancel
        bar = self.form.bar
        bar.setRange(0, total if total else 0)
        bar.setValue(0)
        self._show("working", message)
        self.setVisible(True)

    def update_progress(self, progress: Progress) -> None:
        if self.state != "working":
            return
        bar = self.form.bar
        if progress.total:
            if bar.maximum() != progress.total:
                bar.setRange(0, progress.total)
            bar.setValue(min(progress.done, progress.total))
            announce_value(bar, bar.value())
        if progress.message:
            self.form.stateText.setText(progress.message)

    def say(self, message: str) -> None:
        """Change the sentence while working (say, "Pausing after the batch in flight")."""
        self.form.stateText.setText(message)
        announce(self.form.stateText, f"{_ICONS[self.state][1]}: {message}")

    def succeed(self, message: str, *, headline: str | None = None) -> None:
        """Green and full; ``headline`` is what the bar itself says (default "Done")."""
        self._fill()
        self._show("success", message, headline=headline)

    def fail(self, message: str, *, can_retry: bool = True, headline: str | None = None) -> None:
        """Red and full, with the message below; ``headline`` says in the bar itself what
        happened ("4 problems to fix before upload"). Full, because a half-red bar reads as
        "still going" and its white half would hide the words."""
        self._fill()
        self._show("error", message, can_retry=can_retry, headline=headline)
        self.setVisible(True)

    @property
    def headline(self) -> str:
        """What the bar says, as the user reads it (``%p%`` filled in)."""
        return self.form.bar.text()

    def _fill(self) -> None:
        bar = self.form.bar
        bar.setRange(0, max(1, bar.maximum()))
        bar.setValue(bar.maximum())

    def pause(self, message: str) -> None:
        self._show("paused", message, can_retry=True)

    def cancelled(self, message: str = "Cancelled. Nothing half-done was kept.") -> None:
        bar = self.form.bar
        if bar.maximum() == 0:
            bar.setRange(0, 1)
        self._show("cancelled", message)

    def _show(self, state: State, message: str, *, can_retry: bool = False,
              headline: str | None = None) -> None:
        self.state = state
        form = self.form
        icon_name, word = _ICONS[state]
        size = int(form.stateText.fontMetrics().height() * 1.5)
        form.stateIcon.setPixmap(icon(icon_name).pixmap(size, size))
        form.stateIcon.setAccessibleName(word)
        form.stateIcon.setToolTip(word)
        form.stateText.setText(message)
        bar_text = headline if headline is not None else _BAR_FORMAT[state]
        form.bar.setFormat(bar_text)
        announce(form.bar, f"{word}: {headline}" if headline else word)
        announce(form.stateText, f"{word}: {message}")
        set_state_property(form.bar, "state", state)
        set_state_property(form.stateText, "state", state)
        working = state == "working"
        form.retryButton.setVisible(state in ("error", "paused") and can_retry)
        form.retryButton.setText("&Resume" if state == "paused" else "&Retry")
        form.retryButton.setAccessibleName("Resume" if state == "paused" else "Retry")
        form.pauseButton.setVisible(working and self._can_pause)
        form.cancelButton.setVisible(working and self._can_cancel)
