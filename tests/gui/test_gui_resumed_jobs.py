"""A send job left unfinished (files never de-identified) is finished whole by the app's
start-up offer; when some of its files are gone the rest is sent and the user may drop it."""

from __future__ import annotations

import shutil

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from nccid_desktop.gui.main_window import MainWindow
from nccid_desktop.tasks import NEVER_CANCELLED, no_progress
from nccid_desktop.workflows import send_job
from nccid_desktop.workflows.send_job import SendJob
from nccid_desktop.workflows.work_folders import WorkFolders
from tests.workflows.send_setup import (
    assert_held_once,
    expected_uids,
    export,
    selection_of,
    sheet,
    stored,
)

SLICES = 4


def _unfinished_job(context, tmp_path, seeds, monkeypatch):
    """What a run closed after its first chunk leaves: a journaled job, half of it never
    de-identified."""
    monkeypatch.setattr(send_job, "CHUNK_FILES", SLICES)
    pacs = export(tmp_path / "pacs", seeds, SLICES)
    selection = selection_of([pacs], sheet(tmp_path / "status.xlsx", seeds), context.keys,
                             context.client)
    job = SendJob.plan_send(selection, context.keys, "hospital", context.client,
                            context.outbox, WorkFolders.under(context.data_dir))
    job.on_change = job.request_pause
    job.task(no_progress, NEVER_CANCELLED)
    assert context.outbox.jobs.open_jobs()[0].to_do == SLICES * (len(seeds) - 1)
    return pacs, expected_uids(selection, context.keys)


def _answer(button_text: str, seen: list[str], also=None):
    """Press ``button_text`` on the next message box; keep its text (and ``also()`` then)."""
    def answer() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer)
            return
        seen.append(box.text())
        if also is not None:
            seen.append(also())
        [button] = [b for b in box.buttons() if b.text().replace("&", "") == button_text]
        button.click()
    return answer


def test_the_start_up_offer_finishes_a_job_whose_files_were_never_staged(
        qtbot, signed_context, service, tmp_path, monkeypatch):
    before = stored(service)
    _, expected = _unfinished_job(signed_context, tmp_path, [601, 602], monkeypatch)
    window = MainWindow(signed_context, None)
    qtbot.addWidget(window)
    window.show()
    offered: list[str] = []
    QTimer.singleShot(0, _answer("Yes", offered))
    assert window.offer_resume()
    assert offered[0].startswith(f"{SLICES * 2} items from an earlier upload did not finish")
    assert f"; {SLICES} files of them still to be de-identified" in offered[0]
    page = window.page("images")
    qtbot.waitUntil(lambda: page.worker is None and page.form.progressPanel.state == "success",
                    timeout=60_000)
    assert page.form.progressPanel.message.startswith("0 records and ")
    # the heading now says what happened, not what was still to do before it was sent
    assert page.state == "done" and page.form.summary.text().startswith("Unfinished work sent on")
    assert_held_once(service, expected, before)
    assert signed_context.outbox.jobs.open_jobs() == []
    assert signed_context.outbox.count_pending() == 0


def test_files_gone_are_said_the_rest_is_sent_and_the_job_can_be_dropped(
        qtbot, signed_context, service, tmp_path, monkeypatch):
    before = stored(service)
    pacs, expected = _unfinished_job(signed_context, tmp_path, [611, 612, 613], monkeypatch)
    shutil.rmtree(pacs / "EXPORTED613")  # the drive was unplugged, say
    window = MainWindow(signed_context, None)
    qtbot.addWidget(window)
    page = window.page("images")
    page.show_unfinished()
    qtbot.waitUntil(lambda: page.worker is None and page.form.progressPanel.state == "paused",
                    timeout=20_000)
    statuses = [page.status_items[key].text() for key in page.status_items]
    assert statuses == [f"Queued (0 of {SLICES} sent)"] * 3, "staged or never, one row each"
    seen: list[str] = []
    panel = page.form.progressPanel
    QTimer.singleShot(0, _answer("Drop the job", seen, also=lambda: panel.message))
    page.resume()
    qtbot.waitUntil(lambda: page.worker is None and len(seen) == 2, timeout=60_000)
    assert panel.state == "error"
    asked, shown = seen  # the question, and what the panel said while it was asked
    assert f"{SLICES} files of the job of " in shown and "can no longer be found" in shown
    for said in (asked, shown):
        assert str(pacs) not in said and "EXPORTED" not in said
    assert "Keep the job to finish it when the files are back, or drop it?" in asked
    qtbot.waitUntil(lambda: signed_context.outbox.jobs.open_jobs() == [], timeout=10_000)
    qtbot.waitUntil(lambda: panel.message.startswith("Dropped 1 job"), timeout=10_000)
    assert panel.state == "error" and str(pacs) not in panel.message
    assert signed_context.outbox.jobs.counts_by_state() == {"dropped": 1}
    sent = {u for u in stored(service) if u not in set(before)}
    assert len(sent) == 2 * SLICES and sent < expected
