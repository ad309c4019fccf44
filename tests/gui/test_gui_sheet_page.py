"""The nurse's flow on real workbooks and the real service: problems at the right cells, fix,
upload, green; service stopped, red with the message; Retry succeeds once it is back."""

from __future__ import annotations

import json
import re

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from nccid_desktop.gui.context import AppContext, SiteOptions
from nccid_desktop.gui.sheet_page import SheetPage
from nccid_desktop.sheets.definitions import MAIN, STATUS
from tests.gui.conftest import sign_in
from tests.gui.gui_service import live_service
from tests.sheets.builders import hospital_number, main_row, save_workbook, status_row

DONE = ("success", "error", "cancelled")


def _page(qtbot, context, template="main", switch_to=None) -> SheetPage:
    page = SheetPage(context, template, switch_to=switch_to)
    qtbot.addWidget(page)
    page.show()
    return page


def _wait_done(qtbot, page, timeout=20_000):
    qtbot.waitUntil(lambda: page.worker is None and page.form.progressPanel.state in DONE,
                    timeout=timeout)


def _bad_and_fixed(tmp_path):
    rows = [main_row(seed) for seed in range(1, 6)]
    bad_rows = [dict(r) for r in rows]
    bad_rows[2]["Age"] = "forty"  # data row 3 -> Excel row 4, column D (Age)
    bad_rows[4]["Sex"] = 7  # Excel row 6, column E (Sex)
    bad = save_workbook(tmp_path / "bad.xlsx", MAIN, bad_rows)
    fixed = save_workbook(tmp_path / "fixed.xlsx", MAIN, rows)
    return bad, fixed


def _group(tree, letter):
    for i in range(tree.topLevelItemCount()):
        item = tree.topLevelItem(i)
        if item.text(0).startswith(f"Column {letter}:"):
            return item
    raise AssertionError(f"no group for column {letter}")


def test_problems_are_grouped_by_column_and_select_their_cell(qtbot, signed_context, tmp_path):
    bad, _ = _bad_and_fixed(tmp_path)
    page = _page(qtbot, signed_context)
    page.load(bad)
    _wait_done(qtbot, page)
    form = page.form
    assert form.summary.text().startswith("There are 2 problems")
    assert page.form.progressPanel.state == "error"
    assert not form.uploadButton.isEnabled()
    age = _group(form.problemsTree, "D")
    assert age.text(0) == "Column D: Age — 1 problem"
    assert age.child(0).text(0) == "D4"
    form.problemsTree.setCurrentItem(age.child(0))
    assert page.selected_cell() == "D4"
    sex = _group(form.problemsTree, "E")
    form.problemsTree.setCurrentItem(sex.child(0))
    assert page.selected_cell() == "E6"
    grid = form.sheetGrid.model()
    assert grid.headerData(3, Qt.Orientation.Horizontal) == "D"
    assert grid.headerData(5, Qt.Orientation.Vertical) == "6"
    assert grid.data(grid.index(0, 3)) == "Age"
    assert "Problem in D4" in grid.data(grid.index(3, 3), Qt.ItemDataRole.ToolTipRole)
    assert grid.data(grid.index(2, 3), Qt.ItemDataRole.ToolTipRole) is None


def test_fixed_sheet_uploads_and_the_bar_turns_green(qtbot, signed_context, service, tmp_path):
    bad, fixed = _bad_and_fixed(tmp_path)
    page = _page(qtbot, signed_context)
    page.load(bad)
    _wait_done(qtbot, page)
    page.load(fixed)
    _wait_done(qtbot, page)
    assert page.form.summary.text().startswith("No problems found: 5 patients ready")
    assert page.form.uploadButton.isEnabled()
    before = set(service.raw_files("data"))

    def confirm():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, confirm)
            return
        assert "5 patients" in box.text() and service.account.site in box.text()
        box.button(QMessageBox.StandardButton.Yes).click()

    QTimer.singleShot(0, confirm)
    page.form.uploadButton.click()
    _wait_done(qtbot, page)
    panel = page.form.progressPanel
    assert panel.state == "success", panel.message
    assert panel.message == "5 patients uploaded."
    assert panel.form.stateIcon.accessibleName() == "Done"
    assert panel.form.bar.property("state") == "success"
    new = sorted(set(service.raw_files("data")) - before)
    assert len(new) == 5 and all(p.name.endswith("_data.json") for p in new)
    record = json.loads(new[0].read_text())
    assert record["Pseudonym"].startswith("Covid") and record["SubmittingCentre"] == "RSH"
    text = " ".join(p.read_text() for p in new)
    assert all(main_row(seed)["NHS/CHI Number"] not in text for seed in range(1, 6))
    assert not page.form.uploadButton.isEnabled()


