"""Valid sheet rows become pseudonymised warehouse records in their upload envelopes.

Why here and not in the validator: the validator needs no keys and runs before the nurse signs
in; pseudonymising needs the site keys. The record is exactly the warehouse file content
(every key of the template, all strings, ``Pseudonym`` and ``SubmittingCentre``); the NHS
index and linkage token travel beside it in the envelope, never inside it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from nccid_desktop.errors import IdentifierError, NccidError, SheetError
from nccid_desktop.keys import SiteKeys
from nccid_desktop.optouts import OptOutList
from nccid_desktop.pseudonym import LinkingIdentifier, linkage_token, nhs_index, pseudonym_for
from nccid_desktop.records import ClinicalEnvelope
from nccid_desktop.sheets.definitions import template_by_id
from nccid_desktop.sheets.findings import ValidationReport
from nccid_desktop.tasks import NEVER_CANCELLED, CancelToken, Progress, ProgressCallback, no_progress


def opted_out_rows(report: ValidationReport, opt_outs: OptOutList | None) -> int:
    """How many of the rows ready to upload belong to patients on the opt-out list."""
    if opt_outs is None:
        return 0
    return sum(opt_outs.has(row.nhs_number) for row in report.valid_rows)


def build_envelopes(
    report: ValidationReport,
    keys: SiteKeys,
    *,
    centre: str | None = None,
    linking: LinkingIdentifier = "hospital",
    allow_partial: bool = False,
    opt_outs: OptOutList | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken = NEVER_CANCELLED,
) -> list[ClinicalEnvelope]:
    """One envelope per row without errors, except rows of patients on ``opt_outs`` (never
    pseudonymised: :func:`opted_out_rows` counts them).

    Errors block the whole sheet unless ``allow_partial`` (then rows with errors are left
    out): a nurse fixes the sheet and uploads it again, rather than half of it going. A
    problem with the sheet itself (wrong template, changed columns) always blocks.
    """
    if report.template is None:
        raise SheetError("The sheet was not recognised as an NCCID template.")
    sheet_errors = [f for f in report.errors if f.row is None]
    if sheet_errors:
        raise NccidError("The sheet itself has a problem that must be fixed before anything is "
                         "uploaded: " + sheet_errors[0].message)
    if report.error_count and not allow_partial:
        raise NccidError(f"The sheet has {report.error_count} problem(s) that must be fixed "
                         "before anything is uploaded. Check it, fix them and try again.")
    template = template_by_id(report.template)
    record_keys = template.record_keys
    centre = (centre or keys.site).strip()
    envelopes: list[ClinicalEnvelope] = []
    seen: dict[str, int] = {}
    total = len(report.valid_rows)
    for done, row in enumerate(report.valid_rows, start=1):
        cancel.raise_if_cancelled()
        if opt_outs is not None and opt_outs.has(row.nhs_number):
            continue
        if any(row.nhs_number in value for value in row.values):
            raise IdentifierError(f"Row {row.row} holds the patient's NHS/CHI number outside "
                                  "the NHS/CHI Number column; nothing was pseudonymised.")
        pseudonym = pseudonym_for(keys, hospital_number=row.hospital_number,
                                  nhs_number=row.nhs_number, linking=linking)
        if pseudonym in seen:
            raise NccidError(f"Rows {seen[pseudonym]} and {row.row} are the same patient. "
                             "Each patient must appear only once in the sheet.")
        seen[pseudonym] = row.row
        record = dict(zip(record_keys, row.values, strict=True))
        record["Pseudonym"] = pseudonym
        record["SubmittingCentre"] = centre
        envelopes.append(ClinicalEnvelope(
            kind=template.record_kind,
            pseudonym=pseudonym,
            site=keys.site,
            record=record,
            nhs_index=nhs_index(keys, row.nhs_number),
            linkage_token=linkage_token(keys, row.nhs_number),
            row=row.row,
        ))
        if done % 250 == 0 or done == total:
            progress(Progress(done, total, f"Pseudonymised {done} of {total} rows"))
    return envelopes


def warehouse_json(envelope: ClinicalEnvelope) -> bytes:
    """The warehouse file content: the record only, never the index or the token."""
    return (json.dumps(envelope.record, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def write_warehouse_files(envelopes: Iterable[ClinicalEnvelope], out_dir: Path | str) -> list[Path]:
    """Write ``<Pseudonym>_data.json`` / ``_status.json`` files into ``out_dir``.

    Like the warehouse, an existing file is never overwritten: the same content is left as it
    is, a different content is refused (a correction belongs in a new folder).
    """
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError:
        raise NccidError("The output folder cannot be created.") from None
    written: list[Path] = []
    for envelope in envelopes:
        target = out / envelope.warehouse_name
        content = warehouse_json(envelope)
        if target.exists():
            if target.read_bytes() == content:
                continue
            raise NccidError(f"{target.name} already exists in the output folder with different "
                             "content. Use an empty folder for a corrected sheet.")
        temporary = target.with_name(target.name + ".part")
        temporary.write_bytes(content)
        os.replace(temporary, target)
        written.append(target)
    return written
