"""Changing the password: voluntary from the window, or forced when the service says so.

Why the service judges the password: the policy (length, variety, not the user name) lives
in one place, the collection service, which answers with a sentence saying what is missing;
this dialog only checks that the two new entries match.
"""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QWidget

from nccid_desktop.errors import NccidError
from nccid_desktop.gui.forms.change_password import Ui_ChangePasswordDialog
from nccid_desktop.gui.workers import WorkerPool, workflow_task
from nccid_desktop.keys import SiteKeys
from nccid_desktop.transport.client import CollectorClient, SignedIn
from nccid_desktop.workflows.password_change import (
    FORCED_REASON,
    VOLUNTARY_REASON,
    PasswordChanged,
    change_password,
    check_entries,
)

__all__ = ["FORCED_REASON", "VOLUNTARY_REASON", "ChangePasswordDialog"]


class ChangePasswordDialog(QDialog):
    def __init__(self, pool: WorkerPool, client: CollectorClient, *, forced: bool = False,
                 current_password: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = Ui_ChangePasswordDialog()
        self.form.setupUi(self)
        self.pool = pool
        self.client = client
        self.signed_in: SignedIn | None = None
        self.keys: SiteKeys | None = None
        form = self.form
        form.reason.setText(FORCED_REASON if forced else VOLUNTARY_REASON)
        if forced and current_password:
            form.currentPassword.setText(current_password)
            form.currentLabel.hide()
            form.currentPassword.hide()
            form.newPassword.setFocus()
        form.errorMessage.hide()
        form.changeButton.clicked.connect(self.change)
        form.cancelButton.clicked.connect(self.reject)

    def change(self) -> None:
        form = self.form
        entries = (form.currentPassword.text(), form.newPassword.text(),
                   form.confirmPassword.text())
        try:
            check_entries(*entries)
        except NccidError as error:
            self.show_error(str(error))
            return
        form.changeButton.setEnabled(False)
        self.pool.run(workflow_task(change_password, self.client, *entries),
                      name="change-password", on_result=self._changed, on_error=self._failed)

    def _changed(self, value: PasswordChanged) -> None:
        self.signed_in, self.keys = value.signed_in, value.keys
        for field in (self.form.currentPassword, self.form.newPassword, self.form.confirmPassword):
            field.clear()
        self.accept()

    def _failed(self, error: NccidError) -> None:
        self.form.changeButton.setEnabled(True)
        self.form.newPassword.clear()
        self.form.confirmPassword.clear()
        self.show_error(str(error))
        self.form.newPassword.setFocus()

    def show_error(self, message: str) -> None:
        self.form.errorMessage.setText(message)
        self.form.errorMessage.show()
