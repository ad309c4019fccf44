"""Signed in, the sheet check compares the sheet with the records the service already holds
(the core rule, wired): a Covid Status row for a patient the service holds as positive is an
error naming the cell; a Main row for one it holds as negative is a warning saying how to
withdraw the old record; without the service, or when it cannot be asked, the check says so
and goes on. Against the real collection service."""

from __future__ import annotations

from datetime import datetime

from nccid_desktop.sheets.definitions import MAIN, STATUS
from nccid_desktop.transport.client import CollectorClient
from nccid_desktop.transport.http import HttpSettings
from nccid_desktop.transport.outbox import Outbox
from nccid_desktop.workflows.sheet_check import NOT_ASKED, check_sheet
from nccid_desktop.workflows.sheet_upload import upload_sheet
from tests.sheets.builders import main_row, save_workbook, status_row

TODAY_SWAB = datetime(2020, 11, 1)


def _upload(tmp_path, template, rows, keys, client, name):
    path = save_workbook(tmp_path / name, template, rows)
    checked = check_sheet(path, template.id, keys=keys)
    assert not checked.report.error_count, checked.report.errors
    upload_sheet(checked, keys, client, Outbox(tmp_path / f"outbox-{name}"))


def test_a_negative_row_for_a_patient_held_as_positive_is_an_error(tmp_path, collector, client,
                                                                   keys) -> None:
    _upload(tmp_path, MAIN, [main_row(401)], keys, client, "main.xlsx")
    status = save_workbook(tmp_path / "status.xlsx", STATUS,
                           [status_row(402, SwabDate=TODAY_SWAB),
                            status_row(401, SwabDate=TODAY_SWAB)])
    alone = check_sheet(status, "status", keys=keys)
    assert not [f for f in alone.report.findings if f.code == "positive_record_held"]
    checked = check_sheet(status, "status", keys=keys, client=client)
    [finding] = [f for f in checked.report.findings if f.code == "positive_record_held"]
    assert finding.row == 3 and finding.cell.startswith(("A3", "B3"))
    assert "already holds a Main (PCR-positive) record" in finding.message
    assert [e.pseudonym for e in checked.envelopes or ()] == [
        e.pseudonym for e in (alone.envelopes or ())][:1], "the row with the error is not sent"


def test_a_positive_row_for_a_patient_held_as_negative_is_a_warning(tmp_path, collector, client,
                                                                    keys) -> None:
    _upload(tmp_path, STATUS, [status_row(411, SwabDate=TODAY_SWAB)], keys, client, "s.xlsx")
    main = save_workbook(tmp_path / "main.xlsx", MAIN, [main_row(411)])
    checked = check_sheet(main, "main", keys=keys, client=client)
    [finding] = [f for f in checked.report.findings if f.code == "negative_record_held"]
    assert finding.severity.value == "warning" or str(finding.severity).endswith("WARNING")
    assert "withdraw the patient's Covid Status record" in finding.message


def test_a_service_that_cannot_be_asked_is_said_and_the_check_goes_on(tmp_path, keys) -> None:
    unreachable = CollectorClient("http://127.0.0.1:9", settings=HttpSettings(max_attempts=1))
    status = save_workbook(tmp_path / "status.xlsx", STATUS, [status_row(421,
                                                                          SwabDate=TODAY_SWAB)])
    checked = check_sheet(status, "status", keys=keys, client=unreachable)
    assert [n.message for n in checked.report.notes if n.code == "service_not_asked"] == [
        NOT_ASKED]
    assert len(checked.envelopes or ()) == 1
