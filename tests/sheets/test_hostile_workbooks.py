"""Workbooks made to exhaust memory are refused early, by name, with the reason: never inflated.

The issue's example: a 1.5 MB .xlsx whose one cell inflates to 1.5 GB took 52 s and 3.2 GB
of memory before saying "no patient rows". Each case here is refused in well under a second
of reading, in bounded memory, with a SheetError (exit code 2) naming the file.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest

from nccid_desktop.errors import SheetError
from nccid_desktop.limits import Limits
from nccid_desktop.sheets.definitions import STATUS
from nccid_desktop.sheets.validator import validate_workbook
from nccid_desktop.sheets.workbook import open_workbook
from tests.faults import bombs
from tests.faults.measure import run_nccid
from tests.sheets.builders import TODAY, save_workbook, status_row

GB = 10**9


@pytest.fixture
def good(tmp_path) -> Path:
    return save_workbook(tmp_path / "good.xlsx", STATUS, [status_row(i) for i in range(1, 4)])


def refused(path: Path, pattern: str, limits: Limits | None = None) -> str:
    with pytest.raises(SheetError, match=pattern) as caught:
        with open_workbook(path, limits) as workbook:
            _ = workbook  # opening is not enough: validate reads every part
        validate_workbook(path, today=TODAY)
    message = str(caught.value)
    assert str(path) in message and caught.value.exit_code == 2
    return message


def test_the_issues_cell_bomb_is_refused_fast_in_little_memory(good, tmp_path):
    """1.5 GB of text in one cell, packed into about 1.5 MB: refused unread, under 150 MB."""
    bomb = bombs.sheet_with_big_cell(good, tmp_path / "bomb.xlsx", int(1.5 * GB))
    assert bomb.stat().st_size < 2_000_000
    run = run_nccid("validate", bomb, "--format", "json")
    assert run.returncode == 2, run.stderr
    report = json.loads(run.stdout)
    message = report["errors"][0]["message"]
    assert "decompression bomb" in message and "xl/worksheets/sheet1.xml" in message
    assert str(bomb) in message
    assert "Traceback" not in run.stderr
    assert 0 < run.peak_mb < 150, run.peak_mb


def test_a_text_table_bomb_is_refused(good, tmp_path):
    bomb = bombs.shared_strings_bomb(good, tmp_path / "strings.xlsx", 400 * 10**6)
    message = refused(bomb, "decompression bomb")
    assert "xl/sharedStrings.xml" in message


def test_a_text_table_over_its_own_cap_is_refused_even_when_the_ratio_is_allowed(good,
                                                                                tmp_path):
    bomb = bombs.shared_strings_bomb(good, tmp_path / "strings.xlsx", 3 * 10**6)
    limits = Limits(shared_strings_bytes=2 * 10**6, compression_ratio=10**6)
    with (pytest.raises(SheetError, match=r"over the 2 MB limit \(max_shared_strings_size\)"),
          open_workbook(bomb, limits)):
        pass


def test_an_unpacked_giant_value_is_refused_by_the_xml_guard(good, tmp_path):
    """Stored, not deflated (ratio 1): only the guard on single values stops the parser
    from holding 30 MB of one cell's text, and it does so after about 4 MB."""
    xml = bombs.original(good, "xl/worksheets/sheet1.xml")
    head, _, tail = xml.partition(b"</sheetData>")
    cell = (b'<row r="99"><c r="B99" t="inlineStr"><is><t>' + b"C" * 30_000_000
            + b"</t></is></c></row></sheetData>" + tail)
    target = bombs.write_zip(tmp_path / "stored.xlsx", bombs.replaced(
        bombs.members_of(good), bombs.stored("xl/worksheets/sheet1.xml", head + cell)))
    refused(target, "far larger than any spreadsheet program writes")


def test_a_row_flooded_with_tags_is_refused(good, tmp_path):
    xml = bombs.original(good, "xl/worksheets/sheet1.xml")
    head, _, tail = xml.partition(b"</sheetData>")
    row = b'<row r="99"><c r="B99" t="inlineStr"><is><t>x</t>' + b"<r/>" * 800_000
    target = bombs.write_zip(tmp_path / "tags.xlsx", bombs.replaced(  # stored: ratio 1
        bombs.members_of(good), bombs.stored("xl/worksheets/sheet1.xml",
                                             head + row + b"</is></c></row></sheetData>" + tail)))
    refused(target, "far larger than any spreadsheet program writes")


