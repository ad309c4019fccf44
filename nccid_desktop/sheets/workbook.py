"""Opening a spreadsheet safely, and saying in plain words why one cannot be opened.

Why sniff before openpyxl: the files nurses pick are often not what their name says (an old
``.xls``, a CSV export, a password-protected workbook, a Word document renamed ``.xlsx``), and
openpyxl's own exceptions mean nothing to them. The first bytes tell these apart; anything that
still fails to load is "damaged". Messages never repeat the file's content or name.
"""

from __future__ import annotations

import logging
import re
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO
from xml.etree.ElementTree import ParseError

from openpyxl.reader.excel import SHARED_STRINGS, ExcelReader
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from nccid_desktop.errors import SheetError
from nccid_desktop.limits import DEFAULT_LIMITS, Limits, current_limits
from nccid_desktop.sheets.bounded_archive import BoundedArchive

log = logging.getLogger(__name__)

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
_ENCRYPTED_MARKER = "EncryptionInfo".encode("utf-16-le")
_OLE_SCAN_LIMIT = 64 * 1024 * 1024
SAVE_AS_XLSX = "Open it in Excel and use File > Save As > Excel Workbook (*.xlsx)."

#: What openpyxl and the zip/XML layers raise on a damaged file, while loading or streaming
#: (zipfile raises NotImplementedError for a packing method it does not know, RuntimeError
#: for an encrypted part: a flipped bit in a zip header is enough for either).
READ_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile, zlib.error, EOFError, OSError, ParseError, KeyError, ValueError,
    TypeError, AttributeError, IndexError, UnicodeError, NotImplementedError, RuntimeError,
)

DAMAGED = ("The file is damaged or is not an Excel workbook, so it cannot be read. "
           + SAVE_AS_XLSX)


def _sniff(path: Path) -> None:
    """Raise a specific SheetError for inputs that are clearly not an ``.xlsx`` workbook."""
    try:
        if path.is_dir():
            raise SheetError(f"{path} is a folder, not a spreadsheet: choose the .xlsx file.")
        with path.open("rb") as handle:
            head = handle.read(4096)
    except FileNotFoundError:
        raise SheetError(f"The spreadsheet file {path} was not found.") from None
    except PermissionError:
        raise SheetError("The spreadsheet cannot be opened: you do not have permission to "
                         "read it. If it is open in Excel, close it and try again.") from None
    except OSError:
        raise SheetError("The spreadsheet cannot be read from the disk.") from None
    if not head:
        raise SheetError("The file is empty. Choose the saved .xlsx workbook.")
    if head.startswith(OLE_MAGIC):
        with path.open("rb") as handle:
            content = handle.read(_OLE_SCAN_LIMIT)
        if _ENCRYPTED_MARKER in content:
            raise SheetError("The workbook is protected with a password, so it cannot be read. "
                             "Open it in Excel, remove the password (File > Info > Protect "
                             "Workbook), save it and try again.")
        raise SheetError("This is an old Excel 97-2003 file (.xls). " + SAVE_AS_XLSX)
    if head.startswith(ZIP_MAGIC):
        return
    if _looks_like_csv(head):
        raise SheetError("This is a CSV text file, not an Excel workbook. Use the NCCID "
                         "template, or open the CSV in Excel and save it as Excel Workbook "
                         "(*.xlsx).")
    raise SheetError("This file is not an Excel workbook (it may have been renamed to .xlsx). "
                     + SAVE_AS_XLSX)


def _looks_like_csv(head: bytes) -> bool:
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = head.decode("cp1252")
        except UnicodeDecodeError:
            return False
    if "\x00" in text:
        return False
    first_line = text.splitlines()[0] if text.splitlines() else ""
    return any(sep in first_line for sep in (",", ";", "\t"))


def _check_package(handle: BinaryIO) -> None:
    try:
        names = set(zipfile.ZipFile(handle).namelist())
    except READ_ERRORS:
        raise SheetError(DAMAGED) from None
    finally:
        handle.seek(0)
    if "xl/workbook.bin" in names:
        raise SheetError("This is an Excel binary workbook (.xlsb). " + SAVE_AS_XLSX)
    if "xl/workbook.xml" not in names:
        raise SheetError("This file is not an Excel workbook (it may be another kind of "
                         "document renamed to .xlsx). " + SAVE_AS_XLSX)


