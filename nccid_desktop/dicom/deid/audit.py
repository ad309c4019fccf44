"""The audit file of a de-identification run: what happened to each file, and nothing more.

Why no identifiers and no paths: the audit is kept and may be shown to information governance
or support; source paths often contain patient names. Each file is keyed by its new
(remapped) SOP Instance UID when it has one, else by a content hash of the source, so a file
can be traced by someone who holds it without the audit saying where it was. Statuses:
deidentified, duplicate (a copy of another file's image, used once), held_back (another image
has the same identifier), quarantined, refused (over a size limit), unreadable, failed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nccid_desktop import __version__
from nccid_desktop.dicom.deid.one_file import FileOutcome
from nccid_desktop.dicom.deid.pipeline import BatchReport
from nccid_desktop.dicom.deid.profile import METHOD_CODES, describe

AUDIT_FORMAT = "nccid-deid-audit"
AUDIT_VERSION = 1


def file_entry(outcome: FileOutcome) -> dict[str, Any]:
    """One file's audit line: key, status, reason code and message, pseudonym, size.

    Files held back share their SOP Instance UID with another file, so they are keyed by
    their content hash when it is known, and the shared UID is given beside it.
    """
    held_back = outcome.status == "held_back"
    if outcome.sop_instance_uid and not (held_back and outcome.source_key):
        key = outcome.sop_instance_uid
    elif outcome.source_key:
        key = f"sha256:{outcome.source_key}"
    else:
        key = ""
    entry: dict[str, Any] = {"key": key, "status": outcome.status}
    if held_back and outcome.sop_instance_uid:
        entry["sop_instance_uid"] = outcome.sop_instance_uid
    if outcome.code:
        entry["code"] = outcome.code
        entry["reason"] = outcome.message
    if outcome.output is not None:
        entry["output"] = outcome.output.name
    if outcome.pseudonym:
        entry["pseudonym"] = outcome.pseudonym
    entry["bytes"] = outcome.bytes
    return entry


def audit_record(report: BatchReport, *, site: str, linking: str,
                 started: datetime, finished: datetime,
                 overrides: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """The whole audit as JSON-ready data.

    ``overrides`` are the series the user ticked in although the selection rules left them
    out, as :func:`nccid_desktop.dicom.select.rules.override_audit` describes them (warehouse
    UIDs, pseudonyms and the rules' reasons only).
    """
    return {
        "format": AUDIT_FORMAT,
        "version": AUDIT_VERSION,
        "tool": f"nccid-desktop {__version__}",
        "site": site,
        "linking": linking,
        "profile": describe(),
        "profile_codes": [code for code, _ in METHOD_CODES],
        "started": started.astimezone(UTC).isoformat(timespec="seconds"),
        "finished": finished.astimezone(UTC).isoformat(timespec="seconds"),
        "cancelled": report.cancelled,
        "not_started": report.not_started,
        "counts": dict(report.counts),
        "quarantined_by_reason": dict(report.quarantined_by_code),
        "held_back_by_reason": report.by_code("held_back"),
        "refused_by_reason": report.by_code("refused"),
        "patients": len(report.pseudonyms),
        "output_bytes": report.output_bytes,
        "selection_overrides": [dict(entry) for entry in overrides],
        "files": [file_entry(o) for o in report.outcomes],
    }


def default_audit_path(out_dir: Path, when: datetime) -> Path:
    """``<out_dir's parent>/nccid-deid-audit-<UTC time>.json``: beside, not inside, staging."""
    stamp = when.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path(out_dir).resolve().parent / f"nccid-deid-audit-{stamp}.json"


def write_audit(record: dict[str, Any], path: Path) -> Path:
    """Write the audit atomically (a reader never sees half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return path
