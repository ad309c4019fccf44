"""The two NCCID site templates, as data.

Why data: the writer, the reader, the validator, the annotated copy and the warehouse records
are all driven by these definitions, so a new column, code or rule is a change here and nowhere
else. Column order and JSON keys follow ``nccid-formats.md`` §1, quirks included (``CXR
severity 3`` for the 2nd CXR, two spaces in ``Fibrinogen  if d-dimer not performed``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from nccid_desktop.records import RecordKind

TemplateId = Literal["main", "status"]
Kind = Literal["nhs", "hospital", "text", "integer", "number", "code", "ethnicity", "date"]


class Requirement(Enum):
    OPTIONAL = "optional"
    RECOMMENDED = "recommended"  # blank gives a warning
    REQUIRED = "required"  # blank gives an error


@dataclass(frozen=True)
class Column:
    """One template column: what the nurse sees, what the warehouse gets, what is allowed."""

    name: str
    key: str | None  # warehouse JSON key; None for identifiers, which are never uploaded
    kind: Kind
    codes: tuple[tuple[str, int], ...] = ()  # (label, code) in header order
    minimum: float | None = None
    maximum: float | None = None
    required: Requirement = Requirement.OPTIONAL
    unit: str = ""
    header_override: str | None = None

    @property
    def header(self) -> str:
        """The header text as written in the template: name, then its coding or unit."""
        if self.header_override:
            return self.header_override
        if self.codes:
            coding = ", ".join(f"{label} = {code}" for label, code in self.codes)
            return f"{self.name} ({coding})"
        return f"{self.name} ({self.unit})" if self.unit else self.name

    @property
    def is_identifier(self) -> bool:
        return self.key is None

    @property
    def allowed_codes(self) -> tuple[int, ...]:
        if self.codes:
            return tuple(sorted({code for _, code in self.codes}))
        if self.kind == "code" and self.minimum is not None and self.maximum is not None:
            return tuple(range(int(self.minimum), int(self.maximum) + 1))
        return ()


@dataclass(frozen=True)
class OnlyWhen:
    """``field`` may be filled only when ``parent`` holds one of ``values``.

    ``expected`` adds the converse: when the parent holds one of the values, a blank ``field``
    is a warning (for example Death = Yes with no date of death).
    """

    field: str
    parent: str
    values: frozenset[int]
    meaning: str  # how the condition reads in a message, e.g. "PMH CKD is Yes (1)"
    expected: bool = False


@dataclass(frozen=True)
class DateOrder:
    """``earlier`` must not be after ``later`` when both are given."""

    earlier: str
    later: str
    error: bool = True  # False: a warning (unusual but possible)


@dataclass(frozen=True)
class ResultRule:
    """A test result that contradicts the sheet: Main rows are PCR-positive, Status rows are
    patients who never had a positive swab.

    ``field`` holding ``forbidden`` is an error (``code``, ``message``), unless one of
    ``excused_by`` holds ``excuse``: then it is only a warning (``excused_code``,
    ``excused_message``), as when a first negative test is followed by a positive one. The
    messages are the words the desktop and the collection service both use.
    """

    field: str
    forbidden: int
    code: str
    message: str
    excused_by: tuple[str, ...] = ()
    excuse: int = 1
    excused_code: str = ""
    excused_message: str = ""


@dataclass(frozen=True)
class RecentTest:
    """A test too recent for its outcomes to be known: a warning until ``days`` have passed.

    The first filled field of ``fields`` is the test date; ``message`` takes ``{date}``, the
    first day the row may be sent (UK form).
    """

    fields: tuple[str, ...]
    days: int
    code: str
    message: str


@dataclass(frozen=True)
class Template:
    id: TemplateId
    version: str
    title: str
    sheet_name: str
    upload_action: str
    record_kind: RecordKind
    record_date_format: str
    columns: tuple[Column, ...]
    only_when: tuple[OnlyWhen, ...] = ()
    date_orders: tuple[DateOrder, ...] = ()
    #: Record fields holding the test date, most specific first (date windows, sheet checks).
    test_date_keys: tuple[str, ...] = ()
    result_rules: tuple[ResultRule, ...] = ()
    recent_tests: tuple[RecentTest, ...] = ()
    #: Patients NCCID asks for per upload (the Covid Status sheet's 50), or None.
    requested_rows: int | None = None

    @property
    def record_keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.columns if c.key is not None)

    def column(self, key: str) -> Column:
        for candidate in self.columns:
            if candidate.key == key:
                return candidate
        raise KeyError(key)


#: Dates before this are a typing error (usually the year), not a real event.
IMPLAUSIBLY_OLD = date(1990, 1, 1)
#: Dates before this predate COVID-19 in the UK: possible for a CXR, worth a second look.
BEFORE_COVID = date(2020, 1, 1)

NO_YES_UNKNOWN = {"No": 0, "Yes": 1, "Unknown": 2}
NO_YES = {"No": 0, "Yes": 1}
NEGATIVE_POSITIVE = {"Negative": 0, "Positive": 1}
CXR_SEVERITY = {"Mild": 1, "Moderate": 2, "Severe": 3}
COVID_CODE = {"Normal": 0, "Classic/Probable": 1, "Indeterminate": 2, "Non-covid": 3}

NHS_COLUMN = Column("NHS/CHI Number", None, "nhs", required=Requirement.REQUIRED)
HOSPITAL_COLUMN = Column("Hospital (Internal) Number", None, "hospital",
                         required=Requirement.REQUIRED)


def _coded(name: str, codes: Mapping[str, int], key: str | None = None, **kw: object) -> Column:
    return Column(name, key or name, "code", codes=tuple(codes.items()), **kw)  # type: ignore[arg-type]


def _number(name: str, unit: str = "", lo: float | None = None, hi: float | None = None,
            key: str | None = None, kind: Kind = "number") -> Column:
    return Column(name, key or name, kind, minimum=lo, maximum=hi, unit=unit)


def _date(name: str, required: Requirement = Requirement.OPTIONAL) -> Column:
    return Column(name, name, "date", required=required)


MAIN = Template(
    id="main",
    version="1.0",
    title="Main (PCR-positive)",
    sheet_name="Main",
    upload_action="Upload Main sheet",
    record_kind="data",
    record_date_format="%m/%d/%Y",
    columns=(
        NHS_COLUMN,
        HOSPITAL_COLUMN,
        Column("Hospital", "Hospital", "text"),
        _number("Age", lo=13, hi=103, kind="integer"),
        _coded("Sex", {"Male": 1, "Female": 0}),
        _coded("Smoking status", {"Never": 0, "Ex-smoker": 1, "Current": 2, "Unknown": 3}),
        _number("Pack year history", lo=0, kind="integer"),
        _coded("PMH hypertension", NO_YES_UNKNOWN),
        _coded("PMH CVS disease", {"No": 0, "MI": 1, "Angina": 2, "Stroke": 3,
                                   "More than one of these": 4}),
        _coded("PMH Lung disease", {"No": 0, "COPD": 1, "Fibrosis": 2, "Cystic fibrosis": 3,
                                    "Asthma": 4, "Other": 5, "Unknown": 6}),
        _coded("PMH CKD", NO_YES_UNKNOWN),
        Column("If CKD, stage", "If CKD, stage", "code", minimum=2, maximum=5,
               header_override="If CKD, stage (2, 3, 4, 5)"),
        _coded("PMH diabetes mellitus type II", NO_YES_UNKNOWN),
        _coded("Current ACEi use", NO_YES_UNKNOWN),
        _coded("Current Angiotension receptor blocker use", NO_YES_UNKNOWN),
        _coded("Current NSAID used", NO_YES_UNKNOWN),
        Column("Ethnicity", "Ethnicity", "ethnicity",
               header_override="Ethnicity (NHS ethnic category code A-S)"),
        _date("Date of Positive Covid Swab", Requirement.RECOMMENDED),
        _date("Date of acquisition of 1st RT-PCR"),
        _date("Date of result of 1st RT-PCR"),
        _coded("1st RT-PCR result", NEGATIVE_POSITIVE),
        _date("Date of acquisition of 2nd RT-PCR"),
        _date("Date of result of 2nd RT-PCR"),
        _coded("2nd RT-PCR result", NEGATIVE_POSITIVE),
        _coded("Final COVID Status", NEGATIVE_POSITIVE),
        _date("Date of admission"),
        Column("Duration of symptoms", "Duration of symptoms", "integer", minimum=1,
               unit="days"),
        _number("Respiratory rate on admission", "breaths/min", 0, 100),
        _number("Heart rate on admission", "beats/min", 0, 300),
        _number("FiO2", "%", 21, 100),
        _number("O2 saturation", "%", 0, 100),
        _number("PaO2", "kPa", 0),
        _number("Systolic BP", "mmHg", 0, 300),
        _number("Diastolic BP", "mmHg", 0, 250),
        _number("Temperature on admission", "°C", 25, 45),
        _number("NEWS2 score on arrival", "0-17", 0, 17, kind="integer"),
        _number("WCC on admission", "10^9/L", 0),
        _number("Lymphocyte count on admission", "10^9/L", 0),
        _number("Platelet count on admission", "10^9/L", 0),
        _number("CRP on admission", "mg/L", 0),
        _number("D-dimer on admission", "mg/L", 0),
        _number("Fibrinogen if d-dimer not performed", "g/L", 0, 100,
                key="Fibrinogen  if d-dimer not performed"),
        _number("Ferritin", "ng/mL", 0),
        _number("Urea on admission", "mmol/L", 0, 100),
        _number("Creatinine on admission", "umol/L", 0),
        _number("Troponin I", "ng/L", 0),
        _number("Troponin T", "ng/L", 2.0, 25000),
        _date("Date of 1st CXR"),
        _coded("CXR severity", CXR_SEVERITY),
        _coded("COVID CODE", COVID_CODE),
        _date("Date of 2nd CXR"),
        _coded("CXR severity of 2nd CXR", CXR_SEVERITY, key="CXR severity 3"),
        Column("COVID CODE of 2nd CXR", "COVID CODE 2", "code", codes=tuple(COVID_CODE.items()),
               header_override="COVID CODE of 2nd CXR (same coding)"),
        _coded("ITU admission", NO_YES),
        _date("Date of ITU admission"),
        _number("APACHE score on ITU arrival", "0-71", 0, 71, kind="integer"),
        _coded("Intubation", NO_YES),
        _date("Date of intubation"),
        _coded("Death", NO_YES),
        _date("Date of death"),
        _date("Date last known alive"),
    ),
    only_when=(
        OnlyWhen("If CKD, stage", "PMH CKD", frozenset({1}), "PMH CKD is Yes (1)", True),
        OnlyWhen("Date of ITU admission", "ITU admission", frozenset({1}),
                 "ITU admission is Yes (1)", True),
        OnlyWhen("APACHE score on ITU arrival", "ITU admission", frozenset({1}),
                 "ITU admission is Yes (1)"),
        OnlyWhen("Date of intubation", "Intubation", frozenset({1}), "Intubation is Yes (1)",
                 True),
        OnlyWhen("Date of death", "Death", frozenset({1}), "Death is Yes (1)", True),
    ),
    test_date_keys=("Date of Positive Covid Swab", "Date of acquisition of 1st RT-PCR"),
    result_rules=(
        ResultRule("Final COVID Status", 0, "positive_marked_negative",
                   "Final COVID Status is Negative (0), but the Main sheet is for PCR-positive "
                   "patients. If this patient never had a positive swab, move them to the Covid "
                   "Status (negative) sheet; otherwise enter Positive (1)."),
        ResultRule("1st RT-PCR result", 0, "positive_marked_negative",
                   "1st RT-PCR result is Negative (0) and no result on this row is Positive, but "
                   "the Main sheet is for PCR-positive patients. If this patient never had a "
                   "positive swab, move them to the Covid Status (negative) sheet; otherwise "
                   "correct the results.",
                   excused_by=("Final COVID Status", "2nd RT-PCR result"),
                   excused_code="first_test_negative",
                   excused_message="1st RT-PCR result is Negative (0) while a later result on "
                   "this row is Positive (1). NCCID accepts this (a first test can miss the "
                   "infection): check that both results are right."),
    ),
    recent_tests=(
        RecentTest(("Date of Positive Covid Swab", "Date of acquisition of 1st RT-PCR"), 14,
                   "recent_swab",
                   "This swab is less than 14 days old, so outcomes may not be known yet: send "
                   "after {date}. Leave the row out until then, unless its outcome columns are "
                   "complete."),
    ),
    date_orders=(
        DateOrder("Date of acquisition of 1st RT-PCR", "Date of result of 1st RT-PCR"),
        DateOrder("Date of acquisition of 2nd RT-PCR", "Date of result of 2nd RT-PCR"),
        DateOrder("Date of acquisition of 1st RT-PCR", "Date of acquisition of 2nd RT-PCR",
                  error=False),
        DateOrder("Date of admission", "Date of death"),
        DateOrder("Date of admission", "Date of ITU admission", error=False),
        DateOrder("Date of ITU admission", "Date of death"),
        DateOrder("Date of intubation", "Date of death"),
        DateOrder("Date of 1st CXR", "Date of 2nd CXR"),
        DateOrder("Date last known alive", "Date of death"),
    ),
)

STATUS = Template(
    id="status",
    version="1.0",
    title="Covid Status (PCR-negative)",
    sheet_name="Covid Status",
    upload_action="Upload Covid Status",
    record_kind="status",
    record_date_format="%d/%m/%Y",
    columns=(
        NHS_COLUMN,
        HOSPITAL_COLUMN,
        Column("Date of RT-PCR", "SwabDate", "date", required=Requirement.REQUIRED),
        Column("RT-PCR result", "SwabStatus", "code", required=Requirement.REQUIRED,
               codes=(("COVID-19 negative", 0), ("COVID-19 positive", 1))),
    ),
    test_date_keys=("SwabDate",),
    result_rules=(
        ResultRule("SwabStatus", 1, "negative_marked_positive",
                   "RT-PCR result is COVID-19 positive (1), but the Covid Status sheet is only "
                   "for patients who have never had a positive swab. Put this patient on the "
                   "Main (PCR-positive) sheet instead, or enter 0 if the result was negative."),
    ),
    requested_rows=50,
)

TEMPLATES: dict[str, Template] = {MAIN.id: MAIN, STATUS.id: STATUS}


def template_by_id(template_id: str) -> Template:
    try:
        return TEMPLATES[template_id]
    except KeyError:
        raise ValueError(f"unknown template {template_id!r}") from None
