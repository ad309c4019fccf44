"""The golden set: every finding of realistic sheets compared in full with its answer file.

To write the answer files again after a deliberate change, run with
``NCCID_WRITE_GOLDEN=1`` and review the difference like any other change.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from nccid_desktop.sheets.cross_check import check_together
from nccid_desktop.sheets.validator import validate_workbook
from tests.sheets.builders import TODAY
from tests.sheets.golden_cases import CASES, Case

ANSWERS = Path(__file__).parent / "golden"


def _result(report: Any) -> dict[str, Any]:
    data = report.to_json()
    data.pop("file")
    data["header_row"] = report.header_row
    data["rows_ready"] = [row.row for row in report.valid_rows]
    return data


def _check(case: Case, folder: Path) -> list[dict[str, Any]]:
    reports = [validate_workbook(path, today=TODAY) for path in case.build(folder)]
    if case.together:
        main, status = reports
        check_together(main, status, None)
    return [_result(report) for report in reports]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_golden_sheet(case: Case, tmp_path: Path) -> None:
    found = _check(case, tmp_path)
    answer = ANSWERS / f"{case.name}.json"
    if os.environ.get("NCCID_WRITE_GOLDEN"):
        answer.write_text(json.dumps(found, indent=2, ensure_ascii=False) + "\n",
                          encoding="utf-8")
    assert found == json.loads(answer.read_text(encoding="utf-8"))


def test_every_answer_file_has_its_case() -> None:
    assert sorted(p.stem for p in ANSWERS.glob("*.json")) == sorted(c.name for c in CASES)
