"""Clinical date windows: which image dates NCCID wants for a patient's COVID-19 test.

Why apart from the selection rules: the windows come from clinical records (a validated sheet
or what the collection service holds), whose date formats are the warehouse's (``MM/DD/YYYY``
in Main records, ``DD/MM/YYYY`` in Covid Status records), while the rules only compare dates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from nccid_desktop.records import ClinicalEnvelope

WindowKind = Literal["positive", "negative"]
POSITIVE_LOOKBACK_YEARS = 3
NEGATIVE_MARGIN = timedelta(weeks=4)


@dataclass(frozen=True)
class ClinicalWindow:
    """The dates whose images NCCID wants for one test: positive from three years before the
    swab onwards, negative within four weeks either side of the test."""

    kind: WindowKind
    test_date: date

    @property
    def start(self) -> date:
        if self.kind == "negative":
            return self.test_date - NEGATIVE_MARGIN
        year = self.test_date.year - POSITIVE_LOOKBACK_YEARS
        day = min(self.test_date.day, 28) if self.test_date.month == 2 else self.test_date.day
        return self.test_date.replace(year=year, day=day)

    @property
    def end(self) -> date | None:
        return self.test_date + NEGATIVE_MARGIN if self.kind == "negative" else None

    def contains(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)

    def describe(self) -> str:
        end = f"to {self.end.isoformat()}" if self.end else "onwards"
        return f"{self.start.isoformat()} {end}"


def _parse(text: str, pattern: str) -> date | None:
    try:
        return datetime.strptime(text.strip(), pattern).date()
    except ValueError:
        return None


def window_from_record(envelope: ClinicalEnvelope) -> ClinicalWindow | None:
    """The window of one clinical record: Main (positive) records use the positive swab date
    (``MM/DD/YYYY``), Covid Status records their ``SwabDate`` (``DD/MM/YYYY``) and result."""
    record = envelope.record
    if envelope.kind == "data":
        for key in ("Date of Positive Covid Swab", "Date of acquisition of 1st RT-PCR"):
            day = _parse(record.get(key, ""), "%m/%d/%Y")
            if day is not None:
                return ClinicalWindow("positive", day)
        return None
    day = _parse(record.get("SwabDate", ""), "%d/%m/%Y")
    if day is None:
        return None
    return ClinicalWindow("positive" if record.get("SwabStatus", "").strip() == "1"
                          else "negative", day)


def windows_from_records(envelopes: Iterable[ClinicalEnvelope]
                         ) -> dict[str, tuple[ClinicalWindow, ...]]:
    """Per pseudonym, the windows of all its records (a record without a date adds none)."""
    windows: dict[str, tuple[ClinicalWindow, ...]] = {}
    for envelope in envelopes:
        window = window_from_record(envelope)
        known = windows.get(envelope.pseudonym, ())
        windows[envelope.pseudonym] = known + ((window,) if window else ())
    return windows