def test_service_stopped_turns_red_and_retry_succeeds_once_it_is_back(qtbot, pool, tmp_path):
    sheet = save_workbook(tmp_path / "status.xlsx", STATUS, [status_row(s) for s in range(1, 4)])
    data_dir = tmp_path / "collector"
    with live_service(data_dir) as running:
        port = running.embedded.port
        context = AppContext(pool, SiteOptions(server_url=running.url),
                             data_dir=tmp_path / "home")
        sign_in(context, running)
        page = _page(qtbot, context, "status")
        page.load(sheet)
        _wait_done(qtbot, page)
        assert page.form.uploadButton.isEnabled()
    page.upload()
    _wait_done(qtbot, page)
    panel = page.form.progressPanel
    assert panel.state == "error"
    assert "Cannot reach the collection service" in panel.message
    assert panel.form.retryButton.isVisibleTo(page)
    assert panel.form.bar.property("state") == "error"
    assert panel.form.stateIcon.accessibleName() == "Problem"
    with live_service(data_dir, port=port) as back:
        panel.form.retryButton.click()
        _wait_done(qtbot, page)
        assert panel.state == "success", panel.message
        assert panel.message == "3 patients uploaded."
        assert len(back.raw_files("data")) == 3
    context.close()


def test_wrong_template_shows_a_banner_that_opens_the_right_section(qtbot, signed_context,
                                                                       tmp_path):
    sheet = save_workbook(tmp_path / "negatives.xlsx", STATUS, [status_row(1)])
    opened = []
    page = _page(qtbot, signed_context, "main", switch_to=lambda t, p: opened.append((t, p)))
    page.load(sheet)
    _wait_done(qtbot, page)
    assert page.form.wrongTemplateBanner.isVisible()
    assert "Covid Status" in page.form.bannerText.text()
    assert not page.form.uploadButton.isEnabled()
    page.form.switchSectionButton.click()
    assert opened == [("status", sheet)]


def test_annotated_copy_marks_the_problem_cells(qtbot, signed_context, tmp_path):
    from openpyxl import load_workbook

    bad, _ = _bad_and_fixed(tmp_path)
    page = _page(qtbot, signed_context)
    page.load(bad)
    _wait_done(qtbot, page)
    target = tmp_path / "checked.xlsx"
    page.save_annotated_copy(target)
    qtbot.waitUntil(lambda: page.form.progressPanel.state == "success", timeout=20_000)
    sheet = load_workbook(target)[MAIN.sheet_name]
    assert sheet["D4"].comment is not None and sheet["E6"].comment is not None
    assert sheet["D3"].comment is None


@pytest.mark.parametrize("template", ["main", "status"])
def test_blank_template_download_is_recognised_by_the_validator(qtbot, signed_context, tmp_path,
                                                                template):
    page = _page(qtbot, signed_context, template)
    target = tmp_path / f"{template}.xlsx"
    page.save_template(target)
    qtbot.waitUntil(lambda: page.form.progressPanel.state == "success", timeout=10_000)
    page.load(target)
    _wait_done(qtbot, page)
    assert page.form.summary.text().startswith("There is 1 problem")
    assert "no patient rows" in page.form.problemsTree.topLevelItem(0).child(0).text(1)
    assert not page.form.wrongTemplateBanner.isVisible()


def test_a_sheet_upload_sends_its_records_and_leaves_queued_images_to_send_images(
        qtbot, signed_context, service, tmp_path):
    from tests.transport.payloads import write_instances

    queued = write_instances(tmp_path / "queued", signed_context.keys, 3)
    for uid, path in queued.items():
        signed_context.outbox.stage_image(uid, "", path)
    sheet = save_workbook(tmp_path / "s.xlsx", STATUS, [status_row(s) for s in range(60, 62)])
    images_before = set(service.raw_files("images"))
    page = _page(qtbot, signed_context, "status")
    page.load(sheet)
    _wait_done(qtbot, page)
    page.upload()
    _wait_done(qtbot, page)
    assert page.form.progressPanel.message == "2 patients uploaded."
    assert set(service.raw_files("images")) == images_before
    assert signed_context.outbox.count_pending("image") == 3
    assert signed_context.outbox.count_pending("record") == 0


def test_check_then_upload_reads_the_workbook_once_and_pseudonymises_each_row_once(
        qtbot, signed_context, service, tmp_path, monkeypatch):
    from nccid_desktop.sheets import payload, workbook

    counts = {"loads": 0, "pseudonyms": 0}
    load, pseudonymise = workbook.load_bounded, payload.pseudonym_for

    def counting_load(*args, **kwargs):
        counts["loads"] += 1
        return load(*args, **kwargs)

    def counting_pseudonym(*args, **kwargs):
        counts["pseudonyms"] += 1
        return pseudonymise(*args, **kwargs)

    monkeypatch.setattr(workbook, "load_bounded", counting_load)
    monkeypatch.setattr(payload, "pseudonym_for", counting_pseudonym)
    _, fixed = _bad_and_fixed(tmp_path)
    page = _page(qtbot, signed_context)
    page.load(fixed)
    _wait_done(qtbot, page)
    assert page.form.sheetGrid.model().rowCount() == 6, "the grid shows the sheet"
    assert counts["loads"] == 1, "the check and its grid read the workbook once"
    page.upload()
    _wait_done(qtbot, page)
    panel = page.form.progressPanel
    assert panel.state == "success" and panel.message.startswith("5 patients uploaded")
    assert counts == {"loads": 1, "pseudonyms": 5}, "each row pseudonymised once"


