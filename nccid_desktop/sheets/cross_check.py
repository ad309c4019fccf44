"""The same patient on both sheets: compared by pseudonym, within one check and against what
the collection service already holds.

Why pseudonyms: the two sheets are filled separately (often by different people), and the
service holds no identifier at all, only pseudonyms. The guidance defines a negative as a
patient who has never had a positive swab, so a patient on the Main (positive) sheet cannot
also be a negative. Within one upload that is an error on both rows. Against the service:
an older Covid Status record held for a patient now uploaded as positive is a warning (this
upload is right; the older record must go), and a new Covid Status row for a patient the
service holds as positive is an error. Each finding names the identifier cell it is about.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from nccid_desktop.errors import IdentifierError
from nccid_desktop.keys import SECRET_BYTES, SiteKeys
from nccid_desktop.optouts import OptOutList
from nccid_desktop.pseudonym import LinkingIdentifier, is_pseudonym, pseudonym_for
from nccid_desktop.sheets.definitions import TEMPLATES
from nccid_desktop.sheets.findings import Finding, Severity, ValidationReport

UK_DATE = "%d/%m/%Y"
HeldKind = Literal["positive", "negative"]


@dataclass(frozen=True)
class SheetPatient:
    """One sheet row as its pseudonym and the cell that identifies it (no identifier kept)."""

    template: str
    row: int
    column: str | None
    header: str
    pseudonym: str = field(repr=False)
    test_date: date | None = None

    @property
    def cell(self) -> str:
        return f"{self.column}{self.row}" if self.column else f"row {self.row}"

    def finding(self, severity: Severity, code: str, message: str) -> Finding:
        return Finding(severity, code, message, self.row, self.column, self.header)


@dataclass(frozen=True)
class HeldRecord:
    """A clinical record the service holds: its pseudonym, whether it says positive or
    negative, and its test date when known (the ``/clinical/windows`` answer)."""

    pseudonym: str
    kind: HeldKind
    test_date: date | None = None


def sheet_patients(report: ValidationReport, keys: SiteKeys,
                   linking: LinkingIdentifier = "hospital",
                   opt_outs: OptOutList | None = None) -> list[SheetPatient]:
    """Every row of the report whose linking identifier is usable, as a pseudonym; rows of
    patients on ``opt_outs`` are never pseudonymised, not even to be compared."""
    if report.template is None:
        return []
    kind = "nhs" if linking == "nhs" else "hospital"
    letter = report.identifier_columns.get(kind)
    header = report.headers.get(letter or "", "")
    found = []
    for patient in report.patients:
        if opt_outs is not None and opt_outs.has(patient.nhs_number):
            continue
        try:
            pseudonym = pseudonym_for(keys, hospital_number=patient.hospital_number,
                                      nhs_number=patient.nhs_number, linking=linking)
        except IdentifierError:
            continue
        found.append(SheetPatient(report.template, patient.row, letter, header, pseudonym,
                                  patient.test_date))
    return found


def held_from_windows(patients: Iterable[Mapping[str, Any]]) -> list[HeldRecord]:
    """What the service holds, from its ``/clinical/windows`` answer (``patients`` list).

    A patient without a dated record says nothing about positive or negative and is skipped;
    malformed entries are skipped too (this only ever adds warnings and errors).
    """
    held = []
    for patient in patients:
        pseudonym = patient.get("pseudonym")
        if not isinstance(pseudonym, str) or not is_pseudonym(pseudonym):
            continue
        for window in patient.get("windows") or ():
            kind = window.get("kind") if isinstance(window, Mapping) else None
            if kind not in ("positive", "negative"):
                continue
            try:
                day: date | None = date.fromisoformat(str(window.get("test_date")))
            except ValueError:
                day = None
            held.append(HeldRecord(pseudonym, kind, day))
    return held


def _sheet_words(template_id: str) -> str:
    return f"the {TEMPLATES[template_id].sheet_name} sheet"


def _on(date_words: date | None, prefix: str) -> str:
    return f" ({prefix} {date_words.strftime(UK_DATE)})" if date_words else ""


def findings_between_sheets(main: Sequence[SheetPatient], status: Sequence[SheetPatient]
                            ) -> list[tuple[SheetPatient, Finding]]:
    """Errors on both rows of each patient found on the Main and the Covid Status sheet."""
    positives: dict[str, SheetPatient] = {}
    for patient in main:
        positives.setdefault(patient.pseudonym, patient)
    found = []
    for negative in status:
        positive = positives.get(negative.pseudonym)
        if positive is None:
            continue
        found.append((positive, positive.finding(
            Severity.ERROR, "on_both_sheets",
            f"This patient is also on {_sheet_words(negative.template)} (row {negative.row}, "
            f"cell {negative.cell}). A patient with a positive swab is never a negative: "
            f"remove them from {_sheet_words(negative.template)}.")))
        found.append((negative, negative.finding(
            Severity.ERROR, "on_both_sheets",
            f"This patient is also on {_sheet_words(positive.template)} (row {positive.row}, "
            f"cell {positive.cell}), so they have had a positive swab. The Covid Status sheet "
            "is only for patients who never had one: remove them from this sheet.")))
    return found


def findings_against_held(patients: Sequence[SheetPatient], held: Iterable[HeldRecord]
                          ) -> list[tuple[SheetPatient, Finding]]:
    """Findings for rows that contradict a record the service already holds.

    ``held`` comes from the service (see :func:`held_from_windows`): pseudonyms and dates
    only. A Main row whose patient has an older negative record: a warning saying how to
    withdraw it. A Covid Status row whose patient the service holds as positive: an error.
    """
    by_pseudonym: dict[str, list[HeldRecord]] = {}
    for record in held:
        by_pseudonym.setdefault(record.pseudonym, []).append(record)
    found = []
    for patient in patients:
        records = by_pseudonym.get(patient.pseudonym, [])
        wanted: HeldKind = "negative" if patient.template == "main" else "positive"
        matching = [r for r in records if r.kind == wanted]
        if not matching:
            continue
        day = max((r.test_date for r in matching if r.test_date), default=None)
        if patient.template == "main":
            found.append((patient, patient.finding(
                Severity.WARNING, "negative_record_held",
                "The collection service already holds an older Covid Status (negative) record "
                f"for this patient{_on(day, 'test on')}. NCCID's negatives must never have had "
                "a positive swab, so that record is now wrong: upload this row, then ask your "
                "site's NCCID administrator to withdraw the patient's Covid Status record "
                "(this row supersedes it).")))
        else:
            found.append((patient, patient.finding(
                Severity.ERROR, "positive_record_held",
                "The collection service already holds a Main (PCR-positive) record for this "
                f"patient{_on(day, 'positive swab on')}. The Covid Status sheet is only for "
                "patients who never had a positive swab: remove them from this sheet.")))
    return found


def check_together(main: ValidationReport | None, status: ValidationReport | None,
                   keys: SiteKeys | None, *, linking: LinkingIdentifier = "hospital",
                   held: Iterable[HeldRecord] = (), opt_outs: OptOutList | None = None,
                   ) -> None:
    """Add the cross-sheet findings to the reports (either may be None: one sheet against
    what the service holds). Rows given an error leave the rows ready to upload.

    Without the site keys (a nurse checking two sheets before signing in), a key made for
    this check alone is used: its pseudonyms match rows within this check, which is all two
    workbooks need, but never what the service holds.
    """
    held = list(held)
    if keys is None:
        if held:
            raise ValueError("the site keys are needed to compare with what the service holds")
        keys = SiteKeys("CHECK", secrets.token_bytes(SECRET_BYTES), b"")
    reports = {r.template: r for r in (main, status) if r is not None and r.template}
    patients = {template: sheet_patients(report, keys, linking, opt_outs)
                for template, report in reports.items()}
    found = findings_between_sheets(patients.get("main", []), patients.get("status", []))
    for group in patients.values():
        found += findings_against_held(group, held)
    for template, report in reports.items():
        report.add(*(finding for patient, finding in found if patient.template == template))
