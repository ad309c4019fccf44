"""Demo mode demonstrates: it signs in by itself, Settings shows the demo service and Test
connection passes against it, and Browse opens in the sample data folder. Outside demo mode
Browse opens in the last folder used, then in Documents."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QStandardPaths, QTimer
from PySide6.QtWidgets import QApplication, QFileDialog

from nccid_desktop.demo_data import generate_demo_data
from nccid_desktop.gui.controller import AppController
from nccid_desktop.gui.settings_page import DEMO_SERVER_NOTE
from nccid_desktop.gui.sheet_page import SheetPage
from nccid_desktop.gui.start_folder import start_folder
from nccid_desktop.local_service import DemoSetup


@pytest.fixture
def demo_controller(qapp, service, tmp_path, monkeypatch):
    monkeypatch.setenv("NCCID_POLICY_FILE", str(tmp_path / "no-policy.toml"))
    samples = generate_demo_data(tmp_path / "sample data").folder
    setup = DemoSetup(service.url, service.account.username, service.account.password, samples,
                      lambda: None)
    controller = AppController(qapp, demo=setup)
    yield controller, setup
    if controller.window is not None:
        controller.window.close()
    controller.pool.shutdown(10_000)


def _close_stray_dialogs() -> None:
    """If the dialog waited for a click, close it so the test fails instead of hanging."""
    dialog = QApplication.activeModalWidget()
    if dialog is not None:
        dialog.reject()


def test_demo_mode_signs_in_by_itself_and_settings_tests_the_demo_service(
        qtbot, demo_controller):
    controller, setup = demo_controller
    QTimer.singleShot(20_000, _close_stray_dialogs)
    assert controller.sign_in(), "the demo sign-in dialog waited for the user"
    window = controller.window
    assert window is not None and window.context.signed_in is not None
    settings = window.page("settings")
    form = settings.form
    assert form.server.text() == setup.url and form.server.isReadOnly()
    assert not form.serverLock.isHidden() and form.serverLock.text() == DEMO_SERVER_NOTE
    assert "server_url" not in settings.field_values()  # never saved as the user's server
    form.testButton.click()
    qtbot.waitUntil(lambda: form.testButton.isEnabled() and bool(form.connectionReport.toPlainText()),
                    timeout=30_000)
    assert form.supportMessage.text() == "The connection works.", \
        form.connectionReport.toPlainText()


def test_browse_starts_in_the_sample_data_in_demo_mode(qtbot, demo_controller, monkeypatch):
    controller, setup = demo_controller
    context = controller.new_context()
    asked: list[str] = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        lambda _parent, _title, folder, _filter: (asked.append(folder), ("", ""))[1])
    page = SheetPage(context, "main")
    qtbot.addWidget(page)
    page.browse()
    assert asked == [str(setup.samples)]


def test_outside_demo_browse_starts_in_the_last_folder_then_documents(qtbot, context, tmp_path,
                                                                     monkeypatch):
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    expected_first = Path(documents) if documents and Path(documents).is_dir() else Path.home()
    assert start_folder(context) == expected_first
    chosen = tmp_path / "weekly sheets"
    chosen.mkdir()
    workbook = chosen / "main.xlsx"
    workbook.write_bytes(b"not really a workbook")
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        lambda *_a: (str(workbook), "Excel workbooks (*.xlsx *.xlsm)"))
    page = SheetPage(context, "main")
    qtbot.addWidget(page)
    page.browse()
    qtbot.waitUntil(lambda: page.worker is None, timeout=20_000)
    assert start_folder(context) == chosen
    assert Path.cwd() != chosen
