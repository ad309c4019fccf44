"""The window as a whole: sections, accessible names, keyboard, locked settings, the checker,
resume after a killed upload, and the installed command's self-test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QTabWidget,
)

from nccid_desktop import config
from nccid_desktop.gui.main_window import SECTION_KEYS, MainWindow
from nccid_desktop.sheets.definitions import STATUS
from nccid_desktop.sheets.payload import build_envelopes
from nccid_desktop.sheets.validator import validate_workbook
from tests.conftest import VALID_NHS_NUMBERS
from tests.sheets.builders import save_workbook, status_row

ROOT = Path(__file__).resolve().parents[2]
CONTROLS = (QAbstractButton, QLineEdit, QPlainTextEdit, QAbstractItemView, QProgressBar, QTabWidget)


def _ours(widget) -> bool:
    """Named in our forms (Qt's own inner parts, like a view's header, have no such name)."""
    name = widget.objectName()
    return bool(name) and not name.startswith("qt_")


def _window(qtbot, context, settings=None) -> MainWindow:
    window = MainWindow(context, settings)
    qtbot.addWidget(window)
    window.show()
    return window


def test_sections_mirror_the_national_portal(qtbot, signed_context):
    window = _window(qtbot, signed_context)
    names = [window.form.sections.item(i).text() for i in range(window.form.sections.count())]
    assert names == ["Upload Covid Data (Positive)", "Upload Covid Status (Negative)",
                     "Send Images", "NHS/CHI Checker", "Summary", "Guidance & FAQ", "Settings"]
    assert window.form.userLabel.text() == "Signed in as demo"
    assert "RSH" in window.form.siteLabel.text()
    window.activateWindow()
    qtbot.waitActive(window)
    qtbot.keyClick(window.windowHandle(), Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.form.pages.currentWidget() is window.page("images")
    window.form.sections.setFocus()
    qtbot.keyClick(window.form.sections, Qt.Key.Key_Down)
    assert window.form.pages.currentWidget() is window.page("checker")


def test_every_control_has_an_accessible_name(qtbot, signed_context):
    window = _window(qtbot, signed_context)
    missing = []
    for key in SECTION_KEYS:
        window.open_section(key)
        for kind in CONTROLS:
            for control in window.page(key).findChildren(kind):
                if _ours(control) and not control.accessibleName().strip():
                    missing.append(f"{key}:{control.objectName()}")
    for kind in CONTROLS:
        for control in [*window.form.header.findChildren(kind), window.form.sections]:
            if not control.accessibleName().strip():
                missing.append(f"header:{control.objectName()}")
    assert missing == [], missing


def test_tab_moves_through_the_sign_in_fields_in_order(qtbot, pool, service):
    from nccid_desktop.gui.signin_dialog import SignInDialog

    dialog = SignInDialog(pool, service.url)
    qtbot.addWidget(dialog)
    dialog.show()
    order, widget = [], dialog.form.server
    for _ in range(4):
        order.append(widget.objectName())
        widget = widget.nextInFocusChain()
        while not widget.focusPolicy() & Qt.FocusPolicy.TabFocus:
            widget = widget.nextInFocusChain()
    assert order == ["server", "username", "password", "signInButton"]


def test_settings_fixed_by_policy_are_locked_and_say_so(qtbot, signed_context, tmp_path,
                                                       monkeypatch):
    policy = tmp_path / "policy.toml"
    policy.write_text('server_url = "https://nccid.example.nhs.uk"\nsite = "RSH"\n'
                      'proxy = "http://proxy.trust.nhs.uk:8080"\nlocked = ["server_url", "site"]\n')
    monkeypatch.setenv("NCCID_POLICY_FILE", str(policy))
    window = _window(qtbot, signed_context, config.resolve())
    window.open_section("settings")
    form = window.page("settings").form
    assert form.server.text() == "https://nccid.example.nhs.uk" and form.server.isReadOnly()
    assert form.serverLock.isVisible() and form.serverLock.text() == "Set by your IT department"
    assert "set by your it department" in form.server.accessibleName()
    assert form.site.isReadOnly() and form.siteLock.isVisible()
    assert form.proxy.text() == "http://proxy.trust.nhs.uk:8080"  # an unlocked policy default
    assert form.proxy.isEnabled() and not form.proxyLock.isVisible()
    form.hospitalPattern.setText("RR[0-9")
    form.saveButton.click()
    assert "not a valid pattern" in form.message.text()
    form.hospitalPattern.setText(r"RR\d{8}")
    form.server.setText("https://elsewhere.example")
    form.proxy.setText("none")
    form.saveButton.click()
    assert form.message.text().startswith("Settings saved")
    again = config.resolve()
    assert again.value("hospital_pattern") == r"RR\d{8}"
    assert (again.value("proxy"), again.source("proxy")) == ("none", "user")
    assert again.value("server_url") == "https://nccid.example.nhs.uk"
    assert signed_context.options.hospital_pattern == r"RR\d{8}"


def test_checker_checks_as_typed_and_reports_what_was_received(qtbot, signed_context, service,
                                                              tmp_path):
    from nccid_desktop.workflows.sheet_check import check_sheet
    from nccid_desktop.workflows.sheet_upload import upload_sheet

    uploaded = VALID_NHS_NUMBERS[1]
    sheet = save_workbook(tmp_path / "s.xlsx", STATUS,
                          [status_row(1, **{"NHS/CHI Number": uploaded})])
    upload_sheet(check_sheet(sheet, keys=signed_context.keys), signed_context.keys,
                 signed_context.client, signed_context.outbox)
    window = _window(qtbot, signed_context)
    window.open_section("checker")
    page = window.page("checker")
    for line in (f"{uploaded[:3]} {uploaded[3:6]} {uploaded[6:]}", "1234567890",
                 VALID_NHS_NUMBERS[2]):
        qtbot.keyClicks(page.form.numbers, line)
        qtbot.keyClick(page.form.numbers, Qt.Key.Key_Return)
    assert page.form.typedStatus.text().startswith("2 valid numbers; 1 line not valid: line 2")
    assert "1234567890" not in page.form.typedStatus.text()
    page.form.checkButton.click()
    qtbot.waitUntil(lambda: page.form.progressPanel.state == "success", timeout=10_000)
    table = page.form.results
    assert table.rowCount() == 2
    assert table.item(0, 3).text().startswith("Received ")
    assert table.item(1, 3).text() == "Not received"
    assert page.form.progressPanel.message == "1 of 2 patients have something at NCCID."


def test_summary_shows_the_site_counts(qtbot, signed_context):
    window = _window(qtbot, signed_context)
    window.open_section("summary")
    page = window.page("summary")
    qtbot.waitUntil(lambda: page.form.progressPanel.state == "success", timeout=10_000)
    assert "RSH" in page.form.siteName.text()
    assert page.form.patientsStatus.text().isdigit()


def test_unfinished_upload_from_a_killed_session_is_offered_and_resumed(qtbot, signed_context,
                                                                        service, tmp_path):
    sheet = save_workbook(tmp_path / "s.xlsx", STATUS, [status_row(s) for s in range(40, 44)])
    envelopes = build_envelopes(validate_workbook(sheet), signed_context.keys)
    child = subprocess.run(
        [sys.executable, "-c", KILLED_UPLOAD, str(signed_context.data_dir / "outbox")],
        input="\n".join(json.dumps(e.to_json()) for e in envelopes), text=True,
        capture_output=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert child.returncode == -9, child.stderr
    before = set(service.raw_files("data"))
    window = _window(qtbot, signed_context)

    def accept():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, accept)
            return
        assert "4 items" in box.text()
        box.button(QMessageBox.StandardButton.Yes).click()

    QTimer.singleShot(0, accept)
    assert window.offer_resume()
    images = window.page("images")
    qtbot.waitUntil(lambda: images.worker is None and images.form.progressPanel.state == "success",
                    timeout=20_000)
    assert images.form.progressPanel.message.startswith("4 records")
    new = sorted(set(service.raw_files("data")) - before)
    assert len(new) == 4 and all(p.name.endswith("_status.json") for p in new)
    assert signed_context.outbox.count_pending() == 0


KILLED_UPLOAD = """
import json, os, signal, sys
from nccid_desktop.records import ClinicalEnvelope
from nccid_desktop.transport.outbox import Outbox
outbox = Outbox(__import__('pathlib').Path(sys.argv[1]))
for line in sys.stdin:
    outbox.stage_record(ClinicalEnvelope.from_json(json.loads(line)))
batch = outbox.next_batch('record', 100)   # marked sent, as the uploader does before it posts
os.kill(os.getpid(), signal.SIGKILL)       # the workstation is switched off mid-upload
"""


def test_installed_command_self_test_opens_the_window_offscreen(tmp_path):
    env = {**os.environ, "NCCID_HOME": str(tmp_path), "QT_QPA_PLATFORM": "offscreen"}
    for scale in ("1", "2"):
        done = subprocess.run([str(ROOT / ".venv" / "bin" / "nccid-desktop"), "--self-test"],
                              env={**env, "QT_SCALE_FACTOR": scale}, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stderr
