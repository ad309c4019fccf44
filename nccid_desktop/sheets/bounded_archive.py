"""The zip inside an ``.xlsx`` workbook, opened so that no part can inflate beyond its cap.

Why a ``ZipFile`` subclass: openpyxl opens and reads the parts itself, in many places, so the
one place to check them all is the archive it reads from. Parts openpyxl reads whole (the
styles, the workbook, the text table of shared strings) get the smaller cap, the sheets it
streams row by row the larger one; every part also passes the :class:`~..bounded.XmlGuard`,
which bounds what the XML parser holds for one value or one row. A refusal is a
:class:`SheetError` naming the workbook (the file the user chose) and the part, raised
wherever openpyxl happens to be reading.
"""

from __future__ import annotations

import zipfile
from typing import IO, Any, Literal

from nccid_desktop.bounded import TooLarge, XmlGuard, open_member
from nccid_desktop.errors import SheetError
from nccid_desktop.limits import Limits

#: Longest value and most tags per row the XML guard lets through: Excel's own maxima
#: (32,767 characters a cell, 16,384 cells a row) with room to spare.
LONGEST_VALUE_BYTES = 4 * 1024 * 1024
MOST_TAGS_PER_ROW = 500_000


class BoundedArchive(zipfile.ZipFile):
    """A read-only workbook archive whose every part is checked and counted."""

    def __init__(self, file: Any, limits: Limits, label: str) -> None:
        super().__init__(file)
        self.limits, self.label = limits, label
        #: Parts streamed by openpyxl but kept whole in memory (the shared strings).
        self.held_whole: set[str] = set()

    def refused(self, refusal: TooLarge) -> SheetError:
        return SheetError(f"The workbook {self.label} was refused: {refusal.message}")

    def _open_bounded(self, name: str | zipfile.ZipInfo, whole: bool) -> IO[bytes]:
        info = name if isinstance(name, zipfile.ZipInfo) else self.getinfo(name)
        whole = whole or info.filename in self.held_whole
        ceiling, setting = ((self.limits.shared_strings_bytes, "max_shared_strings_size")
                            if whole else
                            (self.limits.workbook_part_bytes, "max_workbook_part_size"))
        subject = f"its part {info.filename}"
        guard = XmlGuard(LONGEST_VALUE_BYTES, MOST_TAGS_PER_ROW, self.refused(TooLarge(
            "oversized_value", f"{subject} holds a single value or row far larger than any "
            "spreadsheet program writes (the file is damaged, or made to exhaust memory).")))
        return open_member(self, info, ceiling, self.limits, subject=subject,
                           setting=setting, inspect=guard, refuse=self.refused)

    def open(self, name: str | zipfile.ZipInfo, mode: Literal["r", "w"] = "r",
             pwd: bytes | None = None,
             *, force_zip64: bool = False) -> IO[bytes]:
        if mode != "r" or pwd is not None:
            return super().open(name, mode, pwd, force_zip64=force_zip64)
        return self._open_bounded(name, whole=False)

    def read(self, name: str | zipfile.ZipInfo, pwd: bytes | None = None) -> bytes:
        if pwd is not None:
            return super().read(name, pwd)
        with self._open_bounded(name, whole=True) as stream:
            return stream.read()
