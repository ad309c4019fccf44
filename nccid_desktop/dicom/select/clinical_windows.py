"""Clinical date windows: which image dates NCCID wants for a patient's COVID-19 test.

Why apart from the selection rules: the windows come from clinical records (a validated sheet
or what the collection service holds), whose date formats are the warehouse's (``MM/DD/YYYY``
in Main records, ``DD/MM/YYYY`` in Covid Status records), while the rules only compare dates.
Which record field holds the test date is template data (``Template.test_date_keys``), so the
sheet checks and the windows read the same field.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

from nccid_desktop.records import ClinicalEnvelope
from nccid_desktop.sheets.definitions import MAIN, STATUS
from nccid_desktop.uk_dates import uk_prose

WindowKind = Literal["positive", "negative"]
POSITIVE_LOOKBACK_YEARS = 3
#: The guidance asks for a negative patient's chest imaging of "the previous 4 weeks".
NEGATIVE_DAYS_BEFORE = 28


@dataclass(frozen=True)
class WindowPolicy:
    """How far around a test images are wanted.

    Positives: from ``positive_lookback_years`` before the swab onwards. Negatives: the
    ``negative_days_before`` days before the test, up to the test day; ``negative_days_after``
    (a machine policy or user setting, 0 unless set) widens that past the test.
    """

    positive_lookback_years: int = POSITIVE_LOOKBACK_YEARS
    negative_days_before: int = NEGATIVE_DAYS_BEFORE
    negative_days_after: int = 0


DEFAULT_WINDOW_POLICY = WindowPolicy()


@dataclass(frozen=True)
class ClinicalWindow:
    """The dates whose images NCCID wants for one test (see :class:`WindowPolicy`)."""

    kind: WindowKind
    test_date: date
    policy: WindowPolicy = field(default=DEFAULT_WINDOW_POLICY, repr=False)

    @property
    def start(self) -> date:
        if self.kind == "negative":
            return self.test_date - timedelta(days=self.policy.negative_days_before)
        year = self.test_date.year - self.policy.positive_lookback_years
        day = min(self.test_date.day, 28) if self.test_date.month == 2 else self.test_date.day
        return self.test_date.replace(year=year, day=day)

    @property
    def end(self) -> date | None:
        if self.kind == "negative":
            return self.test_date + timedelta(days=self.policy.negative_days_after)
        return None

    def contains(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)

    def describe(self) -> str:
        end = f"to {uk_prose(self.end)}" if self.end else "onwards"
        return f"{uk_prose(self.start)} {end}"

    def under(self, policy: WindowPolicy) -> ClinicalWindow:
        """The same test's window under another policy (e.g. a site's wider negative window)."""
        return self if policy == self.policy else ClinicalWindow(self.kind, self.test_date, policy)


def _parse(text: str, pattern: str) -> date | None:
    try:
        return datetime.strptime(text.strip(), pattern).date()
    except ValueError:
        return None


def window_from_record(envelope: ClinicalEnvelope) -> ClinicalWindow | None:
    """The window of one clinical record: Main (positive) records use the positive swab date
    (``MM/DD/YYYY``), Covid Status records their ``SwabDate`` (``DD/MM/YYYY``) and result."""
    record = envelope.record
    template = MAIN if envelope.kind == "data" else STATUS
    day = None
    for key in template.test_date_keys:
        day = _parse(record.get(key, ""), template.record_date_format)
        if day is not None:
            break
    if day is None:
        return None
    if envelope.kind == "data":
        return ClinicalWindow("positive", day)
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