def load_bounded(handle: BinaryIO, path: Path, limits: Limits, *,
                 read_only: bool = True) -> Workbook:
    """openpyxl's ``load_workbook`` (cached values; read-only unless asked), reading from a
    :class:`BoundedArchive` so that no part inflates beyond its cap."""
    reader = ExcelReader(handle, read_only=read_only, data_only=read_only, keep_links=False)
    reader.archive.close()  # a ZipFile given an open file leaves the file open
    archive = BoundedArchive(handle, limits, str(path))
    reader.archive, reader.valid_files = archive, archive.namelist()
    reader.read_manifest()
    strings = reader.package.find(SHARED_STRINGS)
    if strings is not None:
        archive.held_whole.add(strings.PartName[1:])
    reader.read()
    return reader.wb


def read_limits(workbook: Workbook) -> tuple[Limits, str]:
    """The limits a workbook was opened with, and the file it came from (for messages)."""
    archive = getattr(workbook, "_archive", None)
    if isinstance(archive, BoundedArchive):
        return archive.limits, archive.label
    return DEFAULT_LIMITS, "file"


@contextmanager
def open_workbook(path: Path | str, limits: Limits | None = None) -> Iterator[Workbook]:
    """Open ``path`` for streaming (read-only, cached values); always closes it again.

    Every part is read within ``limits`` (default: the machine policy's); a part beyond
    them is refused with a :class:`SheetError` naming the file, whenever it is read.
    """
    path = Path(path)
    _sniff(path)
    limits = limits or current_limits()
    with path.open("rb") as handle:
        _check_package(handle)
        try:
            workbook = load_bounded(handle, path, limits)
        except READ_ERRORS as error:
            log.warning("Workbook could not be loaded (%s)", type(error).__name__)
            raise SheetError(DAMAGED) from None
        try:
            yield workbook
        finally:
            workbook.close()


_FORMULA_CELL = re.compile(
    rb"<(?:\w+:)?c\b([^>]*)>\s*<(?:\w+:)?f\b[^>]*?(?:/>|>[^<]*</(?:\w+:)?f>)\s*"
    rb"(<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>)?\s*</(?:\w+:)?c>"
)
_CELL_REF = re.compile(rb'\br="([A-Z]{1,3}\d+)"')
_STRING_RESULT = re.compile(rb'\bt="str"')
_CHUNK = 1 << 20
_OVERLAP = 1 << 14


def first_formula_without_value(workbook: Workbook, sheet: ReadOnlyWorksheet) -> str | None:
    """Cell reference of the first formula whose result was never saved, or None.

    With cached values only, such a cell reads as empty, which would silently drop data.
    Excel and LibreOffice always save results; files written by scripts often do not. A
    byte scan of the sheet's XML finds them at C speed, so large sheets stay fast.
    """
    archive = getattr(workbook, "_archive", None)
    member = getattr(sheet, "_worksheet_path", None)
    if archive is None or member is None:
        return None
    try:
        with archive.open(member) as stream:
            return _scan_for_uncached_formula(stream)
    except READ_ERRORS as error:
        log.warning("Sheet could not be scanned (%s)", type(error).__name__)
        raise SheetError(DAMAGED) from None


def _scan_for_uncached_formula(stream: BinaryIO) -> str | None:
    tail = b""
    while chunk := stream.read(_CHUNK):
        data = tail + chunk
        if b"<f" in data or b":f" in data:  # a plain byte search first: most sheets have none
            for match in _FORMULA_CELL.finditer(data):
                attributes, empty_value = match.group(1), match.group(2)
                if empty_value is not None and _STRING_RESULT.search(attributes):
                    continue
                ref = _CELL_REF.search(attributes)
                return ref.group(1).decode("ascii") if ref else "?"
        tail = data[-_OVERLAP:]
    return None
