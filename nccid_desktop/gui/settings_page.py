"""Settings: server, proxy, site and hospital-number pattern; policy-set fields are locked."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QLabel, QLineEdit, QWidget

from nccid_desktop.errors import NccidError
from nccid_desktop.gui.forms.settings_page import Ui_SettingsPage
from nccid_desktop.gui.preferences import LOCKED_NOTE, Preferences


class SettingsPage(QWidget):
    def __init__(self, preferences: Preferences,
                 on_saved: Callable[[Preferences], None] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = Ui_SettingsPage()
        self.form.setupUi(self)
        self.preferences = preferences
        self.on_saved = on_saved
        form = self.form
        self.fields: dict[str, tuple[QLineEdit, QLabel]] = {
            "server_url": (form.server, form.serverLock),
            "proxy": (form.proxy, form.proxyLock),
            "site": (form.site, form.siteLock),
            "hospital_pattern": (form.hospitalPattern, form.patternLock),
        }
        form.saveButton.clicked.connect(self.save)
        self.show_values()

    def show_values(self) -> None:
        for name, (edit, lock) in self.fields.items():
            locked = self.preferences.locked(name)
            edit.setText(self.preferences.value(name))
            edit.setReadOnly(locked)
            edit.setEnabled(not locked)
            lock.setVisible(locked)
            lock.setText(LOCKED_NOTE)
            lock.setProperty("lock", True)
            base = edit.accessibleName().removesuffix(f" ({LOCKED_NOTE.lower()})")
            edit.setAccessibleName(f"{base} ({LOCKED_NOTE.lower()})" if locked else base)
        self.form.message.setText("")

    def save(self) -> None:
        changes = {name: edit.text() for name, (edit, _) in self.fields.items()
                   if not self.preferences.locked(name)}
        try:
            self.preferences.update(changes)
        except NccidError as error:
            self.form.message.setText(str(error))
            return
        self.form.message.setText("Settings saved. A new server address applies at the next "
                                  "sign-in.")
        if self.on_saved is not None:
            self.on_saved(self.preferences)
