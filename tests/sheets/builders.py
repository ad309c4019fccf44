"""Workbooks built in code for the sheet tests and the benchmark.

Rows are built as ``{JSON key or identifier: value}`` so a test names what it changes; the
helpers place the values under the template's columns (or under any header row a test wants).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from nccid_desktop.identifiers import nhs_check_digit
from nccid_desktop.sheets.definitions import MAIN, Template
from nccid_desktop.sheets.writer import build_template

NHS = "NHS/CHI Number"
HOSPITAL = "Hospital (Internal) Number"


def nhs_number(seed: int) -> str:
    """A valid (modulus-11) NHS number derived from ``seed``."""
    base = seed * 7919 % 10**9
    while True:
        first_nine = f"{base:09d}"
        check = nhs_check_digit(first_nine)
        if check is not None and len(set(first_nine + str(check))) > 1:
            return first_nine + str(check)
        base = (base + 1) % 10**9


def hospital_number(seed: int) -> str:
    return f"RR{seed:08d}"


def main_row(seed: int = 1, **changes: Any) -> dict[str, Any]:
    """A valid Main row: Excel dates, numbers, a few values typed as text, as nurses do."""
    swab = datetime(2020, 3, 1) + timedelta(days=seed % 400)
    row: dict[str, Any] = {
        NHS: nhs_number(seed),
        HOSPITAL: hospital_number(seed),
        "Hospital": "Royal Sussex County Hospital",
        "Age": 20 + seed % 80,
        "Sex": seed % 2,
        "Smoking status": seed % 4,
        "Pack year history": seed % 30,
        "PMH hypertension": seed % 3,
        "PMH CVS disease": seed % 5,
        "PMH Lung disease": seed % 7,
        "PMH CKD": 1,
        "If CKD, stage": 2 + seed % 4,
        "PMH diabetes mellitus type II": 0,
        "Current ACEi use": "1",
        "Current Angiotension receptor blocker use": 0,
        "Current NSAID used": 2,
        "Ethnicity": "A",
        "Date of Positive Covid Swab": swab,
        "Date of acquisition of 1st RT-PCR": swab,
        "Date of result of 1st RT-PCR": (swab + timedelta(days=1)).strftime("%d/%m/%Y"),
        "1st RT-PCR result": 1,
        "Final COVID Status": 1,
        "Date of admission": swab,
        "Duration of symptoms": 1 + seed % 14,
        "Respiratory rate on admission": 18,
        "Heart rate on admission": 88,
        "FiO2": 21,
        "O2 saturation": 95,
        "PaO2": 10.5,
        "Systolic BP": 120,
        "Diastolic BP": 80,
        "Temperature on admission": 37.8,
        "NEWS2 score on arrival": 3,
        "WCC on admission": 7.2,
        "Lymphocyte count on admission": "1.1",
        "Platelet count on admission": 250,
        "CRP on admission": 45,
        "D-dimer on admission": 0.5,
        "Fibrinogen  if d-dimer not performed": None,
        "Ferritin": 300,
        "Urea on admission": 6.1,
        "Creatinine on admission": 80,
        "Troponin I": 5,
        "Troponin T": 14,
        "Date of 1st CXR": swab,
        "CXR severity": 2,
        "COVID CODE": 1,
        "ITU admission": 0,
        "Intubation": 0,
        "Death": 0,
        "Date last known alive": swab + timedelta(days=10),
    }
    row.update(changes)
    return row


def status_row(seed: int = 1, **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        NHS: nhs_number(seed),
        HOSPITAL: hospital_number(seed),
        "SwabDate": datetime(2020, 4, 1) + timedelta(days=seed % 300),
        "SwabStatus": 0,
    }
    row.update(changes)
    return row


def _field(column: Any) -> str:
    return column.key if column.key is not None else column.name


def row_values(template: Template, row: Mapping[str, Any]) -> list[Any]:
    return [row.get(_field(column)) for column in template.columns]


def build_workbook(template: Template, rows: Iterable[Mapping[str, Any]] = (), *,
                   headers: Sequence[Any] | None = None,
                   raw_rows: Iterable[Sequence[Any]] = ()) -> Workbook:
    """Our blank template (drop-downs, marker) with ``rows``; ``headers`` replaces row 1."""
    workbook = build_template(template)
    sheet = workbook.worksheets[0]
    if headers is not None:
        sheet.delete_rows(1)
        sheet.insert_rows(1)
        for index, header in enumerate(headers, start=1):
            sheet.cell(row=1, column=index, value=header)
    for row in rows:
        sheet.append(row_values(template, row))
    for raw in raw_rows:
        sheet.append(list(raw))
    return workbook


def save_workbook(path: Path, template: Template, rows: Iterable[Mapping[str, Any]] = (),
                  **kwargs: Any) -> Path:
    build_workbook(template, rows, **kwargs).save(path)
    return path


def plain_workbook(path: Path, sheet_rows: Sequence[Sequence[Any]], title: str = "Sheet1") -> Path:
    """A workbook with no marker and no formatting: what a hand-made sheet looks like."""
    workbook = Workbook()
    workbook.active.title = title
    for values in sheet_rows:
        workbook.active.append(list(values))
    workbook.save(path)
    return path


def large_main_sheet(path: Path, rows: int, seed: int = 7) -> Path:
    """A big Main sheet in our template, about 2% of rows with a mistyped age.

    Written in normal mode so the file has its dimension record, as Excel's files do
    (openpyxl scans a whole sheet that lacks one, which would distort the benchmark).
    """
    rng = random.Random(seed)

    def rows_with_mistakes() -> Iterable[dict[str, Any]]:
        for index in range(1, rows + 1):
            row = main_row(index)
            if rng.random() < 0.02:
                row["Age"] = "unknown"
            yield row

    return save_workbook(path, MAIN, rows_with_mistakes())


#: The day the tests treat as today, so "in the future" never depends on the clock.
TODAY = date(2026, 11, 25)
