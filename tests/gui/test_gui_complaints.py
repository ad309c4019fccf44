"""The remaining complaints of a first try, each checked where it was seen: the empty Send
Images page, the bar beside a finished step, jargon in the statuses and the settings, ISO
dates, the sheet's headers, the checker's Images column and locked settings' contrast."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from nccid_desktop import config
from nccid_desktop.demo_data import generate_demo_data
from nccid_desktop.gui.images_page import ImagesPage
from nccid_desktop.gui.images_tree import COLUMNS, STATUS_COLUMN
from nccid_desktop.gui.progress_panel import ProgressPanel
from nccid_desktop.gui.settings_page import SettingsPage
from nccid_desktop.gui.sheet_page import SheetPage
from nccid_desktop.gui.style import apply_theme
from nccid_desktop.sheets.definitions import MAIN
from nccid_desktop.tasks import Progress
from tests.gui.ui_audit import faint
from tests.sheets.builders import main_row, save_workbook

UK_DATE = re.compile(r"^\d{2}/\d{2}/\d{4}$")


def test_the_empty_send_images_page_keeps_its_title_at_the_top(qtbot, context):
    from nccid_desktop.gui.main_window import MainWindow

    window = MainWindow(context)
    qtbot.addWidget(window)
    window.resize(1100, 720)
    window.show()
    window.open_section("images")
    qtbot.waitExposed(window)
    form = window.page("images").form
    for label in (form.title, form.intro):  # no label stretched tall, its words floating
        needed = label.heightForWidth(label.width()) if label.wordWrap() else \
            label.sizeHint().height()
        assert label.height() <= needed + 8, (label.objectName(), label.height(), needed)
    assert form.dropZone.geometry().bottom() < window.height() // 2  # the action is up top


def test_the_bar_gives_the_whole_jobs_share_not_a_bare_percent(qtbot):
    panel = ProgressPanel()
    qtbot.addWidget(panel)
    panel.start("De-identifying and sending…", total=28)
    panel.update_progress(Progress(14, 28, "De-identified 14 of 14 files"))
    assert panel.headline == "50% of the whole job done"
    assert "Working" not in panel.headline


def test_statuses_speak_plainly_and_the_details_line_has_the_rest(qtbot, signed_context,
                                                                   tmp_path):
    demo = generate_demo_data(tmp_path / "samples")
    page = ImagesPage(signed_context)
    qtbot.addWidget(page)
    page.show()
    page.scan([demo.images])
    qtbot.waitUntil(lambda: page.worker is None and page.selection is not None, timeout=60_000)
    tree, model = page.form.seriesTree, page.form.seriesTree.model()
    date_column = COLUMNS.index("Date")
    found = None
    for p in range(model.rowCount()):
        for s in range(model.item(p, 0).rowCount()):
            study = model.item(p, 0).child(s, 0)
            assert UK_DATE.match(model.item(p, 0).child(s, date_column).text())
            for r in range(study.rowCount()):
                status = study.child(r, STATUS_COLUMN).text()
                assert "(Modality" not in status and "DICOM" not in status, status
                if status.startswith("Not a chest X-ray"):
                    found = study.child(r, 0)
    assert found is not None
    tree.setCurrentIndex(found.index())
    assert "(Modality MR)" in page.form.seriesDetail.text()


def test_the_sheets_headers_read_whole_in_the_grid(qtbot, signed_context, tmp_path):
    page = SheetPage(signed_context, "main")
    qtbot.addWidget(page)
    page.resize(1366, 768)
    page.show()
    page.load(save_workbook(tmp_path / "main.xlsx", MAIN, [main_row(1), main_row(2)]))
    qtbot.waitUntil(lambda: page.worker is None and page.checked is not None, timeout=20_000)
    grid = page.form.sheetGrid
    metrics = grid.fontMetrics()
    header = grid.model().index(0, 1)
    text = header.data()
    assert text == "Hospital (Internal) Number"
    width = grid.columnWidth(1) - 8
    needed = metrics.boundingRect(0, 0, width, 1 << 20, int(Qt.TextFlag.TextWordWrap),
                                  text).height()
    assert grid.rowHeight(0) >= needed  # wrapped onto its lines, not "Hospital (Intern..."


def test_the_checkers_counts_are_as_wide_as_their_headers(qtbot, signed_context):
    from nccid_desktop.gui.checker_page import CheckerPage
    from tests.conftest import VALID_NHS_NUMBERS

    page = CheckerPage(signed_context)
    qtbot.addWidget(page)
    page.resize(1366, 768)
    page.show()
    page.form.numbers.setPlainText(VALID_NHS_NUMBERS[0])
    page.check()
    qtbot.waitUntil(lambda: page.form.progressPanel.state == "success", timeout=20_000)
    table = page.form.results
    header = table.horizontalHeader()
    for column in (4, 5):  # Studies, Images
        assert table.columnWidth(column) <= header.sectionSizeHint(column) + 24
    received = table.item(0, 2).text()
    assert received == "Not received" or re.match(r"Received \d{1,2} [A-Z][a-z]{2} \d{4}$",
                                                  received)


def test_locked_settings_stay_readable(qtbot, pool, tmp_path, monkeypatch):
    app = QApplication.instance()
    before = app.styleSheet()
    apply_theme(app)
    try:
        policy = tmp_path / "policy.toml"
        policy.write_text('server_url = "https://nccid.example.nhs.uk"\nsite = "RSH"\n'
                          'locked = ["server_url", "site"]\n', encoding="utf-8")
        monkeypatch.setenv("NCCID_POLICY_FILE", str(policy))
        page = SettingsPage(pool, config.resolve())
        qtbot.addWidget(page)
        page.resize(1024, 700)
        page.show()
        qtbot.waitExposed(page)
        for edit in (page.form.server, page.form.site):
            assert edit.isEnabled() and edit.isReadOnly()  # not greyed out, not editable
        assert not faint(page), faint(page)
        words = page.form.hospitalPattern.placeholderText() + page.form.intro.text()
        assert "[0-9]" not in words and "machine policy" not in words
    finally:
        app.setStyleSheet(before)
