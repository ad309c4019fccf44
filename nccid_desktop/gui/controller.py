"""The app's life cycle: sign-in dialog, main window, sign out and in again, clean exit."""

from __future__ import annotations

import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from nccid_desktop import config
from nccid_desktop.errors import ConfigError
from nccid_desktop.gui.context import AppContext, SiteOptions
from nccid_desktop.gui.icons import icon
from nccid_desktop.gui.main_window import MainWindow
from nccid_desktop.gui.settings_page import DEMO_SERVER_NOTE
from nccid_desktop.gui.signin_dialog import SignInDialog
from nccid_desktop.gui.style import apply_theme
from nccid_desktop.gui.workers import WorkerPool
from nccid_desktop.paths import user_data_dir
from nccid_desktop.transport.http import HttpSettings, http_settings_for


class AppController:
    def __init__(self, app: QApplication, *, demo=None) -> None:
        self.app = app
        self.demo = demo
        self.pool = WorkerPool(app)
        self.settings = config.resolve()
        self.window: MainWindow | None = None
        #: Demo mode signs in by itself once, at start; after a sign-out the user decides.
        self._auto_sign_in = demo is not None

    def options(self) -> SiteOptions:
        settings = self.settings
        server = self.demo.url if self.demo else settings.value("server_url")
        proxy = settings.value("proxy")
        return SiteOptions(server_url=server, proxy="" if proxy == "system" else proxy,
                           hospital_pattern=settings.value("hospital_pattern"),
                           linking="nhs" if settings.value("linking") == "nhs" else "hospital",
                           negative_window_days_after=_days(
                               settings.value("negative_window_days_after")),
                           opt_out_list=settings.value("opt_out_list"))

    def http_settings(self) -> tuple[HttpSettings, str]:
        """How to reach the service, and a problem to show (a missing CA bundle file)."""
        try:
            settings = self.settings.settings()
        except ConfigError as error:
            return HttpSettings(proxy=self.options().proxy or None), str(error)
        return http_settings_for(settings), ""

    def new_context(self) -> AppContext:
        data_dir = user_data_dir() / ("demo" if self.demo else "")
        return AppContext(self.pool, self.options(), demo=self.demo is not None,
                          data_dir=data_dir, samples=self.demo.samples if self.demo else None)

    def sign_in(self) -> bool:
        try:
            self.settings = config.resolve()
        except ConfigError as error:
            QMessageBox.critical(None, "NCCID Desktop", str(error))
            return False
        options = self.options()
        http, problem = self.http_settings()
        dialog = SignInDialog(self.pool, options.server_url,
                              server_locked=self.demo is not None
                              or self.settings.locked("server_url"),
                              username=self.demo.username if self.demo else "", http=http)
        dialog.setWindowIcon(icon("app"))
        if problem:
            dialog.show_error(problem)
        if self.demo:
            dialog.form.intro.setText(f"Demo mode. Sign in as {self.demo.username} with the "
                                      f"password {self.demo.password}. Sample sheets and images "
                                      f"are in: {self.demo.samples}")
            dialog.form.password.setText(self.demo.password)
            dialog.form.serverLocked.setText(DEMO_SERVER_NOTE)
            if self._auto_sign_in:
                self._auto_sign_in = False
                QTimer.singleShot(0, dialog.sign_in)
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.result_value is None:
            return False
        client, _signed, keys = dialog.result_value
        context = self.new_context()
        context.client, context.keys = client, keys
        self.window = MainWindow(context, self.settings, on_sign_out=self._signed_out)
        self.window.show()
        QTimer.singleShot(0, self.window.offer_resume)
        return True

    def _signed_out(self) -> None:
        if not self.sign_in():
            self.app.quit()


def run_app(*, demo: bool = False) -> int:
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("NCCID Desktop")
    app.setWindowIcon(icon("app"))
    apply_theme(app)
    setup = None
    try:
        if demo:  # the collection service may be missing: the error says how to install it
            from nccid_desktop.local_service import start_demo

            setup = start_demo(user_data_dir() / "demo")
        controller = AppController(app, demo=setup)
    except ConfigError as error:
        QMessageBox.critical(None, "NCCID Desktop", str(error))
        if setup is not None:
            setup.stop()
        return 1
    try:
        if not controller.sign_in():
            return 0
        return app.exec()
    finally:
        controller.pool.shutdown(10_000)
        if setup is not None:
            setup.stop()


def _days(value: object) -> int:
    """The negative window setting as a number of days (0 when unset or not a number)."""
    try:
        return max(int(str(value or 0)), 0)
    except ValueError:
        return 0
