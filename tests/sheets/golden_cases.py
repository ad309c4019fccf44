"""The golden set: realistic sheets, valid and invalid, built in code as sites fill them in.

Each case writes its workbook(s) into a folder and says how to check them; the test compares
everything the validator reports (findings, counts, notes, rows ready to upload) with the
answer file of the same name in ``tests/sheets/golden/``. The numbers are made up (NHS
numbers from the test range builder, hospital numbers ``RR`` + 8 digits).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from nccid_desktop.sheets.definitions import MAIN, STATUS
from nccid_desktop.sheets.reader import MARKER_SHEET
from tests.sheets.builders import (
    HOSPITAL,
    NHS,
    TODAY,
    main_row,
    nhs_number,
    plain_workbook,
    row_values,
    save_workbook,
    status_row,
)

MIDNIGHT = datetime.combine(TODAY, datetime.min.time())


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Path], list[Path]]  # the workbooks, in the order they are checked
    together: bool = False  # a Main and a Covid Status sheet checked as one upload


def _recent(seed: int, days_ago: int) -> dict[str, Any]:
    swab = MIDNIGHT - timedelta(days=days_ago)
    return main_row(seed, **{"Date of Positive Covid Swab": swab,
                             "Date of acquisition of 1st RT-PCR": swab,
                             "Date of result of 1st RT-PCR": swab + timedelta(days=1),
                             "Date of admission": swab, "Date of 1st CXR": swab,
                             "Date last known alive": None})


def main_clean(folder: Path) -> list[Path]:
    rows = [main_row(seed) for seed in (3, 17, 42, 58, 64, 71, 88, 95)]
    rows[2]["1st RT-PCR result"] = 0  # negative first, positive later: a warning only
    rows[2]["2nd RT-PCR result"] = 1
    rows[5]["Smoking status"] = "3"  # typed as text, as nurses do
    return [save_workbook(folder / "main-clean.xlsx", MAIN, rows)]


def main_meaning(folder: Path) -> list[Path]:
    rows = [
        main_row(1, **{"Final COVID Status": 0}),
        main_row(2, **{"1st RT-PCR result": 0, "Final COVID Status": None}),
        main_row(3, **{"1st RT-PCR result": 0, "Final COVID Status": 0}),
        _recent(4, 3),
        _recent(5, 14),
        main_row(6),
    ]
    return [save_workbook(folder / "main-meaning.xlsx", MAIN, rows)]


def main_typical_mistakes(folder: Path) -> list[Path]:
    rows = [main_row(seed) for seed in range(10, 18)]
    rows[0]["Age"] = "sixty"
    rows[1]["Sex"] = 2
    rows[2]["Date of admission"] = "03/25/2020"  # US order
    rows[3][NHS] = nhs_number(13)[:-1] + str((int(nhs_number(13)[-1]) + 1) % 10)
    rows[4][HOSPITAL] = "90817263"  # the hospital system's number, not the PACS one
    rows[5]["PMH CKD"] = 0  # with a CKD stage still filled in
    rows[6]["Death"] = 1  # no date of death
    rows[7]["Hospital"] = f"Royal Sussex {rows[7][HOSPITAL]}"  # an identifier in free text
    rows.append(main_row(10))  # the first patient again
    return [save_workbook(folder / "main-typical-mistakes.xlsx", MAIN, rows)]


def status_clean(folder: Path) -> list[Path]:
    rows = [status_row(seed) for seed in range(100, 112)]
    rows[4]["SwabDate"] = rows[4]["SwabDate"].strftime("%d/%m/%Y")  # typed as UK text
    return [save_workbook(folder / "status-clean.xlsx", STATUS, rows)]


def status_mixed(folder: Path) -> list[Path]:
    rows = [status_row(seed) for seed in range(200, 207)]
    rows[0]["SwabStatus"] = 1
    rows[1]["SwabDate"] = None
    rows[2]["SwabStatus"] = 3
    rows[3][HOSPITAL] = "rr 0000 0203"  # spaces and lower case: normalised, fine
    rows[4][HOSPITAL] = "K2045"
    rows.append(status_row(201))
    return [save_workbook(folder / "status-mixed.xlsx", STATUS, rows)]


def portal_main(folder: Path) -> list[Path]:
    headers = [c.header for c in MAIN.columns]
    rows = [row_values(MAIN, main_row(seed)) for seed in (5, 6)]
    rows.append(row_values(MAIN, main_row(7, **{"Final COVID Status": 0})))
    return [plain_workbook(folder / "COVID-19_NCCID_covid_positive_data_template_v1_5.xlsx",
                           [["NCCID clinical data upload"], [], headers, *rows], "Data")]


def portal_status_field_names(folder: Path) -> list[Path]:
    headers = ["NHS/CHI Number", "Hospital (Internal) Number", "SwabDate", "SwabStatus"]
    rows = [row_values(STATUS, status_row(seed)) for seed in (300, 301, 302)]
    return [plain_workbook(folder / "status-portal.xlsx", [headers, *rows], "Sheet1")]


def unknown_version(folder: Path) -> list[Path]:
    path = save_workbook(folder / "main-v0.xlsx", MAIN, [main_row(400), main_row(401)])
    workbook = load_workbook(path)
    for row in workbook[MARKER_SHEET].iter_rows():
        if row[0].value == "version":
            row[1].value = "0.7"
    workbook.save(path)
    return [path]


def hand_made_columns(folder: Path) -> list[Path]:
    headers = [c.header for c in STATUS.columns]
    headers[2], headers[3] = headers[3], headers[2]  # result before date
    headers.append("Ward")
    rows = []
    for seed in (500, 501):
        values = row_values(STATUS, status_row(seed))
        values[2], values[3] = values[3], values[2]
        rows.append([*values, "Ward 7"])
    return [plain_workbook(folder / "status-hand-made.xlsx", [headers, *rows])]


def both_sheets(folder: Path) -> list[Path]:
    main = save_workbook(folder / "both-main.xlsx", MAIN,
                         [main_row(600), main_row(601), main_row(602)])
    status = save_workbook(folder / "both-status.xlsx", STATUS,
                           [status_row(610), status_row(601), status_row(611)])
    return [main, status]


CASES: tuple[Case, ...] = (
    Case("main-clean", main_clean),
    Case("main-meaning", main_meaning),
    Case("main-typical-mistakes", main_typical_mistakes),
    Case("status-clean", status_clean),
    Case("status-mixed", status_mixed),
    Case("portal-main", portal_main),
    Case("portal-status-field-names", portal_status_field_names),
    Case("unknown-version", unknown_version),
    Case("hand-made-columns", hand_made_columns),
    Case("both-sheets", both_sheets, together=True),
)
