"""The Checker's take-back dialog against the real service: look up what is held, remove a
received study, then withdraw the patient after ticking the confirmation."""

from __future__ import annotations

import pytest

from nccid_desktop.gui.checker_page import CheckerPage
from nccid_desktop.gui.take_back_dialog import TakeBackDialog
from nccid_desktop.pseudonym import pseudonym_for
from nccid_desktop.tasks import NEVER_CANCELLED, no_progress
from nccid_desktop.transport.outbox import Outbox
from nccid_desktop.workflows.image_selection import choose, scan_and_ask, sheet_windows
from nccid_desktop.workflows.send_job import SendJob
from nccid_desktop.workflows.sheet_check import check_sheet
from nccid_desktop.workflows.sheet_upload import upload_sheet
from nccid_desktop.workflows.work_folders import WorkFolders
from tests.sheets.builders import hospital_number, nhs_number
from tests.workflows.send_setup import export, sheet

SEED = 1701


@pytest.fixture
def sent(signed_context, service, tmp_path):
    keys, client = signed_context.keys, signed_context.client
    status = sheet(tmp_path / "status.xlsx", [SEED])
    upload_sheet(check_sheet(status, keys=keys), keys, client, Outbox(tmp_path / "outbox"))
    pacs = export(tmp_path / "pacs", [SEED], 2)
    selection = choose(scan_and_ask([pacs], keys, client, workers=1), keys, "hospital",
                       sheet_windows([status], keys, "hospital"))
    job = SendJob.plan_send(selection, keys, "hospital", client, Outbox(tmp_path / "outbox"),
                            WorkFolders.under(tmp_path / "work"))
    job.task(no_progress, NEVER_CANCELLED)
    return pseudonym_for(keys, hospital_number=hospital_number(SEED))


def test_look_up_remove_a_study_then_withdraw(qtbot, signed_context, service, sent) -> None:
    page = CheckerPage(signed_context)
    qtbot.addWidget(page)
    assert page.takeBackButton.isEnabled()
    dialog = TakeBackDialog(signed_context, "")
    qtbot.addWidget(dialog)
    form = dialog.form
    assert not form.lookUpButton.isEnabled()
    qtbot.keyClicks(form.number, "1234567890")
    assert "1234567890" not in form.numberStatus.text() and not form.lookUpButton.isEnabled()
    form.number.setText(nhs_number(SEED))
    assert form.numberStatus.text() == "A valid NHS/CHI number."
    form.lookUpButton.click()
    qtbot.waitUntil(lambda: form.studies.rowCount() == 1, timeout=10_000)
    assert "1 clinical record and 2 images in 1 study" in form.holding.text()
    assert not form.withdrawButton.isEnabled()
    images_before = len(service.raw_files("images"))
    form.studies.cellWidget(0, 3).click()
    qtbot.waitUntil(lambda: "Removed 2 images" in form.outcome.text(), timeout=10_000)
    assert len(service.raw_files("images")) == images_before - 2
    qtbot.waitUntil(lambda: form.studies.rowCount() == 0, timeout=10_000)
    form.reason.setCurrentIndex(form.reason.findData("wrong-patient"))
    assert not form.withdrawButton.isEnabled()
    form.confirm.setChecked(True)
    assert form.withdrawButton.isEnabled()
    form.withdrawButton.click()
    qtbot.waitUntil(lambda: "Withdrawn on" in form.outcome.text(), timeout=10_000)
    assert not any(sent in p.name for p in service.raw_files("data"))
    qtbot.waitUntil(lambda: "was withdrawn on" in form.holding.text(), timeout=10_000)
    assert not form.withdrawButton.isEnabled()


def test_the_opt_out_setting_applies_to_the_sheet_and_images_pages(qtbot, signed_context,
                                                                   service, tmp_path) -> None:
    from nccid_desktop.gui.images_page import ImagesPage
    from nccid_desktop.gui.sheet_page import SheetPage

    listed, kept, unsheeted = 1801, 1802, 1803
    (tmp_path / "opt-outs.txt").write_text(f"{nhs_number(listed)}\n")
    signed_context.options.opt_out_list = str(tmp_path / "opt-outs.txt")
    keys = signed_context.keys
    page = SheetPage(signed_context, "status")
    qtbot.addWidget(page)
    page.load(sheet(tmp_path / "status.xlsx", [listed, kept]))
    qtbot.waitUntil(lambda: page.worker is None and page.checked is not None, timeout=20_000)
    assert page.checked.opted_out == 1
    page.upload()
    qtbot.waitUntil(lambda: page.worker is None
                    and page.form.progressPanel.state in ("success", "error"), timeout=20_000)
    assert "1 patient has opted out" in page.form.progressPanel.message
    gone = pseudonym_for(keys, hospital_number=hospital_number(listed))
    assert not any(gone in p.name for p in service.raw_files("data"))
    images = ImagesPage(signed_context)
    qtbot.addWidget(images)
    images.scan([export(tmp_path / "pacs", [listed, kept, unsheeted], 1)])
    qtbot.waitUntil(lambda: images.worker is None and images.selection is not None,
                    timeout=30_000)
    codes = {d.pseudonym: d.code for d in images.selection.decisions}
    assert codes[gone] == "opted_out"
    assert codes[pseudonym_for(keys, hospital_number=hospital_number(unsheeted))] == \
        "opt_out_unchecked"
    assert codes[pseudonym_for(keys, hospital_number=hospital_number(kept))] == "will_send"
