"""After a restart, a resumed queue shows its series (pseudonym, study, series, n of m sent) and
they turn Sent as the real service answers, not only the bar."""

from __future__ import annotations

from nccid_desktop.gui.images_page import ImagesPage
from nccid_desktop.gui.images_tree import COLUMNS, STATUS_COLUMN
from nccid_desktop.pseudonym import pseudonym_from_linking_value, remap_uid
from nccid_desktop.tasks import CancelToken
from nccid_desktop.transport.outbox import Outbox
from nccid_desktop.transport.uploader import IMAGES_ONLY, Uploader
from nccid_desktop.workflows.resumed_queue import EARLIER_IMAGES, short_uid
from tests.transport.deidentified_series import (
    HOSPITAL_NUMBER,
    PATIENT_NAME,
    deidentify,
    stage,
    write_source_series,
)
from tests.transport.payloads import pseudonym_of, write_instance

IMAGES_COLUMN, MODALITY_COLUMN = COLUMNS.index("Images"), COLUMNS.index("Modality")


def _tree(page) -> list[tuple[str, str, str, str, str, str]]:
    """(patient, study, series, modality, images, status) per series row, as the user sees."""
    model = page.form.seriesTree.model()
    rows = []
    for p in range(model.rowCount()):
        patient = model.item(p, 0)
        for s in range(patient.rowCount()):
            study = patient.child(s, 0)
            for r in range(study.rowCount()):
                rows.append((patient.text(), study.text(), study.child(r, 0).text(),
                             study.child(r, MODALITY_COLUMN).text(),
                             study.child(r, IMAGES_COLUMN).text(),
                             study.child(r, STATUS_COLUMN).text()))
    return rows


def _earlier_run(context, service, tmp_path):
    """What a run that stopped mid-send leaves: 2 CT images acknowledged, 2 in flight, the
    other 3 images queued (a separate journal connection, closed as the app was)."""
    series = write_source_series(tmp_path, {"CT": 5, "CR": 2})
    outbox = Outbox(context.data_dir / "outbox")
    stage(outbox, deidentify(series, context.keys, tmp_path / "work"))
    pause = CancelToken()
    Uploader(context.require_client(), outbox, image_batch_count=2).run(
        kinds=IMAGES_ONLY, pause=pause, on_batch=lambda _answer: pause.cancel())
    assert outbox.next_batch("image", 2) is not None  # in flight when the app stopped
    assert outbox.count_pending("image") == 5
    outbox.close()
    return series


def test_a_resumed_queue_shows_its_series_and_they_turn_sent(qtbot, signed_context, service,
                                                             tmp_path):
    context = signed_context
    keys = context.keys
    ct, cr = _earlier_run(context, service, tmp_path)
    before = set(service.raw_files("images"))
    page = ImagesPage(context)
    qtbot.addWidget(page)
    page.show()
    page.show_unfinished()
    qtbot.waitUntil(lambda: page.worker is None and page.form.progressPanel.state == "paused",
                    timeout=20_000)
    pseudonym = pseudonym_from_linking_value(keys, "hospital", HOSPITAL_NUMBER)
    study = f"Study {short_uid(remap_uid(keys, ct.study_uid))}"
    ct_label = f"CT series {short_uid(remap_uid(keys, ct.series_uid))}"
    cr_label = f"CR series {short_uid(remap_uid(keys, cr.series_uid))}"
    assert _tree(page) == [
        (pseudonym, study, ct_label, "CT", "5", "Queued (2 of 5 sent)"),
        (pseudonym, study, cr_label, "CR", "2", "Queued (0 of 2 sent)")]
    assert page.form.progressPanel.message == (
        "5 images from an earlier run wait to be sent: press Resume to send them.")
    assert page.form.summary.text().startswith("2 series (5 images to send) left unfinished")
    shown = " ".join(" ".join(row) for row in _tree(page))
    assert HOSPITAL_NUMBER not in shown and "PEMBERTON" not in shown and ct.series_uid not in shown
    status = page.form.seriesTree.model().item(0, 0).child(0, 0).child(0, STATUS_COLUMN)
    assert not status.icon().isNull(), "a state is never shown by text alone"

    changes: dict[str, list[str]] = {ct_label: [], cr_label: []}

    def note(item) -> None:  # refers to no Qt object, so no cycle through a connection
        if item.column() == STATUS_COLUMN:
            changes[item.index().siblingAtColumn(0).data()].append(item.text())

    page.form.seriesTree.model().itemChanged.connect(note)
    page.form.progressPanel.form.retryButton.click()  # Resume
    qtbot.waitUntil(lambda: page.worker is None and page.form.progressPanel.state == "success",
                    timeout=60_000)
    assert page.form.progressPanel.message == "0 records and 5 images sent."
    assert [row[5] for row in _tree(page)] == ["Sent 5 of 5", "Sent 2 of 2"]
    assert changes[ct_label][0] == "Sending (2 of 5 sent)", changes
    assert changes[ct_label][-1] == "Sent 5 of 5" and changes[cr_label][-1] == "Sent 2 of 2"
    assert all(text.startswith(("Sending (", "Sent ")) for texts in changes.values()
               for text in texts), changes
    stored = set(service.raw_files("images")) - before
    assert len(stored) == 5 and context.outbox.count_pending() == 0


def test_images_queued_before_series_were_recorded_show_as_earlier_images(
        qtbot, signed_context, tmp_path):
    outbox = signed_context.outbox
    for n in range(3):
        uid, path = write_instance(tmp_path, pseudonym_of(signed_context.keys, 1), index=n)
        outbox.stage_image(uid, pseudonym_of(signed_context.keys, 1), path)
    page = ImagesPage(signed_context)
    qtbot.addWidget(page)
    page.show_unfinished()
    qtbot.waitUntil(lambda: page.worker is None, timeout=20_000)
    assert _tree(page) == [(pseudonym_of(signed_context.keys, 1), "Study (not recorded)",
                            EARLIER_IMAGES, "CT", "3", "Queued (0 of 3 sent)")]
    assert PATIENT_NAME not in " ".join(_tree(page)[0])


def test_declining_the_offer_lists_the_queue_and_sends_nothing(qtbot, signed_context, service,
                                                               tmp_path):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from nccid_desktop.gui.main_window import MainWindow

    _earlier_run(signed_context, service, tmp_path)
    before = set(service.raw_files("images"))
    window = MainWindow(signed_context, None)
    qtbot.addWidget(window)
    window.show()

    def decline() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, decline)
            return
        box.button(QMessageBox.StandardButton.No).click()

    QTimer.singleShot(0, decline)
    assert not window.offer_resume()
    page = window.page("images")
    qtbot.waitUntil(lambda: page.worker is None and page.form.progressPanel.state == "paused",
                    timeout=20_000)
    assert [row[5] for row in _tree(page)] == ["Queued (2 of 5 sent)", "Queued (0 of 2 sent)"]
    assert set(service.raw_files("images")) == before
    assert signed_context.outbox.count_pending("image") == 5
