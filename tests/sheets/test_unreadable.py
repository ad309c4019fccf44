"""Files that are not (readable) workbooks get a plain SheetError, never a traceback."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import msoffcrypto.format.ooxml
import pytest
import xlwt

from nccid_desktop.errors import SheetError
from nccid_desktop.sheets.definitions import MAIN, STATUS
from nccid_desktop.sheets.validator import validate_workbook
from tests.sheets.builders import TODAY, build_workbook, main_row, save_workbook, status_row


def _rezip(source: Path, target: Path, change) -> Path:
    """Copy an .xlsx, passing each member's bytes through ``change(name, data)``."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            data = change(item.filename, old.read(item.filename))
            if data is not None:
                new.writestr(item.filename, data)
    return target


@pytest.fixture
def good(tmp_path) -> Path:
    return save_workbook(tmp_path / "good.xlsx", STATUS, [status_row(i) for i in range(1, 4)])


def expect_sheet_error(path, pattern):
    with pytest.raises(SheetError, match=pattern) as caught:
        validate_workbook(path, today=TODAY)
    assert caught.value.exit_code == 2
    return caught.value


def test_old_xls_file(tmp_path):
    workbook = xlwt.Workbook()
    workbook.add_sheet("Covid Status").write(0, 0, "NHS/CHI Number")
    workbook.save(str(tmp_path / "old.xls"))
    (tmp_path / "old.xls").rename(tmp_path / "old.xlsx")  # the name does not fool it either
    expect_sheet_error(tmp_path / "old.xlsx", r"old Excel 97-2003 file \(\.xls\).*Save As")


def test_password_protected_workbook(tmp_path, good):
    encrypted = tmp_path / "locked.xlsx"
    with good.open("rb") as plain, encrypted.open("wb") as out:
        msoffcrypto.format.ooxml.OOXMLFile(plain).encrypt("Summer2020", out)
    expect_sheet_error(encrypted, "protected with a password")


def test_csv_file(tmp_path):
    path = tmp_path / "status.csv"
    path.write_text("NHS/CHI Number,Hospital (Internal) Number\n9434765919,RR1\n")
    error = expect_sheet_error(path, "CSV text file")
    assert "9434765919" not in str(error)


@pytest.mark.parametrize("content, pattern", [
    (b"", "The file is empty"),
    (b"%PDF-1.4 not a spreadsheet \x00\x01\x02", "not an Excel workbook"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "not an Excel workbook"),
])
def test_empty_and_non_excel_files_renamed_xlsx(tmp_path, content, pattern):
    path = tmp_path / "renamed.xlsx"
    path.write_bytes(content)
    expect_sheet_error(path, pattern)


def test_other_zip_documents_renamed_xlsx(tmp_path):
    document = tmp_path / "letter.xlsx"
    with zipfile.ZipFile(document, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    expect_sheet_error(document, "another kind of document")
    binary = tmp_path / "binary.xlsx"
    with zipfile.ZipFile(binary, "w") as archive:
        archive.writestr("xl/workbook.bin", b"\x00")
    expect_sheet_error(binary, r"binary workbook \(\.xlsb\)")


def test_truncated_and_corrupt_workbooks(tmp_path, good):
    truncated = tmp_path / "truncated.xlsx"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    expect_sheet_error(truncated, "damaged")
    broken_xml = _rezip(good, tmp_path / "broken.xlsx", lambda name, data: (
        data[: len(data) - 40] if name == "xl/worksheets/sheet1.xml" else data))
    expect_sheet_error(broken_xml, "damaged")
    no_styles = _rezip(good, tmp_path / "nostyles.xlsx", lambda name, data: (
        b"<not-xml" if name == "xl/workbook.xml" else data))
    expect_sheet_error(no_styles, "damaged")


def test_formulas_without_saved_results(tmp_path):
    workbook = build_workbook(MAIN, [main_row(1)])
    workbook.worksheets[0]["D2"] = "=20+25"  # openpyxl saves no result, Excel would
    workbook.save(tmp_path / "formula.xlsx")
    error = expect_sheet_error(tmp_path / "formula.xlsx", "formulas whose results were never")
    assert "cell D2" in str(error)


def test_formulas_with_saved_results_are_read(tmp_path):
    workbook = build_workbook(MAIN, [main_row(1)])
    workbook.worksheets[0]["D2"] = "=20+25"
    workbook.worksheets[0]["C2"] = '=""'
    workbook.save(tmp_path / "formula.xlsx")

    def save_results_as_excel_does(name, data):
        if name != "xl/worksheets/sheet1.xml":
            return data
        data = data.replace(b"<f>20+25</f><v></v>", b"<f>20+25</f><v>45</v>")
        data = data.replace(b"<f>20+25</f><v />", b"<f>20+25</f><v>45</v>")
        return data.replace(b'<c r="C2"><f>""</f><v /></c>',
                            b'<c r="C2" t="str"><f>""</f><v></v></c>')

    path = _rezip(tmp_path / "formula.xlsx", tmp_path / "saved.xlsx", save_results_as_excel_does)
    report = validate_workbook(path, today=TODAY)
    assert report.ok, report.findings
    assert report.valid_rows[0].values[MAIN.record_keys.index("Age")] == "45"


def test_folders_and_missing_files(tmp_path):
    expect_sheet_error(tmp_path, "folder")
    expect_sheet_error(tmp_path / "nowhere.xlsx", "not found")


def test_unreadable_file_messages_never_echo_content(tmp_path):
    path = tmp_path / "notes.xlsx"
    path.write_bytes(io.BytesIO(b"Patient John Smith 943 476 5919\n").getvalue())
    error = expect_sheet_error(path, "not an Excel workbook")
    assert "Smith" not in str(error) and "5919" not in str(error)
