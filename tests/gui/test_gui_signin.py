"""Sign-in and password change against the real collection service over loopback HTTP."""

from __future__ import annotations

import itertools

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from nccid_desktop.gui.change_password_dialog import ChangePasswordDialog
from nccid_desktop.gui.signin_dialog import SignInDialog
from nccid_desktop.transport.http import HttpSettings

_names = itertools.count()


def _fill(qtbot, dialog, username, password):
    dialog.form.username.setText(username)
    qtbot.keyClicks(dialog.form.password, password)


def test_sign_in_opens_a_session_and_fetches_the_site_keys(qtbot, pool, service):
    dialog = SignInDialog(pool, service.url)
    qtbot.addWidget(dialog)
    _fill(qtbot, dialog, service.account.username, service.account.password)
    with qtbot.waitSignal(dialog.accepted, timeout=10_000):
        qtbot.mouseClick(dialog.form.signInButton, Qt.MouseButton.LeftButton)
    client, signed, keys = dialog.result_value
    assert signed.site == service.account.site
    assert keys is not None and keys.site == service.account.site
    assert dialog.form.password.text() == ""
    client.sign_out()


def test_wrong_password_is_explained_in_words(qtbot, pool, service):
    dialog = SignInDialog(pool, service.url)
    qtbot.addWidget(dialog)
    _fill(qtbot, dialog, service.account.username, "not-the-password")
    qtbot.mouseClick(dialog.form.signInButton, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.form.errorMessage.isVisibleTo(dialog), timeout=10_000)
    assert "password" in dialog.form.errorMessage.text().lower()
    assert dialog.result_value is None
    assert dialog.form.signInButton.isEnabled()
    qtbot.wait(50)
    for edit in (dialog.form.server, dialog.form.username, dialog.form.password):
        assert edit.height() >= edit.sizeHint().height(), edit.objectName()  # not squashed
    message = dialog.form.errorMessage
    assert message.height() >= message.heightForWidth(message.width())  # the message is whole


def test_unreachable_server_says_so(qtbot, pool):
    dialog = SignInDialog(pool, "http://127.0.0.1:9", http=HttpSettings(max_attempts=1))
    qtbot.addWidget(dialog)
    _fill(qtbot, dialog, "someone", "Some-Password-1")
    qtbot.mouseClick(dialog.form.signInButton, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.form.errorMessage.isVisibleTo(dialog), timeout=10_000)
    assert "cannot reach" in dialog.form.errorMessage.text().lower()


def test_locked_account_gets_the_lock_out_message(qtbot, pool, service):
    username = f"locked{next(_names)}"
    service.add_user(username, "Correct-Horse-7!")
    dialog = SignInDialog(pool, service.url)
    qtbot.addWidget(dialog)
    for _ in range(6):
        dialog.form.errorMessage.hide()
        _fill(qtbot, dialog, username, "Wrong-Horse-7!")
        qtbot.mouseClick(dialog.form.signInButton, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.form.errorMessage.isVisibleTo(dialog), timeout=10_000)
    assert "locked" in dialog.form.errorMessage.text().lower()


def test_server_set_by_policy_is_read_only_and_says_so(qtbot, pool, service):
    dialog = SignInDialog(pool, service.url, server_locked=True)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.form.server.isReadOnly()
    assert dialog.form.serverLocked.isVisible()
    assert "IT department" in dialog.form.serverLocked.text()


def test_expired_password_forces_a_change_before_the_window_opens(qtbot, pool, service):
    username = f"expired{next(_names)}"
    service.add_user(username, "Temporary-Pass-1", must_change=True)
    dialog = SignInDialog(pool, service.url)
    qtbot.addWidget(dialog)
    _fill(qtbot, dialog, username, "Temporary-Pass-1")

    def answer_the_change_dialog(attempts=[0]):  # noqa: B006 - counter across timer calls
        change = next((w for w in QApplication.topLevelWidgets()
                       if isinstance(w, ChangePasswordDialog) and w.isVisible()), None)
        if change is None:
            attempts[0] += 1
            if attempts[0] < 200:
                QTimer.singleShot(50, answer_the_change_dialog)
            return
        assert "expired" in change.form.reason.text()
        assert not change.form.currentPassword.isVisible()
        change.form.newPassword.setText("short")
        change.form.confirmPassword.setText("short")
        change.form.changeButton.click()
        qtbot.waitUntil(lambda: change.form.errorMessage.isVisible(), timeout=10_000)
        assert "at least" in change.form.errorMessage.text()
        change.form.newPassword.setText("Brand-New-Pass-42")
        change.form.confirmPassword.setText("Brand-New-Pass-42")
        change.form.changeButton.click()

    QTimer.singleShot(0, answer_the_change_dialog)
    with qtbot.waitSignal(dialog.accepted, timeout=20_000):
        dialog.form.signInButton.click()
    client, signed, keys = dialog.result_value
    assert not signed.password_change_required
    assert keys is not None
    client.sign_out()
    again = SignInDialog(pool, service.url)
    qtbot.addWidget(again)
    _fill(qtbot, again, username, "Brand-New-Pass-42")
    with qtbot.waitSignal(again.accepted, timeout=10_000):
        again.form.signInButton.click()
    assert not again.result_value[1].password_change_required
