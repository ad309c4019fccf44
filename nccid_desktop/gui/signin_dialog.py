"""Sign-in: server (preset or locked by policy), user and password, plain-English errors.

Why the call runs in a worker: sign-in crosses the network (proxy, TLS, a slow service), and
the dialog must stay responsive and say what went wrong ("locked", "wrong password",
"cannot reach") in words. When the service says the password has expired, the dialog hands
over to the forced password change before the window opens.
"""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QWidget

from nccid_desktop.errors import NccidError
from nccid_desktop.gui.change_password_dialog import ChangePasswordDialog
from nccid_desktop.gui.forms.sign_in import Ui_SignInDialog
from nccid_desktop.gui.workers import WorkerPool
from nccid_desktop.keys import SiteKeys
from nccid_desktop.transport.client import CollectorClient, SignedIn
from nccid_desktop.transport.http import HttpSettings

SignInResult = tuple[CollectorClient, SignedIn, SiteKeys | None]


def sign_in_task(server_url: str, username: str, password: str, http: HttpSettings | None):
    """The background part: sign in, and fetch the site keys unless a new password is due."""

    def task(progress, cancel) -> SignInResult:
        client = CollectorClient(server_url, settings=http)
        signed = client.sign_in(username, password)
        keys = None if signed.password_change_required else client.site_keys()
        return client, signed, keys

    return task


#: Room for a full server address and a two-line error, whatever the font and scale.
WIDTH_IN_CHARACTERS = 56


class SignInDialog(QDialog):
    def __init__(self, pool: WorkerPool, server_url: str, *, server_locked: bool = False,
                 username: str = "", http: HttpSettings | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = Ui_SignInDialog()
        self.form.setupUi(self)
        self.pool = pool
        self.http = http
        self.result_value: SignInResult | None = None
        form = self.form
        form.server.setText(server_url)
        form.server.setReadOnly(server_locked)
        form.serverLocked.setVisible(server_locked)
        form.serverLocked.setProperty("lock", True)
        form.username.setText(username)
        form.errorMessage.hide()
        self.setMinimumWidth(form.server.fontMetrics().averageCharWidth() * WIDTH_IN_CHARACTERS)
        for edit in (form.server, form.username, form.password):
            edit.setMinimumHeight(edit.sizeHint().height())  # never squashed by an error
        form.signInButton.clicked.connect(self.sign_in)
        form.quitButton.clicked.connect(self.reject)
        (form.password if username else form.username).setFocus()

    def sign_in(self) -> None:
        form = self.form
        server, username = form.server.text().strip(), form.username.text().strip()
        password = form.password.text()
        if not server or not username or not password:
            self.show_error("Enter the server address, your user name and your password.")
            return
        self._busy(True)
        self.pool.run(sign_in_task(server, username, password, self.http), name="sign-in",
                      on_result=self._signed_in, on_error=self._failed)

    def _signed_in(self, value: SignInResult) -> None:
        client, signed, keys = value
        if signed.password_change_required:
            change = ChangePasswordDialog(self.pool, client, forced=True,
                                          current_password=self.form.password.text(), parent=self)
            if change.exec() != QDialog.DialogCode.Accepted or change.keys is None:
                self._busy(False)
                self.show_error("Your password must be changed before you can carry on.")
                return
            signed, keys = change.signed_in or signed, change.keys
        self.result_value = (client, signed, keys)
        self.form.password.clear()
        self.accept()

    def _failed(self, error: NccidError) -> None:
        self._busy(False)
        self.form.password.clear()
        self.show_error(str(error))
        self.form.password.setFocus()

    def show_error(self, message: str) -> None:
        self.form.errorMessage.setText(message)
        self.form.errorMessage.show()
        self.adjustSize()  # the dialog grows to fit the message instead of squashing the boxes

    def _busy(self, busy: bool) -> None:
        self.form.signInButton.setEnabled(not busy)
        self.form.signInButton.setText("Signing in…" if busy else "&Sign in")
