"""Nothing stale: what a page shows always belongs to its current state.

A failed open clears the previous sheet; after an upload or a send the heading says so (not
"ready to upload", not "will be sent"); a new sheet starts at its top; the Send Images patient
row names the hospital number and pseudonym, never the patient.
"""

from __future__ import annotations

import pytest

from nccid_desktop.demo_data import generate_demo_data
from nccid_desktop.gui.images_page import ImagesPage
from nccid_desktop.gui.images_tree import STATUS_COLUMN
from nccid_desktop.gui.sheet_page import SheetPage
from nccid_desktop.sheets.definitions import MAIN
from tests.sheets.builders import main_row, save_workbook

DONE = ("success", "error", "cancelled", "paused")


def _sheet_page(qtbot, context) -> SheetPage:
    page = SheetPage(context, "main")
    qtbot.addWidget(page)
    page.resize(900, 600)
    page.show()
    return page


def _check(qtbot, page, path) -> None:
    page.load(path)
    qtbot.waitUntil(lambda: page.worker is None and page.form.progressPanel.state in DONE,
                    timeout=20_000)


def test_a_file_that_fails_to_open_clears_the_previous_sheet(qtbot, signed_context, tmp_path):
    page = _sheet_page(qtbot, signed_context)
    good = save_workbook(tmp_path / "good.xlsx", MAIN, [main_row(s) for s in range(1, 4)])
    _check(qtbot, page, good)
    assert page.form.sheetGrid.isVisible()
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"this is not a workbook at all")
    _check(qtbot, page, fake)
    form = page.form
    assert form.progressPanel.state == "error"
    assert form.fileLabel.text() == "File: fake.xlsx"
    assert not form.sheetGrid.isVisible()
    assert form.sheetGrid.model() is None or form.sheetGrid.model().rowCount() == 0
    assert form.problemsTree.topLevelItemCount() == 0 and not form.findingsTabs.isVisible()
    assert "fake.xlsx" in form.summary.text() and "ready" not in form.summary.text()
    assert not form.uploadButton.isEnabled() and page.state == "failed"


def test_a_new_sheet_starts_at_its_top_and_says_uploaded_when_it_is(qtbot, signed_context,
                                                                    tmp_path):
    page = _sheet_page(qtbot, signed_context)
    long = save_workbook(tmp_path / "long.xlsx", MAIN, [main_row(s) for s in range(1, 120)])
    _check(qtbot, page, long)
    bar = page.form.sheetGrid.verticalScrollBar()
    assert bar.maximum() > 0
    bar.setValue(bar.maximum())
    _check(qtbot, page, save_workbook(tmp_path / "next.xlsx", MAIN,
                                      [main_row(s) for s in range(200, 320)]))
    assert bar.value() == 0
    assert page.form.summary.text().startswith("No problems found: 120 patients ready")
    page.upload()
    qtbot.waitUntil(lambda: page.worker is None and page.state in ("done", "failed"),
                    timeout=30_000)
    assert page.state == "done", page.form.progressPanel.message
    summary = page.form.summary.text()
    assert "ready to upload" not in summary and "next.xlsx uploaded on " in summary
    assert not page.form.uploadButton.isEnabled()


def _rows(page):
    model = page.form.seriesTree.model()
    return [(model.item(r, 0).text(), model.item(r, 3).text(),
             model.item(r, STATUS_COLUMN).text()) for r in range(model.rowCount())]


@pytest.fixture
def demo(tmp_path):
    return generate_demo_data(tmp_path / "samples")


def test_after_sending_nothing_says_will_be_sent(qtbot, signed_context, demo):
    for template, path in (("main", demo.main_clean), ("status", demo.status)):
        sheet = SheetPage(signed_context, template)
        qtbot.addWidget(sheet)
        _check(qtbot, sheet, path)
    page = ImagesPage(signed_context)
    qtbot.addWidget(page)
    page.show()
    assert not page.form.sendButton.isEnabled()
    page.scan([demo.images])
    qtbot.waitUntil(lambda: page.worker is None and page.selection is not None, timeout=60_000)
    assert "will be sent" in page.form.summary.text()
    names = {p.name for p in (*demo.positives, *demo.negatives, demo.unlinked)}
    for label, description, _status in _rows(page):
        assert description == ""
        assert "→ Covid" in label or label.startswith("(")
        assert not any(part in label for name in names for part in name.split())
    page.send()
    qtbot.waitUntil(lambda: page.worker is None and page.form.progressPanel.state in DONE,
                    timeout=60_000)
    assert page.form.progressPanel.state == "success", page.form.progressPanel.message
    assert "will be sent" not in page.form.summary.text()
    assert " sent on " in page.form.summary.text()
    statuses = [status for _label, _description, status in _rows(page)]
    assert statuses and all("will be sent" not in s for s in statuses)
    assert any(s.startswith("1 of ") and s.endswith(" sent") for s in statuses), statuses
    assert not page.form.sendButton.isEnabled()
    page.hide()
    page.show()  # coming back to the page must not bring the old words back
    assert "will be sent" not in page.form.summary.text()


def test_the_sheet_gets_more_room_and_the_splitter_is_remembered(qtbot, signed_context,
                                                                 tmp_path):
    page = _sheet_page(qtbot, signed_context)
    _check(qtbot, page, save_workbook(tmp_path / "bad.xlsx", MAIN,
                                      [main_row(1, Age="forty"), main_row(2)]))
    splitter = page.form.splitter
    problems, grid = splitter.sizes()
    assert grid > problems  # the problems pane no longer leaves the grid narrow
    splitter.moveSplitter(problems - 60, 1)
    moved = splitter.sizes()
    again = _sheet_page(qtbot, signed_context)  # a new page, as after a restart
    _check(qtbot, again, tmp_path / "bad.xlsx")
    assert abs(again.form.splitter.sizes()[0] - moved[0]) <= 2, (again.form.splitter.sizes(),
                                                                moved)
