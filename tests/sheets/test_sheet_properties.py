"""Property-based: random workbooks, bytes and identifier strings never crash the validator.

The only acceptable outcomes are a report whose findings are well formed, or a SheetError
with a plain message. Any other exception would reach a nurse as "something went wrong".
"""

from __future__ import annotations

import re
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path

from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from nccid_desktop.errors import SheetError
from nccid_desktop.sheets.definitions import MAIN, STATUS
from nccid_desktop.sheets.findings import Severity
from nccid_desktop.sheets.validator import validate_workbook
from tests.sheets.builders import TODAY, build_workbook, main_row, plain_workbook, status_row

SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])
_CELL_REF = re.compile(r"^[A-Z]{1,3}[1-9]\d*$")

xml_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=24)
cell_values = st.one_of(
    st.none(), xml_text, st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(2100, 1, 1)),
    st.sampled_from(["01/03/2020", "31/02/2020", "03/25/2020", "0", "1", " 2 ", "A", "CA",
                     "9434765919", "943 476 5919", "RR00000001", "=1+1"]),
)
template_headers = st.sampled_from([MAIN, STATUS]).flatmap(
    lambda t: st.lists(st.sampled_from([c.header for c in t.columns] + ["Notes", None]),
                       min_size=0, max_size=len(t.columns) + 2)
    | st.just([c.header for c in t.columns]))


def check_well_formed(report) -> None:
    assert report.template in ("main", "status")
    assert report.rows >= 0 and report.error_count >= len(report.errors)
    for finding in report.findings:
        assert finding.code and finding.message.strip()
        assert finding.severity in (Severity.ERROR, Severity.WARNING)
        assert finding.row is None or finding.row >= 2
        assert finding.cell is None or _CELL_REF.match(finding.cell)
    assert report.ok == (report.error_count == 0)
    for row in report.valid_rows:
        assert all(isinstance(v, str) for v in row.values)


def _quiet(_: str) -> None:
    """Outside a hypothesis test there are no statistics to note."""


def run(path: Path, expected=None, note=_quiet):
    try:
        report = validate_workbook(path, expected, today=TODAY)
    except SheetError as error:
        assert str(error).strip() and error.exit_code == 2
        note("unreadable")
        return None
    check_well_formed(report)
    note(f"read as {report.template}, {'ok' if report.ok else 'with errors'}")
    return report


@SETTINGS
@given(headers=template_headers,
       rows=st.lists(st.lists(cell_values, max_size=64), max_size=6),
       expected=st.sampled_from([None, "main", "status"]))
def test_random_workbooks_never_crash(headers, rows, expected):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "random.xlsx"
        try:
            plain_workbook(path, [headers, *rows])
        except ValueError:  # openpyxl refuses some values (e.g. strings it reads as formulas)
            event("not writable")
            return
        run(path, expected, event)


@SETTINGS
@given(nhs=st.one_of(xml_text, st.integers(-(10**11), 10**11), st.floats(width=32,
                                                                          allow_nan=False)),
       hospital=st.one_of(xml_text, st.integers(-(10**11), 10**11)))
def test_random_identifier_strings_never_crash_or_leak(nhs, hospital):
    # openpyxl writes a string starting with "=" as a formula without a saved result, which
    # the validator rightly refuses as a whole (its own test covers that): not a row to check.
    assume(not any(isinstance(v, str) and v.startswith("=") for v in (nhs, hospital)))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ids.xlsx"
        build_workbook(STATUS, [status_row(1, **{"NHS/CHI Number": nhs,
                                                 "Hospital (Internal) Number": hospital})]
                       ).save(path)
        report = run(path, note=event)
        assert report is not None and report.rows == 1
        texts = " ".join(f.message for f in report.findings)
        for raw in (str(nhs), str(hospital)):
            if len(raw.strip()) >= 8 and sum(ch.isdigit() for ch in raw) >= 3:
                assert raw.strip() not in texts


@settings(max_examples=25, deadline=None)
@given(content=st.binary(max_size=2048))
def test_random_bytes_are_a_sheet_error(content):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bytes.xlsx"
        path.write_bytes(content)
        assert run(path, note=event) is None


_GOOD = None
_XML_BITS = st.text(st.sampled_from('<>/"=0123456789 .-abcfinrstv'), max_size=6).map(str.encode)


def _good_bytes() -> bytes:
    global _GOOD
    if _GOOD is None:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "good.xlsx"
            build_workbook(MAIN, [main_row(1), main_row(2)]).save(path)
            _GOOD = path.read_bytes()
    return _GOOD


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_damaged_workbooks_never_crash(data):
    content = bytearray(_good_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(content) - 1))
        content[position] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(len(content) // 2, len(content)))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "damaged.xlsx"
        path.write_bytes(bytes(content[:cut]))
        run(path, note=event)


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_damaged_sheet_xml_never_crashes(data):
    """Damage inside a well-formed zip: the XML parser and the cell reader see it."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "good.xlsx"
        source.write_bytes(_good_bytes())
        damaged = Path(folder) / "damaged.xlsx"
        with zipfile.ZipFile(source) as old, zipfile.ZipFile(damaged, "w") as new:
            for item in old.infolist():
                content = old.read(item.filename)
                if item.filename == "xl/worksheets/sheet1.xml":
                    xml = bytearray(content)
                    for _ in range(data.draw(st.integers(1, 4))):
                        start = data.draw(st.integers(0, len(xml) - 1))
                        end = data.draw(st.integers(start, min(len(xml), start + 12)))
                        xml[start:end] = data.draw(_XML_BITS)
                    content = bytes(xml)
                new.writestr(item.filename, content)
        run(damaged, note=event)


def test_known_values_survive_the_property_harness(tmp_path):
    """The harness itself must be able to fail: a clean sheet gives a clean report."""
    path = build_workbook(STATUS, [status_row(1)])
    path.save(tmp_path / "ok.xlsx")
    report = run(tmp_path / "ok.xlsx")
    assert report is not None and report.ok and len(report.valid_rows) == 1
    assert run(build_and_save_main(tmp_path)).template == "main"


def build_and_save_main(tmp_path: Path) -> Path:
    build_workbook(MAIN, [main_row(1)]).save(tmp_path / "main.xlsx")
    return tmp_path / "main.xlsx"
