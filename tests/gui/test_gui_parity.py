"""What the command line could do and the app could not: save a scan report (the file
``nccid scan --format json`` prints, usable as ``--selection``), de-identify to a folder
without sending (``nccid deid``), and check numbers from a file (``nccid check --file``)."""

from __future__ import annotations

import json

import pydicom
import pytest

from nccid_desktop.demo_data import generate_demo_data
from nccid_desktop.gui.checker_page import CheckerPage
from nccid_desktop.gui.images_page import ImagesPage
from nccid_desktop.workflows.series_choice import read_selection, resolve
from tests.conftest import VALID_NHS_NUMBERS

DONE = ("success", "error", "cancelled")


@pytest.fixture
def scanned(qtbot, signed_context, tmp_path):
    demo = generate_demo_data(tmp_path / "samples")
    page = ImagesPage(signed_context)
    qtbot.addWidget(page)
    page.show()
    assert not page.form.saveReportButton.isEnabled()
    assert not page.form.deidFolderButton.isEnabled()
    page.scan([demo.images])
    qtbot.waitUntil(lambda: page.worker is None and page.selection is not None, timeout=60_000)
    return page, demo


def _wait(qtbot, page, timeout=60_000):
    qtbot.waitUntil(lambda: page.worker is None and page.form.progressPanel.state in DONE,
                    timeout=timeout)


def test_save_scan_report_writes_what_nccid_scan_prints_without_identifiers(
        qtbot, scanned, signed_context, tmp_path):
    page, demo = scanned
    assert page.form.saveReportButton.isEnabled()
    target = tmp_path / "out" / "scan report.json"
    target.parent.mkdir()
    page.save_report(target)
    qtbot.waitUntil(lambda: page.form.progressPanel.headline == "Scan report saved",
                    timeout=20_000)
    text = target.read_text(encoding="utf-8")
    report = json.loads(text)
    assert report["summary"]["series"] == page.scanned.result.series_count
    for patient in (*demo.positives, *demo.negatives, demo.unlinked):
        assert patient.hospital_number not in text and patient.nhs_number not in text
        assert all(part not in text for part in patient.name.split())
    choice = read_selection(target)  # usable as nccid upload images --selection
    included, excluded = resolve(choice, page.scanned.result, signed_context.keys)
    assert included == {d.series.series_uid for d in page.selection.included}
    assert len(included) + len(excluded) == page.scanned.result.series_count


def test_deidentify_to_a_folder_stages_copies_and_sends_nothing(qtbot, scanned, service,
                                                                tmp_path):
    page, _demo = scanned
    before = set(service.raw_files("images"))
    folder = tmp_path / "staging"
    page.deidentify_to_folder(folder)
    _wait(qtbot, page)
    panel = page.form.progressPanel
    assert panel.headline.startswith("De-identified"), panel.message
    staged = sorted(folder.glob("*.dcm"))
    assert staged and panel.message.startswith(f"{len(staged)} files de-identified")
    ds = pydicom.dcmread(staged[0])
    assert ds.PatientIdentityRemoved == "YES" and ds.PatientID.startswith("Covid")
    assert set(service.raw_files("images")) == before  # nothing was sent
    assert list(tmp_path.glob("nccid-deid-audit-*.json"))


def test_check_numbers_from_a_file(qtbot, signed_context, tmp_path):
    page = CheckerPage(signed_context)
    qtbot.addWidget(page)
    page.show()
    listing = tmp_path / "ward list.txt"
    listing.write_text("\n".join([VALID_NHS_NUMBERS[0], "", "1234567890",
                                  VALID_NHS_NUMBERS[1]]) + "\n", encoding="utf-8")
    page.check_file(listing)
    qtbot.waitUntil(lambda: page.form.progressPanel.headline == "Check finished",
                    timeout=20_000)
    assert page.form.results.rowCount() == 2
    assert "1 line not valid" in page.form.typedStatus.text()
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    page.check_file(empty)
    qtbot.waitUntil(lambda: page.form.progressPanel.state == "error", timeout=20_000)
    assert page.form.progressPanel.headline == "No valid numbers in the file"
