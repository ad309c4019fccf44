"""What a nurse reads: nothing cut off, every message whole, the bar says what happened.

Each test measures the real widgets with the real theme (``ui/theme.qss``): the section list
at 100% here and at 200% in a child process (Qt reads ``QT_SCALE_FACTOR`` once per process),
the checker's headers, the wrapped problem messages and the bar's own words.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nccid_desktop.gui.main_window import MainWindow
from nccid_desktop.gui.sheet_page import SheetPage
from nccid_desktop.gui.style import apply_theme
from nccid_desktop.sheets.definitions import MAIN
from tests.conftest import VALID_NHS_NUMBERS
from tests.sheets.builders import main_row, save_workbook

ROOT = Path(__file__).resolve().parents[2]
LONGEST_SECTION = "Upload Covid Status (Negative)"
DONE = ("success", "error", "cancelled")


@pytest.fixture
def themed(qapp):
    """The app's own stylesheet, as users see it (fonts and padding change every size)."""
    before = qapp.styleSheet()
    apply_theme(qapp)
    yield qapp
    qapp.setStyleSheet(before)


def section_fit(window: MainWindow) -> dict[str, object]:
    """How the section list's longest entry fits (also run at 200% in a child process)."""
    sections = window.form.sections
    longest = max((sections.item(i).text() for i in range(sections.count())), key=len)
    return {"longest": longest, "needed": sections.sizeHintForColumn(0),
            "text": sections.fontMetrics().horizontalAdvance(longest),
            "viewport": sections.viewport().width(),
            "scrollbar_shown": sections.horizontalScrollBar().isVisible(),
            "scrollbar_policy": sections.horizontalScrollBarPolicy().name}


def _assert_fits(fit: dict[str, object]) -> None:
    assert fit["longest"] == LONGEST_SECTION
    assert not fit["scrollbar_shown"] and fit["scrollbar_policy"] == "ScrollBarAlwaysOff"
    assert fit["text"] < fit["needed"] <= fit["viewport"], fit


def _window(qtbot, context) -> MainWindow:
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.resize(1000, 700)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_section_list_fits_its_longest_entry_at_100_percent(qtbot, themed, context):
    _assert_fits(section_fit(_window(qtbot, context)))


CHILD_AT_200 = """
import json, sys
from PySide6.QtWidgets import QApplication
from nccid_desktop.gui.context import AppContext
from nccid_desktop.gui.main_window import MainWindow
from nccid_desktop.gui.style import apply_theme
from nccid_desktop.gui.workers import WorkerPool
from tests.gui.test_gui_readability import section_fit
app = QApplication([])
apply_theme(app)
pool = WorkerPool(app)
window = MainWindow(AppContext(pool, data_dir=__import__('pathlib').Path(sys.argv[1])))
window.resize(1000, 700)
window.show()
app.processEvents()
print(json.dumps({"ratio": window.devicePixelRatio(), **section_fit(window)}))
window.close()
pool.shutdown(10_000)
"""


