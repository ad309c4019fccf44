"""De-identify to a folder without sending: for sites that move files by other means.

Why a workflow: ``nccid deid`` and the app's "De-identify to a folder" must do exactly the
same (the NCCID profile, every output verified, quarantine by reason, the audit file beside
the folder), so both run :func:`deidentify_to_folder` and say what it did with
:func:`summary_lines`. Outputs, the summary and the audit hold no source path and no
identifier; only :func:`summary_lines` names files the user must act on, for their own screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nccid_desktop.dicom.deid.audit import audit_record, default_audit_path, write_audit
from nccid_desktop.dicom.deid.one_file import DeidContext
from nccid_desktop.dicom.deid.pipeline import BatchReport, deidentify_batch
from nccid_desktop.dicom.scan.sources import SourceFile, iter_sources
from nccid_desktop.errors import BadInputError, InputNotFoundError
from nccid_desktop.keys import SiteKeys
from nccid_desktop.pseudonym import LinkingIdentifier
from nccid_desktop.tasks import NEVER_CANCELLED, CancelToken, ProgressCallback, no_progress

STATUS_WORDS = {
    "deidentified": "de-identified",
    "duplicate": "were copies of another file (the same image, used once)",
    "held_back": "held back (not sent)",
    "quarantined": "quarantined",
    "refused": "refused (over a size limit, or damaged), not read further",
    "unreadable": "skipped (not DICOM or unreadable)",
    "failed": "failed",
}


@dataclass(frozen=True)
class DeidFolderOutcome:
    report: BatchReport
    sources: list[SourceFile]
    summary: dict[str, Any]

    @property
    def problems(self) -> bool:
        """Files the user must act on (failed, refused, held back); quarantine is not one."""
        summary = self.summary
        return bool(summary["failed"] or summary["refused"] or summary["held_back"])


def deidentify_to_folder(paths: Sequence[Path], out_dir: Path, keys: SiteKeys,
                         linking: LinkingIdentifier, *, quarantine_dir: Path | None = None,
                         audit_path: Path | None = None, workers: int | None = None,
                         progress: ProgressCallback = no_progress,
                         cancel: CancelToken = NEVER_CANCELLED) -> DeidFolderOutcome:
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        raise InputNotFoundError(f"Not found: {', '.join(str(p) for p in missing)}")
    if workers is not None and workers < 1:
        raise BadInputError("--workers must be 1 or more.")
    quarantine = quarantine_dir or out_dir.resolve().parent / "quarantine"
    started = datetime.now(UTC)
    sources = list(iter_sources([str(p) for p in paths], cancel))
    if not sources:
        raise InputNotFoundError("No files were found in the folders and files given.")
    report = deidentify_batch(sources, out_dir, DeidContext(keys, linking),
                              quarantine_dir=quarantine, workers=workers, cancel=cancel,
                              progress=progress)
    audit = write_audit(audit_record(report, site=keys.site, linking=linking, started=started,
                                     finished=datetime.now(UTC)),
                        audit_path or default_audit_path(out_dir, started))
    return DeidFolderOutcome(report, sources, _summary(report, out_dir, audit, quarantine))


def _summary(report: BatchReport, out_dir: Path, audit_path: Path,
             quarantine_dir: Path) -> dict[str, Any]:
    return {
        "deidentified": report.counts.get("deidentified", 0),
        "duplicates": report.counts.get("duplicate", 0),
        "held_back": report.counts.get("held_back", 0),
        "held_back_by_reason": report.by_code("held_back"),
        "quarantined": report.counts.get("quarantined", 0),
        "quarantined_by_reason": report.quarantined_by_code,
        "refused": report.counts.get("refused", 0),
        "refused_by_reason": report.by_code("refused"),
        "skipped": report.counts.get("unreadable", 0),
        "failed": report.counts.get("failed", 0),
        "patients": len(report.pseudonyms),
        "output_bytes": report.output_bytes,
        "cancelled": report.cancelled,
        "out": str(out_dir),
        "quarantine": str(quarantine_dir),
        "audit": str(audit_path),
    }


def _named(outcome: DeidFolderOutcome, status: str) -> list[str]:
    """Each file with ``status`` by its name and reason: for the user's own screen only."""
    return [f"  {outcome.sources[position].display_name}: {result.message}"
            for position, result in outcome.report.with_positions(status)]


def summary_lines(outcome: DeidFolderOutcome) -> list[str]:
    summary, report = outcome.summary, outcome.report
    lines = [f"{summary['deidentified']} files de-identified for {summary['patients']} "
             f"patients into {summary['out']}"]
    if summary["duplicates"]:
        lines.append(f"{summary['duplicates']} files {STATUS_WORDS['duplicate']}")
    if summary["held_back"]:
        lines.append(f"{summary['held_back']} files {STATUS_WORDS['held_back']}:")
        lines += _named(outcome, "held_back")
    if summary["quarantined"]:
        lines.append(f"{summary['quarantined']} files quarantined (not sent), in "
                     f"{summary['quarantine']}:")
        reasons = {o.code: o.message for o in report.outcomes if o.status == "quarantined"}
        for code, count in summary["quarantined_by_reason"].items():
            lines.append(f"  {count} x {code}: {reasons.get(code, '')}")
    if summary["refused"]:
        lines.append(f"{summary['refused']} files {STATUS_WORDS['refused']}:")
        lines += _named(outcome, "refused")
    if summary["skipped"]:
        lines.append(f"{summary['skipped']} files {STATUS_WORDS['unreadable']}")
    if summary["failed"]:
        lines.append(f"{summary['failed']} files failed (details in the audit file)")
    if summary["cancelled"]:
        lines.append("Cancelled: the files above were finished; the rest were not started.")
    lines.append(f"Audit: {summary['audit']}")
    return lines
