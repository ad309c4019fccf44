"""Withdraw a patient or remove a wrongly linked study, from the NHS/CHI Checker.

Why a dialog of its own: taking data back is rare and irreversible, so it is kept apart from
the checker's everyday table and walks the user through it: type the number (checked here, as
typed), look up what the service holds (the received studies, each with a Remove action, and
what a withdrawal would delete), then tick the confirmation and withdraw. The work runs in the
background through the workflows the command line also runs
(:mod:`nccid_desktop.workflows.takeback`); no number ever leaves this computer.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QBoxLayout, QDialog, QPushButton, QTableWidgetItem, QWidget

from nccid_desktop.errors import NccidError
from nccid_desktop.gui.columns import fit_columns
from nccid_desktop.gui.context import AppContext
from nccid_desktop.gui.forms.take_back_dialog import Ui_TakeBackDialog
from nccid_desktop.gui.workers import workflow_task
from nccid_desktop.identifiers import check_nhs_number
from nccid_desktop.uk_dates import uk_prose_of
from nccid_desktop.workflows.takeback import (
    REASON_WORDS,
    PatientHolding,
    WithdrawalDone,
    look_up_patient,
    remove_held_study,
    withdraw_patient,
)


class TakeBackDialog(QDialog):
    def __init__(self, context: AppContext, number: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = Ui_TakeBackDialog()
        self.form.setupUi(self)
        self.context = context
        self.holding: PatientHolding | None = None
        form = self.form
        for code, words in REASON_WORDS.items():
            form.reason.addItem(words.capitalize(), code)
        form.number.setText(number)
        form.number.textChanged.connect(self._number_changed)
        form.hospitalNumber.textChanged.connect(self._forget)
        form.lookUpButton.clicked.connect(lambda: self.look_up())
        form.confirm.toggled.connect(self._update_buttons)
        form.withdrawButton.clicked.connect(self.withdraw)
        form.closeButton.clicked.connect(self.accept)
        fit_columns(form.studies, stretch=(0,))  # the study's name takes the room
        form.hospitalLabel.setVisible(context.options.linking == "hospital")
        form.hospitalNumber.setVisible(context.options.linking == "hospital")
        self._number_changed()

    # -- what the user typed ---------------------------------------------------------------
    def _typed_number(self) -> str | None:
        checked = check_nhs_number(self.form.number.text())
        return checked.value if checked.ok else None

    def _number_changed(self) -> None:
        text = self.form.number.text().strip()
        checked = check_nhs_number(text)
        self.form.numberStatus.setText("" if not text else (
            "A valid NHS/CHI number." if checked.ok else checked.message))
        self._forget()

    def _forget(self) -> None:
        self.holding = None
        self.form.holding.setText("")
        self.form.studies.setRowCount(0)
        self.form.confirm.setChecked(False)
        self._update_buttons()

    def _update_buttons(self) -> None:
        form = self.form
        ready = self._typed_number() is not None and self.context.keys is not None
        form.lookUpButton.setEnabled(ready)
        preview = self.holding.preview if self.holding else None
        may = preview is not None and not preview.withdrawn_on
        form.confirm.setEnabled(may)
        form.withdrawButton.setEnabled(may and form.confirm.isChecked())

    # -- look up ---------------------------------------------------------------------------
    def look_up(self, *, refresh: bool = False) -> None:
        """Ask what the service holds; ``refresh`` (after a removal) keeps the outcome line."""
        number = self._typed_number()
        if number is None or self.context.keys is None:
            return
        if not refresh:
            self.form.outcome.setText("Asking the service…")
        self.form.lookUpButton.setEnabled(False)
        self.context.pool.run(
            workflow_task(look_up_patient, self.context.require_client(), self.context.keys,
                          number, self.context.options.linking,
                          self.form.hospitalNumber.text().strip() or None),
            name="take-back-look-up", on_result=partial(self._show, refresh=refresh),
            on_error=self._failed)

    def _show(self, holding: PatientHolding, refresh: bool = False) -> None:
        self.holding = holding
        form = self.form
        if not refresh:
            form.outcome.setText("")
        if holding.preview is not None:
            form.holding.setText(holding.preview.describe())
        else:
            form.holding.setText(f"{len(holding.studies)} studies received. Withdrawing a "
                                 f"patient is not open to you: {holding.withdraw_refused}")
        form.studies.setRowCount(len(holding.studies))
        for row, (uid, images, received) in enumerate(holding.studies):
            form.studies.setItem(row, 0, QTableWidgetItem(f"Study {row + 1} (…{uid[-8:]})"))
            form.studies.setItem(row, 1, QTableWidgetItem(str(images)))
            form.studies.setItem(row, 2, QTableWidgetItem(uk_prose_of(received)))
            remove = QPushButton("Remove")
            remove.setAccessibleName(f"Remove study {row + 1}")
            remove.clicked.connect(partial(self.remove_study, uid))
            form.studies.setCellWidget(row, 3, remove)
        self._update_buttons()

    # -- take back -------------------------------------------------------------------------
    def remove_study(self, study_uid: str) -> None:
        self.form.outcome.setText("Removing the study…")
        self.context.pool.run(
            workflow_task(remove_held_study, self.context.require_client(), study_uid),
            name="take-back-remove-study", on_result=self._removed, on_error=self._failed)

    def _removed(self, images: int) -> None:
        self.form.outcome.setText(f"Removed {images} images of the study. It can be sent "
                                  "again once linked to the right patient.")
        self.look_up(refresh=True)

    def withdraw(self) -> None:
        number = self._typed_number()
        if number is None or self.context.keys is None or not self.form.confirm.isChecked():
            return
        self.form.withdrawButton.setEnabled(False)
        self.form.outcome.setText("Withdrawing…")
        self.context.pool.run(
            workflow_task(withdraw_patient, self.context.require_client(), self.context.keys,
                          number, self.form.reason.currentData(),
                          self.context.options.linking,
                          self.form.hospitalNumber.text().strip() or None),
            name="take-back-withdraw", on_result=self._withdrawn, on_error=self._failed)

    def _withdrawn(self, done: WithdrawalDone) -> None:
        self.form.outcome.setText(done.describe())
        self.look_up(refresh=True)

    def _failed(self, error: NccidError) -> None:
        self.form.outcome.setText(str(error))
        self._update_buttons()


def take_back_button(page: QWidget) -> QPushButton:
    """The Checker's way in: a button added under its form, opening :class:`TakeBackDialog`
    (kept here, so the page's own layout stays the Designer's)."""
    button = QPushButton("Withdraw a patient or remove a study…", page)
    button.setAccessibleName("Withdraw a patient or remove a study")
    layout = page.layout()
    if isinstance(layout, QBoxLayout):  # as wide as its words, at the left, like the others
        layout.addWidget(button, 0, Qt.AlignmentFlag.AlignLeft)
    elif layout is not None:
        layout.addWidget(button)
    button.clicked.connect(page.open_take_back)  # type: ignore[attr-defined]
    return button