def test_section_list_fits_its_longest_entry_at_200_percent(tmp_path):
    env = {**os.environ, "QT_SCALE_FACTOR": "2", "QT_QPA_PLATFORM": "offscreen",
           "NCCID_HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    child = subprocess.run([sys.executable, "-c", CHILD_AT_200, str(tmp_path / "data")],
                           env=env, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert child.returncode == 0, child.stderr
    fit = json.loads(child.stdout.strip().splitlines()[-1])
    assert fit["ratio"] == 2
    _assert_fits(fit)


def test_guidance_title_shows_one_ampersand(qtbot, context):
    window = _window(qtbot, context)
    assert window.page("guidance").form.title.text() == "Guidance & FAQ"


def _headers_readable(table) -> None:
    header = table.horizontalHeader()
    metrics = header.fontMetrics()
    for column in range(table.columnCount()):
        text = table.horizontalHeaderItem(column).text()
        assert header.sectionSize(column) > metrics.horizontalAdvance(text), text
    assert header.length() == table.viewport().width()  # the table fills its width


def test_checker_columns_fit_headers_and_results_and_fill_the_width(qtbot, themed,
                                                                    signed_context):
    window = _window(qtbot, signed_context)
    window.open_section("checker")
    page = window.page("checker")
    table = page.form.results
    _headers_readable(table)
    assert table.horizontalHeaderItem(3).text() == "Status (negative)"
    page.form.numbers.setPlainText("\n".join(VALID_NHS_NUMBERS[:2]))
    page.form.checkButton.click()
    qtbot.waitUntil(lambda: page.form.progressPanel.state == "success", timeout=10_000)
    assert page.form.progressPanel.headline == "Check finished"
    assert table.rowCount() == 2
    _headers_readable(table)
    metrics = table.fontMetrics()
    for row in range(table.rowCount()):
        for column in range(table.columnCount()):
            text = table.item(row, column).text()
            assert table.columnWidth(column) > metrics.horizontalAdvance(text), text


def _sheet_page(qtbot, context) -> SheetPage:
    page = SheetPage(context, "main")
    qtbot.addWidget(page)
    page.resize(700, 650)
    page.show()
    qtbot.waitExposed(page)
    return page


def _check(qtbot, page, path) -> None:
    page.load(path)
    qtbot.waitUntil(lambda: page.worker is None and page.form.progressPanel.state in DONE,
                    timeout=20_000)


def test_every_problem_message_can_be_read_whole(qtbot, themed, signed_context, tmp_path):
    rows = [main_row(seed) for seed in range(1, 4)]
    rows[1]["NHS/CHI Number"] = "1234567890"  # a wrong check digit: Excel row 3, column A
    page = _sheet_page(qtbot, signed_context)
    _check(qtbot, page, save_workbook(tmp_path / "bad.xlsx", MAIN, rows))
    tree, detail = page.form.problemsTree, page.form.problemDetail
    group = tree.topLevelItem(0)
    assert group.text(0) == "Column A: NHS/CHI Number — 1 problem"
    assert tree.isFirstColumnSpanned(0, tree.rootIndex())
    child = group.child(0)
    message = child.text(1)
    assert child.text(0) == "A3" and message.startswith("The NHS/CHI number is not valid")
    assert "1234567890" not in message
    assert child.toolTip(1) == f"A3: {message}" == child.toolTip(0)
    metrics = tree.fontMetrics()
    width = tree.header().sectionSize(1)
    assert tree.header().sectionSize(0) < width  # the message column has the room
    assert metrics.horizontalAdvance(message) > width, "the page is too wide to test wrapping"
    lines = math.ceil(metrics.horizontalAdvance(message) / width)
    assert tree.visualItemRect(child).height() >= lines * metrics.lineSpacing()
    assert detail.text().startswith("Choose a problem")
    tree.setCurrentItem(child)
    assert detail.text() == f"A3: {message}" and detail.wordWrap()
    assert page.selected_cell() == "A3"
    tree.setCurrentItem(group)
    assert detail.text().startswith("Column A: NHS/CHI Number — 1 problem.")
    page.resize(1800, 650)
    qtbot.waitUntil(lambda: tree.header().sectionSize(1) > width)
    wider = tree.header().sectionSize(1)
    fewer = math.ceil(metrics.horizontalAdvance(message) / wider)
    assert fewer < lines
    qtbot.waitUntil(lambda: tree.visualItemRect(child).height() < lines * metrics.lineSpacing())


def test_the_bar_says_what_the_check_found(qtbot, themed, signed_context, tmp_path):
    rows = [main_row(seed) for seed in range(1, 5)]
    page = _sheet_page(qtbot, signed_context)
    panel = page.form.progressPanel
    bad = [dict(r) for r in rows]
    bad[0]["Age"], bad[2]["Sex"] = "forty", 7
    _check(qtbot, page, save_workbook(tmp_path / "bad.xlsx", MAIN, bad))
    assert (panel.state, panel.headline) == ("error", "2 problems to fix before upload")
    assert panel.form.bar.value() == panel.form.bar.maximum()
    assert panel.form.stateIcon.accessibleName() == "Problem"
    assert page.form.summary.text().startswith("There are 2 problems")
    assert panel.message.startswith("Fix them in Excel")  # what to do, not the count again
    assert "2 problems to fix before upload" in panel.form.bar.accessibleDescription()

    signed_context.options.hospital_pattern = r"XX\d{8}"  # every row now only warns
    _check(qtbot, page, save_workbook(tmp_path / "warn.xlsx", MAIN, rows))
    warnings = page.checked.report.warning_count
    assert warnings and page.checked.report.ok
    assert panel.state == "success" and panel.form.stateIcon.accessibleName() == "Done"
    assert panel.headline == f"Ready to upload ({warnings} warnings to check)"
    assert page.form.summary.text().endswith(f"{warnings} warnings to check.")
    assert panel.message == f"Look at the {warnings} warnings first, then press Upload."
    assert page.form.uploadButton.isEnabled()

    signed_context.options.hospital_pattern = ""
    _check(qtbot, page, save_workbook(tmp_path / "clean.xlsx", MAIN, rows))
    assert (panel.state, panel.headline) == ("success", "Ready to upload")
    page.upload()
    qtbot.waitUntil(lambda: page.worker is None and panel.state in DONE, timeout=20_000)
    assert (panel.state, panel.headline) == ("success", "4 patients uploaded")
    assert page.state == "done" and "ready to upload" not in page.form.summary.text()
    assert "uploaded on" in page.form.summary.text()


def test_wrong_sheet_says_so_in_the_bar(qtbot, themed, signed_context, tmp_path):
    from nccid_desktop.sheets.definitions import STATUS
    from tests.sheets.builders import status_row

    page = _sheet_page(qtbot, signed_context)
    _check(qtbot, page, save_workbook(tmp_path / "status.xlsx", STATUS, [status_row(1)]))
    panel = page.form.progressPanel
    assert (panel.state, panel.headline) == ("error", "Wrong sheet for this section")
    assert panel.form.bar.value() == panel.form.bar.maximum()
    assert page.form.wrongTemplateBanner.isVisible()


def test_send_images_statuses_wrap_and_follow_sheets_checked_after_the_scan(
        qtbot, themed, signed_context, tmp_path):
    from nccid_desktop.demo_data import generate_demo_data
    from nccid_desktop.gui.images_page import ImagesPage
    from nccid_desktop.gui.images_tree import COLUMNS, STATUS_COLUMN

    demo = generate_demo_data(tmp_path / "samples")
    main_sheet = SheetPage(signed_context, "main")
    qtbot.addWidget(main_sheet)
    _check(qtbot, main_sheet, demo.main_clean)
    page = ImagesPage(signed_context)
    qtbot.addWidget(page)
    page.resize(1000, 700)
    page.show()
    page.scan([demo.images])
    qtbot.waitUntil(lambda: page.worker is None and page.selection is not None, timeout=60_000)
    assert page.form.progressPanel.headline == "Scan finished: see what will be sent below"
    tree = page.form.seriesTree
    assert COLUMNS[STATUS_COLUMN] == COLUMNS[-1] == "Status"
    assert tree.header().length() == tree.viewport().width()

    def statuses() -> dict[str, list]:
        found: dict[str, list] = {}
        model = tree.model()
        for row in range(model.rowCount()):
            patient = model.item(row, 0)
            for s in range(patient.rowCount()):
                study = patient.child(s, 0)
                for r in range(study.rowCount()):
                    found.setdefault(patient.text().split()[0], []).append(
                        study.child(r, STATUS_COLUMN))
        return found

    longest = max((i for items in statuses().values() for i in items), key=lambda i: len(i.text()))
    metrics, width = tree.fontMetrics(), tree.header().sectionSize(STATUS_COLUMN)
    assert metrics.horizontalAdvance(longest.text()) > width, longest.text()
    assert tree.visualRect(longest.index()).height() >= 2 * metrics.lineSpacing()

    negative = demo.negatives[0].hospital_number
    assert statuses()[negative][0].text() == "Not linked to a clinical record"
    page.hide()
    status_sheet = SheetPage(signed_context, "status")
    qtbot.addWidget(status_sheet)
    _check(qtbot, status_sheet, demo.status)
    page.show()
    assert statuses()[negative][0].text().startswith("Will be sent")


def test_problem_cells_have_an_icon_not_only_a_colour_and_headers_a_tooltip(
        qtbot, themed, signed_context, tmp_path):
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QIcon

    from nccid_desktop.gui.sheet_grid import MAX_COLUMN_CHARACTERS

    rows = [main_row(seed) for seed in range(1, 4)]
    rows[1]["Age"] = "sixty"  # Excel row 3, column D
    page = _sheet_page(qtbot, signed_context)
    _check(qtbot, page, save_workbook(tmp_path / "bad.xlsx", MAIN, rows))
    grid, model = page.form.sheetGrid, page.form.sheetGrid.model()
    problem, fine = model.index(2, 3), model.index(3, 3)
    assert isinstance(model.data(problem, Qt.ItemDataRole.DecorationRole), QIcon)
    assert model.data(fine, Qt.ItemDataRole.DecorationRole) is None
    assert model.data(problem, Qt.ItemDataRole.ToolTipRole).startswith("Problem in D3")
    header = model.index(0, 0)
    assert model.data(header, Qt.ItemDataRole.ToolTipRole) == model.data(header) == \
        "NHS/CHI Number"
    assert model.data(model.index(1, 0), Qt.ItemDataRole.ToolTipRole) is None
    marked = grid.visualRect(problem)
    text = grid.fontMetrics().horizontalAdvance(model.data(problem))
    assert marked.width() > text + 16  # the value and its (16-pixel) icon both show
    widest = grid.fontMetrics().averageCharWidth() * MAX_COLUMN_CHARACTERS
    assert all(grid.columnWidth(c) <= widest for c in range(model.columnCount()))