def test_a_national_portal_sheet_is_offered_save_as_the_current_template(qtbot, signed_context,
                                                                        tmp_path):
    from nccid_desktop.sheets.validator import validate_workbook
    from tests.sheets.builders import plain_workbook, row_values

    rows = [main_row(1), main_row(2)]
    portal = plain_workbook(tmp_path / "portal.xlsx",
                            [[c.header for c in MAIN.columns], *(row_values(MAIN, r) for r in rows)])
    page = _page(qtbot, signed_context)
    page.load(portal)
    _wait_done(qtbot, page)
    offer = page.upgrade_offer
    assert offer.isVisible() and offer.button.isEnabled()
    assert "national NCCID portal" in offer.text.text()
    new = tmp_path / "current.xlsx"
    offer.save_to(new)
    qtbot.waitUntil(lambda: offer.worker is None and offer.result is not None, timeout=20_000)
    assert offer.result.rows == 2 and "Copied 2 patient rows" in offer.text.text()
    assert not [f for f in validate_workbook(new).findings if f.code == "template_version"]
    page.load(new)  # the copy is in the current template: no offer
    _wait_done(qtbot, page)
    assert not offer.isVisible()


def test_the_first_sheet_asks_for_the_hospital_number_form_with_the_learnt_one_suggested(
        qtbot, signed_context, tmp_path):
    from nccid_desktop import config
    from nccid_desktop.sheets.validator import validate_workbook

    rows = [main_row(seed) for seed in range(1, 6)]
    path = save_workbook(tmp_path / "main.xlsx", MAIN, rows)
    page = _page(qtbot, signed_context)
    page.load(path)
    _wait_done(qtbot, page)
    prompt = page.pattern_prompt
    assert prompt is not None and prompt.isVisible()
    learnt = prompt.pattern.text()
    numbers = [hospital_number(seed) for seed in range(1, 6)]
    assert learnt and all(re.fullmatch(learnt, n) for n in numbers), (learnt, numbers)
    assert "Learnt from this sheet:" in prompt.learnt.text()
    prompt.pattern.setText("RR[0-9")
    prompt.save()
    assert "not a valid pattern" in prompt.problem.text() and prompt.isVisible()
    prompt.pattern.setText(learnt)
    prompt.save()
    assert not prompt.isVisible()
    assert config.resolve().value("hospital_pattern") == learnt
    assert signed_context.options.hospital_pattern == learnt
    report = validate_workbook(path, hospital_pattern=learnt)
    assert not [f for f in report.findings if f.code in ("hospital_pattern", "hospital_form")]
    page.load(path)  # asked once: not again
    _wait_done(qtbot, page)
    assert page.pattern_prompt is prompt and not prompt.isVisible()


def test_a_pattern_set_by_it_is_never_asked_for(qtbot, signed_context, tmp_path):
    signed_context.options.hospital_pattern = r"RR\d{8}"
    page = _page(qtbot, signed_context)
    page.load(save_workbook(tmp_path / "main.xlsx", MAIN, [main_row(1)]))
    _wait_done(qtbot, page)
    assert page.pattern_prompt is None


def test_images_scanned_in_this_session_teach_the_sheet_the_hospital_number_form(
        qtbot, signed_context, tmp_path):
    """Issue 14: with no site pattern, the app's sheet check learns the form from the images'
    PatientIDs scanned in the same session, as ``nccid upload images --sheet`` does."""
    from datetime import date

    from nccid_desktop.demo_data import demo_patient, write_images
    from nccid_desktop.gui.images_page import ImagesPage
    from tests.sheets.builders import HOSPITAL

    people = tuple(demo_patient(seed, date(2026, 11, 1)) for seed in range(1, 5))
    export = write_images(tmp_path / "export", people[:3], people[3:], people[0], ct_slices=2)
    images = ImagesPage(signed_context)
    qtbot.addWidget(images)
    images.scan([export])
    qtbot.waitUntil(lambda: images.worker is None and images.selection is not None,
                    timeout=30_000)
    assert signed_context.image_patient_ids and all(
        p.startswith("RR") for p in signed_context.image_patient_ids)
    rows = [main_row(1, **{HOSPITAL: "90817263"}), main_row(2, **{HOSPITAL: "RR00000002"})]
    page = _page(qtbot, signed_context)
    page.load(save_workbook(tmp_path / "main.xlsx", MAIN, rows))
    _wait_done(qtbot, page)
    learnt = [f for f in page.checked.report.warnings if f.code == "hospital_form"]
    assert [f.cell for f in learnt] == ["B2"]
    assert "the images' patient IDs" in learnt[0].message and "90817263" not in learnt[0].message
