"""The collection service refuses the same errors of meaning as the desktop's validator, by the
same definitions and in the same words: a Main record whose Final COVID Status is negative,
a Covid Status record whose result is positive. Each record is a valid sheet row, pseudonymised
by the desktop, with the one value changed; it is checked by the validator as a sheet row and
sent to the real service over loopback HTTP."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from nccid_desktop.sheets.definitions import MAIN, STATUS
from nccid_desktop.sheets.payload import build_envelopes
from nccid_desktop.sheets.validator import validate_workbook
from tests.collector.client import signed_in
from tests.collector.payloads import batch
from tests.collector.service_setup import keys_of
from tests.sheets.builders import main_row, save_workbook, status_row

#: case -> (template, the row's change as typed in the sheet, record field, warehouse text,
#: the rule's code)
CASES = {
    "Main record marked negative": (MAIN, {"Final COVID Status": 0}, "Final COVID Status",
                                    "0", "positive_marked_negative"),
    "Covid Status record marked positive": (STATUS, {"SwabStatus": 1}, "SwabStatus", "1",
                                            "negative_marked_positive"),
}
TODAY = date(2026, 11, 25)


def _desktop_words(tmp_path: Path, template, change: dict) -> tuple[str, str]:
    """What the validator says of the changed cell: its code and message."""
    builder = main_row if template is MAIN else status_row
    path = save_workbook(tmp_path / f"{template.id}-wrong.xlsx", template, [builder(3, **change)])
    report = validate_workbook(path, today=TODAY)
    [finding] = [f for f in report.findings if f.code.endswith("_marked_negative")
                 or f.code.endswith("_marked_positive")]
    return finding.code, finding.message


@pytest.mark.parametrize("case", list(CASES))
def test_the_service_refuses_a_meaning_error_in_the_validators_words(
        case, tmp_path, live, service) -> None:
    template, change, field, text, code = CASES[case]
    desktop_code, desktop_message = _desktop_words(tmp_path, template, change)
    assert desktop_code == code

    keys = keys_of(service, "RSH")
    builder = main_row if template is MAIN else status_row
    good = save_workbook(tmp_path / f"{template.id}.xlsx", template, [builder(3)])
    [record] = build_envelopes(validate_workbook(good, today=TODAY), keys)
    record.record[field] = text
    response = signed_in(live.url, "nurse1").post("/api/v1/clinical/batches",
                                                  json=batch(record))
    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    assert (result["status"], result["code"], result["field"]) == ("rejected", code, field)
    assert desktop_message in result["message"], (desktop_message, result["message"])
