"""Settings: server, proxy, site, hospital-number pattern, CA bundle and linking; what the
machine policy locks is shown as "Set by your IT department". Also Test connection and Save
diagnostics, both run in the background through the worker pool.

Why the fields go to the doctor as options: a user (or IT on the phone) can try a proxy or a
server address before saving it; locked policy values still win, as everywhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QComboBox, QFileDialog, QLabel, QLineEdit, QWidget

from nccid_desktop import config
from nccid_desktop.diagnostics import save_diagnostics
from nccid_desktop.doctor import DoctorReport, diagnose
from nccid_desktop.errors import NccidError
from nccid_desktop.gui.forms.settings_page import Ui_SettingsPage
from nccid_desktop.gui.workers import WorkerPool
from nccid_desktop.tasks import Progress

LINKING_LABELS = {"hospital": "The hospital number", "nhs": "The NHS/CHI number"}
DIAGNOSTICS_NAME = "nccid-diagnostics.zip"
DEMO_SERVER_NOTE = "Set by demo mode (a service on this computer)"


def connection_test_task(options: dict[str, str]):
    """The background part of Test connection: the settings as they would be, then the doctor."""

    def task(progress, cancel) -> DoctorReport:
        return diagnose(config.resolve(options), progress=progress, cancel=cancel)

    return task


class SettingsPage(QWidget):
    def __init__(self, pool: WorkerPool, effective: config.EffectiveSettings | None = None,
                 on_saved: Callable[[config.EffectiveSettings], None] | None = None,
                 parent: QWidget | None = None, *, fixed: dict[str, str] | None = None) -> None:
        """``fixed``: values this session sets and the user cannot change or save (demo
        mode's own service), shown as such so Test connection tests what is really used."""
        super().__init__(parent)
        self.form = Ui_SettingsPage()
        self.form.setupUi(self)
        self.pool = pool
        self.effective = effective or config.resolve()
        self.on_saved = on_saved
        self.fixed = dict(fixed or {})
        form = self.form
        for value, label in LINKING_LABELS.items():
            form.linking.addItem(label, value)
        self.fields: dict[str, tuple[QLineEdit | QComboBox, QLabel]] = {
            "server_url": (form.server, form.serverLock),
            "proxy": (form.proxy, form.proxyLock),
            "site": (form.site, form.siteLock),
            "hospital_pattern": (form.hospitalPattern, form.patternLock),
            "ca_bundle": (form.caBundle, form.caBundleLock),
            "linking": (form.linking, form.linkingLock),
        }
        form.saveButton.clicked.connect(self.save)
        form.testButton.clicked.connect(self.test_connection)
        form.diagnosticsButton.clicked.connect(self.ask_where_to_save_diagnostics)
        self.show_values()

    def show_values(self) -> None:
        note = config.LOCKED_NOTE
        for name, (edit, lock) in self.fields.items():
            fixed = name in self.fixed and not self.effective.locked(name)
            locked = self.effective.locked(name) or fixed
            value = self.fixed[name] if fixed else self.effective.value(name)
            if isinstance(edit, QComboBox):
                edit.setCurrentIndex(max(0, edit.findData(value)))
            else:
                edit.setText("" if name == "proxy" and value == "system" else value)
                edit.setReadOnly(locked)
            # a locked line edit stays enabled (read-only, styled): disabled text is grey on
            # grey, and a locked value must still be readable and copyable
            edit.setEnabled(not (locked and isinstance(edit, QComboBox)))
            edit.setProperty("locked", locked)
            lock.setVisible(locked)
            lock.setText(DEMO_SERVER_NOTE if fixed else note)
            lock.setProperty("lock", True)
            base = edit.accessibleName().split(" (")[0]
            edit.setAccessibleName(f"{base} ({lock.text().lower()})" if locked else base)
        self.form.message.setText("")

    def field_values(self, *, with_fixed: bool = False) -> dict[str, str]:
        """What the unlocked fields say now (saved or not); ``with_fixed`` adds the values
        this session fixes (they are tested, never saved)."""
        values = {}
        for name, (edit, _lock) in self.fields.items():
            if name in self.fixed:
                if with_fixed and not self.effective.locked(name):
                    values[name] = self.fixed[name]
                continue
            if not self.effective.locked(name):
                values[name] = (str(edit.currentData()) if isinstance(edit, QComboBox)
                                else edit.text().strip())
        return values

    def save(self) -> None:
        try:
            config.save_user_settings(self.field_values())
            self.effective = config.resolve()
        except NccidError as error:
            self.form.message.setText(str(error))
            return
        self.form.message.setText("Settings saved. A new server address, proxy or certificate "
                                  "setting applies at the next sign-in.")
        if self.on_saved is not None:
            self.on_saved(self.effective)

    def _busy(self, busy: bool) -> None:
        self.form.testButton.setEnabled(not busy)
        self.form.diagnosticsButton.setEnabled(not busy)

    def _show_progress(self, progress: Progress) -> None:
        self.form.supportMessage.setText(progress.message + "…")

    def _failed(self, error: NccidError) -> None:
        self._busy(False)
        self.form.supportMessage.setText(str(error))

    def test_connection(self) -> None:
        options = {k: v for k, v in self.field_values(with_fixed=True).items() if v}
        self._busy(True)
        self.form.connectionReport.clear()
        self.pool.run(connection_test_task(options), name="test-connection",
                      on_result=self._tested, on_error=self._failed,
                      on_progress=self._show_progress, on_finished=lambda: self._busy(False))

    def _tested(self, report: DoctorReport) -> None:
        self.form.connectionReport.setPlainText("\n".join(report.lines()))
        self.form.supportMessage.setText(
            "The connection works." if report.ok else
            "The connection does not work yet: the results below say where it stops and what "
            "to ask IT for.")

    def ask_where_to_save_diagnostics(self) -> None:
        chosen, _filter = QFileDialog.getSaveFileName(
            self, "Save diagnostics", str(Path.home() / DIAGNOSTICS_NAME), "Zip files (*.zip)")
        if chosen:
            self.save_diagnostics_to(Path(chosen))

    def save_diagnostics_to(self, path: Path) -> None:
        if path.suffix.lower() != ".zip":
            path = path.with_name(path.name + ".zip")
        self._busy(True)
        self.pool.run(lambda progress, cancel: save_diagnostics(path, progress=progress,
                                                                cancel=cancel),
                      name="save-diagnostics", on_result=self._diagnostics_saved,
                      on_error=self._failed, on_progress=self._show_progress,
                      on_finished=lambda: self._busy(False))

    def _diagnostics_saved(self, path: Path) -> None:
        self.form.supportMessage.setText(f"Diagnostics saved to {path}. The file holds no "
                                         "patient data, keys or passwords; send it to IT or "
                                         "NCCID support.")
