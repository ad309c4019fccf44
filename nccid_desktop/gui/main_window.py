"""The main window: the signed-in user and site, the sections, and clean shutdown.

Why so little here: each section is its own page class over its own form; the window only
switches between them, shows who is signed in, hands over to sign-out and password change,
offers to resume unfinished uploads, and stops every background job when it closes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QDialog, QMainWindow, QMessageBox, QWidget

from nccid_desktop.config import EffectiveSettings
from nccid_desktop.gui.change_password_dialog import ChangePasswordDialog
from nccid_desktop.gui.checker_page import CheckerPage
from nccid_desktop.gui.context import AppContext
from nccid_desktop.gui.forms.main_window import Ui_MainWindow
from nccid_desktop.gui.guidance_page import GuidancePage
from nccid_desktop.gui.icons import icon
from nccid_desktop.gui.images_page import ImagesPage
from nccid_desktop.gui.settings_page import SettingsPage
from nccid_desktop.gui.sheet_page import SheetPage
from nccid_desktop.gui.summary_page import SummaryPage
from nccid_desktop.workflows.resume import unfinished
from nccid_desktop.workflows.words import plural

SECTION_KEYS = ("main", "status", "images", "checker", "summary", "guidance", "settings")


class MainWindow(QMainWindow):
    def __init__(self, context: AppContext, settings: EffectiveSettings | None = None, *,
                 on_sign_out: Callable[[], None] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = Ui_MainWindow()
        self.form.setupUi(self)
        self.setWindowIcon(icon("app"))
        self.context = context
        self.on_sign_out = on_sign_out
        self.shut_down = False
        self.pages: dict[str, QWidget] = {
            "main": SheetPage(context, "main", switch_to=self.open_sheet),
            "status": SheetPage(context, "status", switch_to=self.open_sheet),
            "images": ImagesPage(context),
            "checker": CheckerPage(context),
            "summary": SummaryPage(context),
            "guidance": GuidancePage(),
            "settings": SettingsPage(context.pool, settings, on_saved=self._settings_saved,
                                     fixed={"server_url": context.options.server_url}
                                     if context.demo else None),
        }
        form = self.form
        for key in SECTION_KEYS:
            form.pages.addWidget(self.pages[key])
        form.sections.currentRowChanged.connect(self._section_changed)
        form.sections.setCurrentRow(0)
        form.demoBadge.setVisible(context.demo)
        form.changePasswordButton.clicked.connect(self.change_password)
        form.signOutButton.clicked.connect(self.sign_out)
        for number in range(len(SECTION_KEYS)):
            shortcut = QShortcut(QKeySequence(f"Ctrl+{number + 1}"), self)
            shortcut.activated.connect(lambda n=number: form.sections.setCurrentRow(n))
        self.show_user()

    def show_user(self) -> None:
        user = self.context.signed_in
        form = self.form
        form.userLabel.setText(f"Signed in as {user.username}" if user else "Not signed in")
        form.siteLabel.setText(f"Site: {user.site_name} ({user.site})" if user and user.site_name
                               else f"Site: {user.site}" if user else "")
        form.changePasswordButton.setEnabled(user is not None)
        form.signOutButton.setEnabled(user is not None)
        for key in ("main", "status"):
            page = self.pages[key]
            assert isinstance(page, SheetPage)
            page.refresh_permissions()

    def page(self, key: str) -> QWidget:
        return self.pages[key]

    def open_section(self, key: str) -> None:
        self.form.sections.setCurrentRow(SECTION_KEYS.index(key))

    def open_sheet(self, template_id: str, path: Path) -> None:
        """The wrong-template banner's button: the right section, with the same file."""
        self.open_section(template_id)
        page = self.pages[template_id]
        assert isinstance(page, SheetPage)
        page.load(path)

    def _settings_saved(self, settings: EffectiveSettings) -> None:
        """Site rules apply at once; the server, proxy and certificates at the next sign-in."""
        options = self.context.options
        options.hospital_pattern = settings.value("hospital_pattern")
        options.linking = "nhs" if settings.value("linking") == "nhs" else "hospital"

    def _section_changed(self, row: int) -> None:
        self.form.pages.setCurrentIndex(row)
        if SECTION_KEYS[row] == "summary":
            summary = self.pages["summary"]
            assert isinstance(summary, SummaryPage)
            summary.refresh()

    def offer_resume(self) -> bool:
        """At start-up: if the journal holds unfinished work (queued items, or send jobs with
        files never de-identified), offer to finish it now."""
        left = unfinished(self.context.outbox)
        if not left.items or self.context.client is None:
            return False
        never = left.files_to_deidentify
        answer = QMessageBox.question(
            self, "Unfinished upload",
            f"{plural(left.items, 'item')} from an earlier upload did not finish (the app was "
            "closed or the connection dropped)"
            + (f"; {plural(never, 'file')} of them still to be de-identified" if never else "")
            + ". Send them now?")
        images = self.pages["images"]
        assert isinstance(images, ImagesPage)
        if answer != QMessageBox.StandardButton.Yes:
            if left.images_to_send:
                images.show_unfinished()  # listed on Send Images, sent when Resume is pressed
            return False
        self.open_section("images")
        images.resume()
        return True

    def change_password(self) -> None:
        client = self.context.client
        if client is None:
            return
        dialog = ChangePasswordDialog(self.context.pool, client, parent=self)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.keys is not None:
            self.context.keys = dialog.keys
            self.statusBar().showMessage("Password changed.", 5000)

    def sign_out(self) -> None:
        client = self.context.client
        if client is None:
            return
        self.context.pool.cancel_all()
        self.form.signOutButton.setEnabled(False)
        self.context.pool.run(lambda _p, _c: client.sign_out(), name="sign-out",
                              on_finished=self._signed_out)

    def _signed_out(self) -> None:
        """Forget the session and keys locally, even if the service could not be told."""
        self.context.client, self.context.keys = None, None
        self.close()
        if self.on_sign_out is not None:
            self.on_sign_out()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.shut_down:
            self.shut_down = True
            self.context.pool.shutdown(10_000)
            self.context.close()
        super().closeEvent(event)
