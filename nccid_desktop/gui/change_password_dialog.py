"""Changing the password: voluntary from the window, or forced when the service says so.

Why the service judges the password: the policy (length, variety, not the user name) lives
in one place, the collection service, which answers with a sentence saying what is missing;
this dialog only checks that the two new entries match.
"""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QWidget

from nccid_desktop.errors import NccidError
from nccid_desktop.gui.forms.change_password import Ui_ChangePasswordDialog
from nccid_desktop.gui.workers import WorkerPool
from nccid_desktop.keys import SiteKeys
from nccid_desktop.transport.client import CollectorClient, SignedIn

FORCED_REASON = ("Your password has expired (or was set by an administrator). Choose a new "
                 "password to carry on.")
VOLUNTARY_REASON = "Enter your current password, then the new one twice."


def change_password_task(client: CollectorClient, old: str, new: str):
    def task(progress, cancel) -> tuple[SignedIn, SiteKeys]:
        signed = client.change_password(old, new)
        return signed, client.site_keys()

    return task


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
        new = form.newPassword.text()
        if new != form.confirmPassword.text():
            self.show_error("The two new passwords are not the same. Type them again.")
            return
        if not new or not form.currentPassword.text():
            self.show_error("Enter your current password and the new one.")
            return
        form.changeButton.setEnabled(False)
        self.pool.run(change_password_task(self.client, form.currentPassword.text(), new),
                      name="change-password", on_result=self._changed, on_error=self._failed)

    def _changed(self, value: tuple[SignedIn, SiteKeys]) -> None:
        self.signed_in, self.keys = value
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