def test_a_sheet_claiming_a_million_wide_rows_is_refused_by_its_cell_count(good, tmp_path):
    """One cell at XFD1048576: openpyxl pads every row to 16,384 columns and yields a
    million of them; the cell count stops it after about 1,200 rows."""
    xml = bombs.original(good, "xl/worksheets/sheet1.xml")
    head, _, tail = xml.partition(b"</sheetData>")
    far = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    xml = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', head) + far
    target = bombs.write_zip(tmp_path / "wide.xlsx", bombs.replaced(
        bombs.members_of(good), bombs.plain("xl/worksheets/sheet1.xml",
                                            xml + b"</sheetData>" + tail)))
    message = refused(target, r"more than 20,000,000 cells")
    assert "max_sheet_cells" in message


def test_the_cell_cap_follows_the_limits(good, tmp_path):
    big = save_workbook(tmp_path / "rows.xlsx", STATUS, [status_row(i) for i in range(1, 200)])
    with open_workbook(big, Limits(sheet_cells=100)) as workbook:
        from nccid_desktop.sheets.reader import choose_sheet, iter_data_rows

        choice = choose_sheet(workbook)
        assert choice is not None
        with pytest.raises(SheetError, match="more than 100 cells"):
            for _ in iter_data_rows(choice.sheet, choice.header_row + 1):
                pass


def test_the_machine_policy_caps_apply_without_being_passed(good, tmp_path, monkeypatch):
    policy = tmp_path / "policy.toml"
    policy.write_text('max_workbook_part_size = "1 KB"\n', encoding="utf-8")
    monkeypatch.setenv("NCCID_POLICY_FILE", str(policy))
    with pytest.raises(SheetError, match=r"over the 1 KB limit \(max_workbook_part_size\)"):
        validate_workbook(good, today=TODAY)
    monkeypatch.delenv("NCCID_POLICY_FILE")
    assert validate_workbook(good, today=TODAY).rows == 3


def test_a_member_that_lies_about_its_size_is_damaged_not_read_on(good, tmp_path):
    """Declared 1 KB, holding 5 MB: zipfile stops at the declared size and the CRC check
    fails, so nothing beyond the declaration is ever inflated."""
    member = bombs.sheet_with_big_cell(good, tmp_path / "lie.xlsx", 5_000_000)
    members = bombs.members_of(good)
    with zipfile.ZipFile(member) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
    lying = bombs.plain("xl/worksheets/sheet1.xml", sheet)
    target = bombs.write_zip(tmp_path / "liar.xlsx", bombs.replaced(members, lying),
                             declared_sizes={"xl/worksheets/sheet1.xml": 1000})
    with pytest.raises(SheetError, match="damaged"):
        validate_workbook(target, today=TODAY)


def test_ordinary_workbooks_still_read_with_tight_limits(good):
    limits = Limits(workbook_part_bytes=200_000, shared_strings_bytes=100_000,
                    compression_ratio=20, sheet_cells=10_000)
    with open_workbook(good, limits) as workbook:
        assert workbook.sheetnames
    assert validate_workbook(good, today=TODAY).rows == 3


def test_the_annotated_copy_reads_within_the_same_limits(good, tmp_path):
    """Checked, then swapped for a bomb before the copy is made: the copy refuses it too."""
    from nccid_desktop.sheets.annotate import annotate_copy

    report = validate_workbook(good, today=TODAY)
    bombs.sheet_with_big_cell(good, tmp_path / "bomb.xlsx", 500 * 10**6)
    (tmp_path / "bomb.xlsx").replace(good)
    with pytest.raises(SheetError, match="decompression bomb"):
        annotate_copy(good, report, tmp_path / "copy.xlsx")


@pytest.mark.parametrize("change", [{"method": 99}, {"needed_version": 84}])
def test_zip_headers_zipfile_cannot_handle_are_damage_not_a_crash(good, tmp_path, change):
    """Found by the fault campaign (cases 5635 and 9177): zipfile raises NotImplementedError
    for an unknown packing method or zip version, which escaped as "something unexpected"."""
    target = tmp_path / "odd.xlsx"
    target.write_bytes(bombs.patch_zip_headers(good.read_bytes(), **change))
    with pytest.raises(SheetError, match="damaged"):
        validate_workbook(target, today=TODAY)
