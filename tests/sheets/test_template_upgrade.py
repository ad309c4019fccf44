"""Save as the current template: every value copied to its column, nothing fixed, nothing lost
silently."""

from __future__ import annotations

from datetime import datetime

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from nccid_desktop.errors import NccidError, SheetError
from nccid_desktop.sheets import versions
from nccid_desktop.sheets.definitions import MAIN
from nccid_desktop.sheets.reader import MARKER_SHEET
from nccid_desktop.sheets.upgrade import save_as_current
from nccid_desktop.sheets.validator import validate_workbook
from nccid_desktop.sheets.versions import TemplateVersion, column_id
from tests.sheets.builders import TODAY, main_row, plain_workbook, row_values

FIBRINOGEN = "Fibrinogen  if d-dimer not performed"


def _older() -> TemplateVersion:
    keep = [c for c in MAIN.columns if c.key != "Troponin T"]
    headers = tuple("Fibrinogen (g/L)" if c.key == FIBRINOGEN else c.header for c in keep)
    return TemplateVersion("main", "0.9", versions.DESKTOP, (*headers, "Ward"),
                           (*(column_id(c) for c in keep), ""), True, "made up for the test")


def test_a_portal_sheet_becomes_the_current_template_value_for_value(tmp_path):
    rows = [main_row(1), main_row(2, Age="sixty", **{"Final COVID Status": 0})]
    old = plain_workbook(tmp_path / "portal.xlsx",
                         [[c.header for c in MAIN.columns], *(row_values(MAIN, r) for r in rows)])
    result = save_as_current(old, tmp_path / "new.xlsx")
    assert (result.rows, result.left_behind) == (2, ())
    assert result.source == "the national NCCID portal's Main (PCR-positive) template (v1.5)"
    workbook = load_workbook(tmp_path / "new.xlsx")
    assert workbook[MARKER_SHEET]["B2"].value == MAIN.version
    sheet = workbook.worksheets[0]
    assert [c.value for c in sheet[3]][:5] == row_values(MAIN, rows[1])[:5]
    assert sheet["R2"].value == datetime(2020, 3, 2) and sheet["R2"].number_format == "DD/MM/YYYY"
    before = validate_workbook(old, today=TODAY)
    after = validate_workbook(tmp_path / "new.xlsx", today=TODAY)
    assert [(f.code, f.cell) for f in after.findings] == \
        [(f.code, f.cell) for f in before.findings] == [("not_a_number", "D3"),
                                                        ("positive_marked_negative", "Y3")]
    assert after.recognised_as == "the Main (PCR-positive) template v1.0" and after.notes == []


def test_an_older_version_is_moved_column_by_column(tmp_path, monkeypatch):
    older = _older()
    monkeypatch.setattr(versions, "KNOWN_VERSIONS", (*versions.KNOWN_VERSIONS, older))
    row = main_row(1, **{FIBRINOGEN: 3.5})
    old = plain_workbook(tmp_path / "older.xlsx", [
        list(older.headers), [*(row.get(key) for key in older.holds[:-1]), "Ward 7"]])
    result = save_as_current(old, tmp_path / "new.xlsx")
    assert result.left_behind == (get_column_letter(len(older.headers)),)
    assert result.describe() == (
        "Copied 1 patient row from the Main (PCR-positive) template v0.9 into a new Main "
        "(PCR-positive) template v1.0: new.xlsx. Values in column(s) "
        f"{result.left_behind[0]} were not copied: they are not part of the template.")
    report = validate_workbook(tmp_path / "new.xlsx", today=TODAY)
    assert report.findings == []
    record = dict(zip(MAIN.record_keys, report.valid_rows[0].values, strict=True))
    assert (record[FIBRINOGEN], record["Troponin T"]) == ("3.5", "")
    assert "Ward 7" not in str(load_workbook(tmp_path / "new.xlsx").worksheets[0].values)


def test_what_cannot_be_upgraded_is_refused_plainly(tmp_path):
    old = plain_workbook(tmp_path / "old.xlsx", [[c.header for c in MAIN.columns]])
    with pytest.raises(NccidError, match="must not replace the original"):
        save_as_current(old, old)
    with pytest.raises(NccidError, match=r"\.xlsx"):
        save_as_current(old, tmp_path / "new.csv")
    other = plain_workbook(tmp_path / "other.xlsx", [["Name", "Ward"], ["x", "y"]])
    with pytest.raises(SheetError, match="does not look like an NCCID template"):
        save_as_current(other, tmp_path / "new.xlsx")
    assert not (tmp_path / "new.xlsx").exists()
