"""Value rules of the NCCID profile: dummies, shifted dates, birth year, age, clean descriptors.

Why apart from the walker: these are small pure functions on text, easy to test one by one
and shared by the de-identifier and its tests; the walker only decides which one to call.
Every function fails closed: a value it cannot parse is dropped, never passed through.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

#: Dummy values (Basic Profile action D) by VR: valid for the VR, meaning nothing.
DUMMY_VALUES: Mapping[str, Any] = {
    "AE": "ANONYMOUS", "AS": "000Y", "CS": "ANONYMOUS", "DA": "19000101",
    "DS": "0", "DT": "19000101000000", "IS": "0", "LO": "ANONYMOUS", "LT": "ANONYMOUS",
    "PN": "ANONYMOUS", "SH": "ANONYMOUS", "ST": "ANONYMOUS", "TM": "000000",
    "UC": "ANONYMOUS", "UR": "ANONYMOUS", "UT": "ANONYMOUS",
    "FL": 0.0, "FD": 0.0, "SL": 0, "SS": 0, "UL": 0, "US": 0, "SV": 0, "UV": 0,
    "OB": b"\x00\x00", "OD": b"\x00" * 8, "OF": b"\x00" * 4, "OL": b"\x00" * 4,
    "OV": b"\x00" * 8, "OW": b"\x00\x00", "UN": b"\x00\x00", "AT": 0,
}

#: Identifying attributes whose values a kept descriptor must not contain (top level).
NAME_KEYWORDS = (
    "PatientName", "OtherPatientNames", "PatientBirthName", "PatientMotherBirthName",
    "ReferringPhysicianName", "PerformingPhysicianName", "NameOfPhysiciansReadingStudy",
    "OperatorsName", "RequestingPhysician", "PhysiciansOfRecord", "ResponsiblePerson",
)
ID_KEYWORDS = (
    "PatientID", "OtherPatientIDs", "AccessionNumber", "StudyID", "AdmissionID",
    "MedicalRecordLocator", "PatientAddress", "PatientTelephoneNumbers", "InstitutionName",
    "InstitutionAddress", "InstitutionalDepartmentName", "RequestedProcedureID",
)
MIN_IDENTIFYING_LENGTH = 3
_NAME_PARTS = re.compile(r"[\^=\s,.]+")
_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})")


def raw_text_values(value: bytes) -> list[str]:
    """The values of a raw string element as the profile reads them: Latin-1, split at
    backslashes, padding stripped; none when the element is blank."""
    text = value.decode("latin-1")
    return [v.strip(" \x00") for v in text.split("\\")] if text.strip(" \x00") else []


def dummy_value(vr: str) -> Any:
    return DUMMY_VALUES.get(vr, "ANONYMOUS")


def _parse_date(text: str) -> date | None:
    match = _DATE.match(text)
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def shift_date(text: str, days: int, vr: str) -> str | None:
    """``text`` (DA ``YYYYMMDD`` or DT ``YYYYMMDD...``) moved by ``days``; None if unparsable.

    The time and offset of a DT stay as they are: the shift is in whole days.
    """
    text = text.strip()
    parsed = _parse_date(text)
    if parsed is None or (vr == "DA" and len(text) != 8):
        return None
    try:
        moved = parsed + timedelta(days=days)
    except OverflowError:
        return None
    return moved.strftime("%Y%m%d") + text[8:]


def shift_dates(values: Iterable[str], days: int, vr: str) -> list[str]:
    """Every value shifted; values that are not dates are dropped (fail closed)."""
    shifted = (shift_date(v, days, vr) for v in values if v.strip())
    return [v for v in shifted if v is not None]


def birth_year(text: str) -> str:
    """The birth date reduced to its year (``YYYY0101``), or empty when it is not a date."""
    parsed = _parse_date(text.strip())
    return f"{parsed.year:04d}0101" if parsed else ""


def patient_age(birth: str, on: str) -> str | None:
    """DICOM age string (``NNNY``, or ``NNNM``/``NNNW``/``NNND`` for infants) at date ``on``."""
    born, seen = _parse_date(birth.strip()), _parse_date(on.strip())
    if born is None or seen is None or seen < born:
        return None
    years = seen.year - born.year - ((seen.month, seen.day) < (born.month, born.day))
    if years >= 2:
        return f"{min(years, 999):03d}Y"
    months = (seen.year - born.year) * 12 + seen.month - born.month - (seen.day < born.day)
    if months >= 1:
        return f"{months:03d}M"
    days = (seen - born).days
    return f"{days // 7:03d}W" if days >= 7 else f"{days:03d}D"


def _values(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (bytes, bytearray)):
        return []
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return [str(v) for v in value]
    return [str(value)]


def _date_forms(text: str) -> list[str]:
    parsed = _parse_date(text)
    if parsed is None:
        return []
    return [parsed.strftime(f) for f in ("%Y%m%d", "%d/%m/%Y", "%d.%m.%Y", "%Y-%m-%d",
                                         "%d-%m-%Y", "%d%m%Y")]


def identifying_strings(ds: Any) -> frozenset[str]:
    """Upper-case strings that identify the patient of ``ds`` (names, name parts, IDs, ...).

    Read before de-identifying; used to decide whether a descriptor may be kept.
    """
    found: set[str] = set()
    for keyword in NAME_KEYWORDS:
        for name in _values(ds.get(keyword)):
            found.add(name.strip())
            found.update(_NAME_PARTS.split(name))
    for keyword in ID_KEYWORDS:
        found.update(v.strip() for v in _values(ds.get(keyword)))
    for item in ds.get("OtherPatientIDsSequence") or ():
        found.update(v.strip() for v in _values(item.get("PatientID")))
    for birth in _values(ds.get("PatientBirthDate")):
        found.update(_date_forms(birth.strip()))
    return frozenset(s.upper() for s in found if len(s) >= MIN_IDENTIFYING_LENGTH)


_IDENTIFYING_CACHE: dict[tuple[Any, ...], frozenset[str]] = {}
_IDENTIFYING_CACHE_SIZE = 64


def identifying_strings_once(key: tuple[Any, ...], ds: Any) -> frozenset[str]:
    """:func:`identifying_strings` of ``ds``, computed once per ``key`` in this process.

    Why: a CT series repeats the same patient module in every slice. ``key`` must hold every
    input of the function as read from the file (raw bytes, VR, encoding), so that a slice
    that carries one more name, or any other difference, is a different key: never a stale
    answer. The cache is small and emptied when full: one batch holds a few patients.
    """
    found = _IDENTIFYING_CACHE.get(key)
    if found is None:
        if len(_IDENTIFYING_CACHE) >= _IDENTIFYING_CACHE_SIZE:
            _IDENTIFYING_CACHE.clear()
        found = _IDENTIFYING_CACHE[key] = identifying_strings(ds)
    return found


def contains_identifier(text: str, identifying: Iterable[str]) -> bool:
    """Whether ``text`` contains any identifying string (case-insensitive substring)."""
    upper = text.upper()
    return any(s in upper for s in identifying)
