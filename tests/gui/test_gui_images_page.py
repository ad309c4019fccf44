"""The PACS flow against the real service: scan a folder, see every reason, send, green, and
the images land in the warehouse raw layout as de-identified Part-10 files."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from PySide6.QtCore import Qt, QTimer

from nccid_desktop.demo_data import generate_demo_data
from nccid_desktop.gui.images_page import ImagesPage
from nccid_desktop.gui.images_tree import DETAILS_ROLE, STATUS_COLUMN
from nccid_desktop.gui.sheet_page import SheetPage

DONE = ("success", "error", "cancelled", "paused")


@pytest.fixture
def demo(tmp_path):
    return generate_demo_data(tmp_path / "samples")


def _wait(qtbot, page, timeout=60_000):
    qtbot.waitUntil(lambda: page.worker is None and page.form.progressPanel.state in DONE,
                    timeout=timeout)


def _statuses(page) -> dict[str, str]:
    """Series description -> status text, read from the tree the user sees."""
    model = page.form.seriesTree.model()
    found = {}
    for p in range(model.rowCount()):
        patient = model.item(p, 0)
        for s in range(patient.rowCount()):
            study = patient.child(s, 0)
            for r in range(study.rowCount()):
                found[f"{model.item(p, 0).text().split()[0]} {study.child(r, 3).text()}"] = \
                    study.child(r, STATUS_COLUMN).text()
    return found


def _load_sheets(qtbot, context, demo):
    for template, path in (("main", demo.main_clean), ("status", demo.status)):
        sheet = SheetPage(context, template)
        qtbot.addWidget(sheet)
        sheet.load(path)
        qtbot.waitUntil(lambda s=sheet: s.worker is None and s.checked is not None, timeout=20_000)


def test_scan_shows_each_series_with_its_reason_then_sends_them(qtbot, signed_context, service,
                                                                demo):
    _load_sheets(qtbot, signed_context, demo)
    page = ImagesPage(signed_context)
    qtbot.addWidget(page)
    page.show()
    page.scan([demo.images])
    _wait(qtbot, page)
    assert page.form.progressPanel.state == "success"
    statuses = _statuses(page)
    first, second, third = (p.hospital_number for p in demo.positives[:3])
    negative, unlinked = demo.negatives[0].hospital_number, demo.unlinked.hospital_number
    assert statuses[f"{first} CT CHEST"].startswith("Will be sent")
    assert statuses[f"{first} MR HEAD"].startswith("Not a chest X-ray (CR/DX) or CT")
    assert statuses[f"{second} CXR PA"].startswith("Will be sent")
    assert statuses[f"{second} DOSE REPORT"].startswith("Quarantined")
    assert statuses[f"{third} CXR AP (old)"].startswith("Outside the date window")
    assert statuses[f"{negative} CXR PA"].startswith("Will be sent")
    assert statuses[f"{unlinked} CXR PA"].startswith("Not linked to a clinical record")

    second_cxr = next(d for d in page.selection.decisions
                      if d.patient.patient_id == second and d.series.modality == "CR")
    page.set_series_included(second_cxr.series.series_uid, False)
    assert _statuses(page)[f"{second} CXR PA"].startswith("Excluded by you")
    page.set_series_included(second_cxr.series.series_uid, True)
    assert _statuses(page)[f"{second} CXR PA"].startswith("Will be sent")

    before = set(service.raw_files("images"))
    page.send()
    _wait(qtbot, page)
    panel = page.form.progressPanel
    assert panel.state == "success", panel.message
    assert panel.message == "14 images de-identified and sent."  # 12 CT slices + 2 CXRs
    assert panel.form.bar.property("state") == "success"
    assert _statuses(page)[f"{first} CT CHEST"] == "Sent 12 of 12"
    stored = sorted(set(service.raw_files("images")) - before)
    assert len(stored) == 14
    for path in stored:
        assert path.parent.name == "images" and path.suffix == ".dcm"
        assert path.read_bytes()[128:132] == b"DICM"
        ds = pydicom.dcmread(path)
        assert ds.PatientID.startswith("Covid") and ds.PatientIdentityRemoved == "YES"
        assert ds.SOPInstanceUID == path.stem
        assert "PatientName" not in ds or str(ds.PatientName) not in {p.name for p in demo.positives}


def test_scanning_can_be_cancelled(qtbot, signed_context, tmp_path):
    from nccid_desktop.demo_data import demo_patient, write_images

    people = tuple(demo_patient(seed, __import__("datetime").date(2026, 11, 1))
                   for seed in range(1, 5))
    folder = write_images(tmp_path / "big", people[:3], people[3:], people[0], ct_slices=400)
    page = ImagesPage(signed_context)
    qtbot.addWidget(page)
    page.scan([folder])
    QTimer.singleShot(30, page.form.progressPanel.cancelRequested.emit)
    _wait(qtbot, page)
    assert page.form.progressPanel.state == "cancelled"
    assert page.form.progressPanel.message == "Scan cancelled."
    assert not page.form.sendButton.isEnabled()


def test_a_path_that_vanished_is_a_plain_error(qtbot, signed_context, tmp_path):
    page = ImagesPage(signed_context)
    qtbot.addWidget(page)
    page.scan([Path(tmp_path / "gone")])
    _wait(qtbot, page)
    assert page.form.progressPanel.state == "error"
    assert "does not exist" in page.form.progressPanel.message


def _export(tmp_path, ct_slices, first_seed=21):
    from datetime import date

    from nccid_desktop.demo_data import demo_patient, write_images

    a, b, c, d, e = (demo_patient(seed, date(2026, 11, 1))
                     for seed in range(first_seed, first_seed + 5))
    # The CT's patient sorts last, so the X-rays are sent (and turn Sent) before the CT.
    return write_images(tmp_path / "export", (e, a, b), (c,), d, ct_slices=ct_slices)


def _recording_proxy(service):
    """A pass-through loopback proxy that notes every request (to count what was sent)."""
    from tests.faults.proxy import Fault, FaultProxy

    heads = []
    host, port = service.url.removeprefix("http://").split(":")
    return FaultProxy((host, int(port)), lambda head: (heads.append(head), Fault.PASS)[1]), heads


def test_pause_stops_between_batches_and_resume_sends_only_the_rest(qtbot, context, service,
                                                                    tmp_path, monkeypatch):
    from nccid_desktop.workflows import send_job
    from tests.gui.conftest import sign_in

    monkeypatch.setattr(send_job, "SEND_BATCH_COUNT", 4)
    proxy, heads = _recording_proxy(service)
    with proxy:
        context.options.server_url = proxy.url
        sign_in(context, service)
        page = ImagesPage(context)
        qtbot.addWidget(page)
        page.show()
        page.scan([_export(tmp_path, ct_slices=60)])
        _wait(qtbot, page)
        files = sum(d.images_to_send for d in page.selection.included)
        assert files == 64  # 60 CT slices and 4 chest X-rays
        before = set(service.raw_files("images"))
        bars: list[tuple[int, int]] = []
        states: list[dict[str, str]] = []

        def watch(progress):
            bars.append((progress.done, progress.total))
            states.append(_statuses(page))
            if page.job is not None and page.job.images_sent >= 8:
                page.form.progressPanel.pauseRequested.emit()  # the user presses Pause

        page.send()
        page.worker.signals.progress.connect(watch)
        _wait(qtbot, page)
        panel = page.form.progressPanel
        assert panel.state == "paused", panel.message
        assert panel.form.bar.format().startswith("Paused")
        assert panel.form.retryButton.isVisible() and panel.form.retryButton.text() == "&Resume"
        sent_before_resume = page.job.images_sent
        assert 8 <= sent_before_resume < files
        stored = set(service.raw_files("images")) - before
        assert len(stored) == sent_before_resume, "what was acknowledged is what is stored"
        assert context.outbox.count_pending("image") == files - sent_before_resume
        assert {i.state for i in context.outbox.items("image")} <= {"acknowledged", "staged"}
        assert any(text.startswith("Paused (") for text in _statuses(page).values())
        assert all(done <= total for done, total in bars)
        assert bars[-1][0] < bars[-1][1], "a paused bar is not full"

        posted_before = sum(h.path.startswith("/dicom-web/studies") for h in heads)
        qtbot.mouseClick(panel.form.retryButton, Qt.MouseButton.LeftButton)
        page.worker.signals.progress.connect(
            lambda p: (bars.append((p.done, p.total)), states.append(_statuses(page))))
        _wait(qtbot, page)
        assert panel.state == "success", panel.message
        assert page.job.images_sent == files
        posted = sum(h.path.startswith("/dicom-web/studies") for h in heads)
    assert posted == -(-files // 4), "each batch was posted once: nothing acknowledged was re-sent"
    assert posted - posted_before == -(-(files - sent_before_resume) // 4)
    stored = set(service.raw_files("images")) - before
    assert len(stored) == files == len({p.name for p in stored})
    assert context.outbox.count_pending() == 0
    done = [d for d, _ in bars]
    assert done == sorted(done), "one bar that only moves forward, across pause and resume"
    assert bars[-1][0] == bars[-1][1] and all(d < t for d, t in bars[:-1]), \
        "the bar is full only when the service has answered the last batch"
    seen = [text for snapshot in states for text in snapshot.values()]
    assert any(t.startswith("De-identifying") for t in seen)
    assert any(t.startswith("Sending (") for t in seen)
    assert any(any(v.startswith("Sent ") for v in s.values())
               and any(v.startswith("Sending (") for v in s.values()) for s in states), \
        "series turn to Sent one by one as their batches are acknowledged"


def test_cancel_during_a_send_stops_it_and_keeps_what_was_stored(qtbot, signed_context, service,
                                                                 tmp_path, monkeypatch):
    from nccid_desktop.workflows import send_job

    monkeypatch.setattr(send_job, "SEND_BATCH_COUNT", 2)
    page = ImagesPage(signed_context)
    qtbot.addWidget(page)
    page.show()
    page.scan([_export(tmp_path, ct_slices=40, first_seed=41)])
    _wait(qtbot, page)
    before = set(service.raw_files("images"))

    def cancel_once_sending(_progress):
        if page.job is not None and page.job.images_sent:
            page.form.progressPanel.cancelRequested.emit()

    page.send()
    page.worker.signals.progress.connect(cancel_once_sending)
    _wait(qtbot, page)
    panel = page.form.progressPanel
    assert panel.state == "cancelled", panel.message
    assert panel.message.startswith("Cancelled. Images already sent stay sent")
    assert page.job is None and page.form.sendButton.isEnabled()
    stored = set(service.raw_files("images")) - before
    assert 2 <= len(stored) < 44
    assert any(text.startswith("Stopped (") for text in _statuses(page).values())


def test_the_tree_shows_images_held_back_in_a_series_that_is_sent(qtbot, signed_context,
                                                                 service, demo):
    """Two different CT slices sharing one identifier: the series is still sent, and its
    status says how many images are held back and why (never only in a log)."""
    _load_sheets(qtbot, signed_context, demo)
    first = demo.positives[0].hospital_number
    slices = sorted(p for p in demo.images.rglob("*") if p.is_file()
                    and pydicom.dcmread(p, stop_before_pixels=True).get("PatientID") == first
                    and pydicom.dcmread(p, stop_before_pixels=True).Modality == "CT")
    changed = pydicom.dcmread(slices[0])
    changed.PixelData = bytes(b ^ 0xFF for b in changed.PixelData)
    changed.save_as(slices[0].with_name("RE-EXPORTED.dcm"))
    page = ImagesPage(signed_context)
    qtbot.addWidget(page)
    page.scan([demo.images])
    _wait(qtbot, page)
    status = _statuses(page)[f"{first} CT CHEST"]
    assert status.startswith("Will be sent"), status
    assert ("2 of 13 images are held back and will not be sent: Two different images share one "
            "identifier") in status


def test_a_series_left_out_by_the_rules_can_be_ticked_in_but_never_a_quarantined_one(
        qtbot, signed_context, service, demo):
    _load_sheets(qtbot, signed_context, demo)
    page = ImagesPage(signed_context)
    qtbot.addWidget(page)
    page.scan([demo.images])
    _wait(qtbot, page)
    unlinked, second = demo.unlinked.hospital_number, demo.positives[1].hospital_number
    model = page.form.seriesTree.model()

    def row_of(patient_id, description):
        for p in range(model.rowCount()):
            if model.item(p, 0).text().split()[0] != patient_id:
                continue
            patient = model.item(p, 0)
            for s in range(patient.rowCount()):
                study = patient.child(s, 0)
                for r in range(study.rowCount()):
                    if study.child(r, 3).text() == description:
                        return study.child(r, 0)
        raise AssertionError(description)

    assert not row_of(second, "DOSE REPORT").isCheckable(), "quarantined: never ticked in"
    item = row_of(unlinked, "CXR PA")
    assert item.isCheckable() and item.checkState() == Qt.CheckState.Unchecked
    item.setCheckState(Qt.CheckState.Checked)  # what the user's click does
    assert _statuses(page)[f"{unlinked} CXR PA"].startswith("Included by you")
    model = page.form.seriesTree.model()  # the tree is rebuilt with the new choice
    details = row_of(unlinked, "CXR PA").data(DETAILS_ROLE)
    assert "left out as: Not linked to a clinical record" in details
    page.send()
    _wait(qtbot, page)
    assert page.form.progressPanel.state == "success", page.form.progressPanel.message
    series = signed_context.outbox.jobs.series(page.job.job_id)
    assert [s.included_by_user for s in series if s.included_by_user] == [("not_linked",)]


def test_after_a_scan_the_link_with_the_checked_sheets_is_shown(qtbot, signed_context, service,
                                                                demo):
    page = ImagesPage(signed_context)
    qtbot.addWidget(page)
    page.show()
    page.scan([demo.images])
    _wait(qtbot, page)
    assert not page.link_view.isVisible(), "no sheet checked yet: no link to show"
    _load_sheets(qtbot, signed_context, demo)
    page.reselect()
    view = page.link_view
    assert view.isVisible()
    text = view.text()
    assert "on the sheet have no images in this export" in text or \
        "on the sheet has no images in this export" in text
    assert "to no patient on the sheet" in text
    assert demo.unlinked.hospital_number in text, "the study of no patient, on the user's screen"
    assert len(view.report.without_patient) >= 1
