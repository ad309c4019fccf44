"""Keyboard and screen reader users: every control is reached by Tab in reading order, every
control has an accessible name and description, and state changes are announced."""

from __future__ import annotations

import itertools

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHeaderView,
    QLineEdit,
    QPlainTextEdit,
    QTabBar,
    QTextEdit,
    QWidget,
)

from nccid_desktop.gui.change_password_dialog import ChangePasswordDialog
from nccid_desktop.gui.main_window import SECTION_KEYS, MainWindow
from nccid_desktop.gui.sheet_page import SheetPage
from nccid_desktop.gui.signin_dialog import SignInDialog
from nccid_desktop.sheets.definitions import MAIN
from tests.sheets.builders import main_row, save_workbook

CONTROLS = (QAbstractButton, QLineEdit, QPlainTextEdit, QTextEdit, QComboBox, QAbstractItemView)


def _controls(root: QWidget, *, visible_only: bool = False) -> list[QWidget]:
    found = []
    for widget in root.findChildren(QWidget):
        if not isinstance(widget, CONTROLS) or isinstance(widget, QHeaderView):
            continue
        if not widget.objectName() or widget.objectName().startswith("qt_"):
            continue  # Qt's own parts (a combo box's list, a tab bar's scroll arrows)
        if isinstance(widget.parentWidget(), QTabBar):
            continue
        if widget.focusPolicy() == Qt.FocusPolicy.NoFocus:
            continue
        if visible_only and not (widget.isVisible() and widget.isEnabled()):
            continue
        found.append(widget)
    return found


@pytest.fixture
def window(qtbot, signed_context):
    shown = MainWindow(signed_context)
    qtbot.addWidget(shown)
    shown.resize(1200, 800)
    shown.show()
    qtbot.waitExposed(shown)
    return shown


def _dialogs(pool, signed_context, service) -> list[QDialog]:
    return [SignInDialog(pool, service.url, username=service.account.username),
            ChangePasswordDialog(pool, signed_context.client)]


def test_every_control_has_an_accessible_name_and_description(qtbot, window, pool,
                                                              signed_context, service):
    roots: list[QWidget] = [window, *_dialogs(pool, signed_context, service)]
    missing = []
    for root in roots:
        for control in _controls(root):
            if not control.accessibleName().strip():
                missing.append(f"{control.objectName()}: no accessible name")
            if not control.accessibleDescription().strip():
                missing.append(f"{control.objectName()}: no accessible description")
    assert not missing, "\n".join(sorted(set(missing)))
    for root in roots[1:]:
        root.deleteLater()


def _tab_walk(root: QWidget, first: QWidget) -> list[QWidget]:
    """Press Tab from ``first`` until focus comes back round; the widgets in order."""
    first.setFocus(Qt.FocusReason.TabFocusReason)
    order = [first]
    for _ in range(200):
        root.focusNextChild()
        current = root.focusWidget()
        if current is None or current is first:
            break
        order.append(current)
    return order


def _reading_key(root: QWidget, widget: QWidget) -> tuple[int, int]:
    corner = widget.mapTo(root, widget.rect().topLeft())
    return corner.y(), corner.x()


def _in_reading_order(root: QWidget, order: list[QWidget]) -> list[str]:
    """Tab goes down the page, and across within a row: never back up to an earlier row."""
    wrong = []
    for before, after in itertools.pairwise(order):
        (y0, x0), (y1, x1) = _reading_key(root, before), _reading_key(root, after)
        same_row = abs(y1 - y0) <= max(before.height(), after.height()) // 2
        if (y1 < y0 and not same_row) or (same_row and x1 < x0 and y1 <= y0):
            wrong.append(f"{before.objectName()} -> {after.objectName()}")
    return wrong


@pytest.mark.parametrize("section", SECTION_KEYS)
def test_tab_reaches_every_control_of_each_section_in_reading_order(qtbot, window, section):
    window.open_section(section)
    page = window.page(section)
    qtbot.wait(20)
    wanted = _controls(page, visible_only=True)
    assert wanted, f"{section} has no controls to reach"
    order = _tab_walk(window, window.form.sections)
    on_page = [w for w in order if page.isAncestorOf(w)]
    assert set(wanted) <= set(order), [w.objectName() for w in wanted if w not in order]
    assert not _in_reading_order(page, on_page), _in_reading_order(page, on_page)


def test_the_dialogs_tab_in_reading_order(qtbot, pool, signed_context, service):
    for dialog in _dialogs(pool, signed_context, service):
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        wanted = _controls(dialog, visible_only=True)
        order = _tab_walk(dialog, wanted[0])
        assert set(wanted) <= set(order), [w.objectName() for w in wanted if w not in order]


def test_a_finished_check_is_announced(qtbot, signed_context, tmp_path, monkeypatch):
    heard: list[tuple[str, str, str]] = []
    real = QAccessible.updateAccessibility

    def listen(event) -> None:
        widget = event.object()
        heard.append((event.type().name, widget.objectName(),
                      widget.accessibleDescription() if isinstance(widget, QWidget) else ""))
        real(event)

    monkeypatch.setattr(QAccessible, "updateAccessibility", listen)
    rows = [main_row(seed) for seed in range(1, 4)]
    rows[1]["Age"] = "forty"
    page = SheetPage(signed_context, "main")
    qtbot.addWidget(page)
    page.show()
    page.load(save_workbook(tmp_path / "bad.xlsx", MAIN, rows))
    qtbot.waitUntil(lambda: page.worker is None and page.form.progressPanel.state == "error",
                    timeout=20_000)
    described = [(kind, name, text) for kind, name, text in heard
                 if kind == "DescriptionChanged"]
    assert ("DescriptionChanged", "bar", "Problem: 1 problem to fix before upload") in described
    assert any(name == "summary" and text.startswith("There is 1 problem") for _k, name, text
               in described)
    assert any(name == "stateText" and text.startswith("Working") for _k, name, text
               in described)  # the start was announced too
