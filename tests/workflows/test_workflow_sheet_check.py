"""The sheet check reads the workbook once and pseudonymises each row once per check and
upload; the grid's cells and the date windows come from that one pass."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from openpyxl import load_workbook

from nccid_desktop.errors import NccidError
from nccid_desktop.pseudonym import pseudonym_for
from nccid_desktop.sheets import payload, workbook
from nccid_desktop.sheets.definitions import STATUS
from nccid_desktop.sheets.grid_cells import display_text
from nccid_desktop.transport.outbox import Outbox
from nccid_desktop.workflows.sheet_check import check_sheet
from nccid_desktop.workflows.sheet_upload import upload_sheet
from tests.sheets.builders import hospital_number, nhs_number, save_workbook, status_row

ROWS = 7


@pytest.fixture
def counted(monkeypatch):
    """How often a workbook is loaded and a row pseudonymised."""
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
    return counts


def _sheet(tmp_path, seeds=range(301, 301 + ROWS), **changes):
    return save_workbook(tmp_path / "status.xlsx", STATUS,
                         [status_row(s, SwabDate=datetime(2020, 11, 1), **changes) for s in seeds])


def test_check_and_upload_read_once_and_pseudonymise_once(tmp_path, collector, client, keys,
                                                          counted) -> None:
    checked = check_sheet(_sheet(tmp_path), "status", keys=keys)
    assert counted == {"loads": 1, "pseudonyms": ROWS}
    assert checked.cells is not None and len(checked.windows) == ROWS
    before = set(collector.raw_files("data"))
    outcome = upload_sheet(checked, keys, client, Outbox(tmp_path / "outbox"))
    assert counted == {"loads": 1, "pseudonyms": ROWS}, "Upload sends what the check made"
    assert outcome.message == f"{ROWS} patients uploaded."
    new = set(collector.raw_files("data")) - before
    assert {json.loads(p.read_text())["Pseudonym"] for p in new} == {
        pseudonym_for(keys, hospital_number=hospital_number(s)) for s in range(301, 301 + ROWS)}


def test_the_grid_holds_the_cells_as_the_sheet_shows_them(tmp_path, counted) -> None:
    path = _sheet(tmp_path)
    checked = check_sheet(path, "status")
    assert counted == {"loads": 1, "pseudonyms": 0}
    book = load_workbook(path, read_only=True)
    sheet = book[checked.report.sheet]
    expected = [tuple(display_text(v) for v in row) for row in sheet.iter_rows(values_only=True)]
    book.close()
    while expected and not any(expected[-1]):
        expected.pop()
    cells = checked.cells
    assert cells is not None and cells.sheet_name == checked.report.sheet
    assert cells.rows == expected
    assert cells.width == max(len(r) for r in expected) and not cells.truncated
    assert "01/11/2020" in cells.rows[checked.report.header_row]


def test_upload_pseudonymises_again_only_when_the_linking_setting_changed(
        tmp_path, collector, client, keys, counted) -> None:
    checked = check_sheet(_sheet(tmp_path, range(321, 324)), keys=keys, linking="hospital")
    before = set(collector.raw_files("data"))
    upload_sheet(checked, keys, client, Outbox(tmp_path / "outbox"), "nhs")
    assert counted["pseudonyms"] == 6
    new = set(collector.raw_files("data")) - before
    assert {json.loads(p.read_text())["Pseudonym"] for p in new} == {
        pseudonym_for(keys, nhs_number=nhs_number(s), hospital_number=hospital_number(s),
                      linking="nhs") for s in range(321, 324)}


def test_a_sheet_with_problems_links_its_good_rows_but_is_never_uploaded(tmp_path, client,
                                                                         keys) -> None:
    rows = [status_row(s, SwabDate=datetime(2020, 11, 1)) for s in range(331, 334)]
    rows[1]["SwabStatus"] = "maybe"
    path = save_workbook(tmp_path / "bad.xlsx", STATUS, rows)
    checked = check_sheet(path, keys=keys)
    assert checked.report.error_count and len(checked.windows) == 2
    with pytest.raises(NccidError, match="must be fixed"):
        upload_sheet(checked, keys, client, Outbox(tmp_path / "outbox"))
