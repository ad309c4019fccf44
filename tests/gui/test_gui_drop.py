"""Drag and drop as Qt delivers it: real QDragEnterEvent / QDropEvent with file URLs."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragLeaveEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from nccid_desktop.demo_data import demo_patient, write_images
from nccid_desktop.gui.images_page import ImagesPage
from nccid_desktop.gui.sheet_page import SheetPage
from nccid_desktop.sheets.definitions import STATUS
from tests.sheets.builders import save_workbook, status_row

ACTIONS = Qt.DropAction.CopyAction | Qt.DropAction.LinkAction


def _mime(*paths: Path) -> QMimeData:
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return data


def _drag_enter(widget, data: QMimeData) -> bool:
    event = QDragEnterEvent(QPointF(10, 10), ACTIONS, data, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    event.ignore()
    QApplication.sendEvent(widget, event)
    return event.isAccepted()


def _drop(widget, data: QMimeData) -> bool:
    event = QDropEvent(QPointF(10, 10), ACTIONS, data, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    event.ignore()
    QApplication.sendEvent(widget, event)
    return event.isAccepted()


def test_a_folder_dropped_on_send_images_is_scanned(qtbot, signed_context, tmp_path):
    people = tuple(demo_patient(seed, date(2026, 11, 1)) for seed in range(31, 36))
    folder = write_images(tmp_path / "export", people[:3], people[3:4], people[4])
    page = ImagesPage(signed_context)
    qtbot.addWidget(page)
    page.show()
    data = _mime(folder)
    assert _drag_enter(page, data)
    assert page.form.dropZone.property("dragging") is True
    QApplication.sendEvent(page, QDragLeaveEvent())
    assert page.form.dropZone.property("dragging") is False
    assert _drag_enter(page, data)
    assert _drop(page, data)
    assert page.form.dropZone.property("dragging") is False
    qtbot.waitUntil(lambda: page.worker is None and page.selection is not None, timeout=60_000)
    assert page.form.progressPanel.state == "success", page.form.progressPanel.message
    assert page.form.seriesTree.isVisible()
    series = {d.series.description for d in page.selection.decisions}
    assert {"CT CHEST", "MR HEAD", "CXR PA", "DOSE REPORT"} <= series
    assert page.form.sendButton.isEnabled()


def test_a_workbook_dropped_on_the_sheet_page_is_checked_and_other_files_are_refused(
        qtbot, signed_context, tmp_path):
    sheet = save_workbook(tmp_path / "status.xlsx", STATUS, [status_row(s) for s in (1, 2, 3)])
    notes = tmp_path / "notes.txt"
    notes.write_text("not a workbook")
    page = SheetPage(signed_context, "status")
    qtbot.addWidget(page)
    page.show()
    assert not _drag_enter(page, _mime(notes))
    assert not _drop(page, _mime(notes))
    assert page.path is None and page.worker is None
    assert _drag_enter(page, _mime(sheet))
    assert page.form.dropZone.property("dragging") is True
    assert _drop(page, _mime(notes, sheet))
    qtbot.waitUntil(lambda: page.worker is None and page.checked is not None, timeout=20_000)
    assert page.path == sheet
    assert page.form.fileLabel.text() == "File: status.xlsx"
    assert page.form.summary.text().startswith("No problems found: 3 patients ready")
    assert page.form.uploadButton.isEnabled()
